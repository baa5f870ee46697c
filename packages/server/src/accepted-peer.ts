import { sweepSilence } from './silence.js'
import { ErrorCode, Queue, WebSocketPeer, WebSocketState, type InboxEntry, type Packet, type PeerSink, type SocketDriver } from '@wsmp/client'

/** The shared empty inbox and queue of accepted connections that have not used theirs (never written to). */
const NO_ENTRIES = Object.freeze([]) as unknown as InboxEntry[]
const NO_PACKETS = new Queue<Packet>()
/** The previous connection's URL: most clients ask for the same one, which then share one string. */
let lastUrl = ''

/**
 * A connection a server accepted — on its own socket or on a cluster edge — as `getPeer(id)`
 * hands it out: a `WebSocketPeer` that starts OPEN, reports to the server role (its `sink`), keeps
 * no inbox or queue of its own until one is used (an idle connection holds neither), and can write
 * batches of small frames at once (peer announcements).
 * @internal
 */
export class AcceptedPeer extends WebSocketPeer {
  /** What the client sent lately against the rate limits (made at its first message). */
  _bucket: { at: number; packets: number; bytes: number } | null = null
  /** The silence watch's marks (see sweepSilence). */
  _readMark = 0
  _silentSweeps = 0

  constructor(socket: unknown, driver: SocketDriver, requestedUrl: string, template: WebSocketPeer, sink: PeerSink) {
    super()
    template._copySettingsTo(this)
    this._sink = sink
    this._inbox = NO_ENTRIES
    this._queue = NO_PACKETS
    this._requestedUrl = requestedUrl === lastUrl ? lastUrl : (lastUrl = requestedUrl)
    this._state = WebSocketState.OPEN
    this._socket = socket
    this._driver = driver
    this._protocol = driver.protocol(socket)
    this._startHeartbeat()
  }

  /**
   * @internal One sweep of the server's silence watch (see `peerTimeout` and sweepSilence): true
   * when the connection is gone; a silent one is pinged. One whose driver cannot tell is never gone.
   */
  _silentSweep(): boolean {
    const driver = this._driver
    const socket = this._socket
    if (!driver.bytesRead || socket === null) return false
    const verdict = sweepSilence(this, driver.bytesRead(socket), this._paused)
    if (verdict === 'silent') driver.ping?.(socket)
    return verdict === 'gone'
  }

  /** @internal The bytes the socket under this connection has taken so far (-1 where the driver cannot tell). */
  _bytesTaken(): number {
    const socket = this._socket
    return socket !== null && this._driver.bytesTaken ? this._driver.bytesTaken(socket) : -1
  }

  protected override _entries(): InboxEntry[] {
    if (this._inbox === NO_ENTRIES) this._inbox = []
    return this._inbox
  }

  protected override _packets(): Queue<Packet> {
    if (this._queue === NO_PACKETS) this._queue = new Queue<Packet>()
    return this._queue
  }

  /**
   * @internal Sends `count` small binary messages at once: `wire` holds them as WebSocket frames
   * (written as they are where the socket allows), `payloads` makes them one by one otherwise;
   * `size` is their payload bytes. `ERR_OUT_OF_MEMORY`, nothing sent, when they do not fit under
   * `outboundBufferSize` plus `extra`.
   */
  _sendBatch(wire: Uint8Array, payloads: () => Uint8Array[], count: number, size: number, extra = 0): ErrorCode {
    const socket = this._socket
    if (socket === null || this._state !== WebSocketState.OPEN) return this._fail(ErrorCode.FAILED, 'send: the connection is not open')
    if (!this._fits(size, extra)) return this._fail(ErrorCode.ERR_OUT_OF_MEMORY, `send: ${size} bytes would pass outboundBufferSize (${this.outboundBufferSize})`)
    const driver = this._driver
    if (driver.sendWire) driver.sendWire(socket, wire, payloads)
    else for (const payload of payloads()) driver.send(socket, payload, true)
    this._stats.packetsOut += count
    this._stats.bytesOut += size
    return ErrorCode.OK
  }
}
