import {
  CloseCode,
  ConnectionStatus,
  Deferred,
  DropReason,
  ErrorCode,
  FrameKind,
  RAW_OVERHEAD,
  RELAY_OVERHEAD,
  TARGET_PEER_SERVER,
  TransferMode,
  decodeIdMessage,
  decodeRelayedPacket,
  decodeSceneFrame,
  encodeRawPacket,
  encodeRelayCommand,
  encodeRelayPacket,
  type TLSOptions,
} from '@wsmp/core'
import type { PeerRole } from './role.js'
import { SceneAuth } from './scene-auth.js'
import { WebSocketPeer, type PeerSink, type PeerStats } from './websocket-peer.js'
import type { WebSocketMultiplayerPeer } from './websocket-multiplayer-peer.js'

/** The id of the server, as seen by a client. */
const SERVER_ID = TARGET_PEER_SERVER
/** A send to nobody (see ClientRole._relayedTarget). */
const SKIP = 'skip'

/**
 * The client side of a {@link WebSocketMultiplayerPeer} (`createClient`): one connection to the
 * server (peer 1), the id handshake, SceneMultiplayer's announcements and relay as a client, and
 * client-side auth. Events arrive from the connection on the event loop; what the application
 * sees is queued for `poll()`.
 * @internal
 */
export class ClientRole implements PeerRole, PeerSink {
  readonly server = false
  /** The connection to the server (kept after it closes, for its counters). */
  private readonly _peer: WebSocketPeer
  /** The id the server gave us; 0 until it arrives. */
  private _id = 0
  /** The connection failed before admission (connection_failed queued). */
  private _failed = false
  /** Set by `disconnectPeer(1)`: the close that follows is this client's doing, not the server's. */
  private _leaving = false
  private _deadline = 0
  private _timer: ReturnType<typeof setTimeout> | null = null
  /** Peers the server announced, as of the last poll. */
  private readonly _relayed = new Set<number>()
  /** The server while SceneMultiplayer auth is in progress (client side). */
  private readonly _auth: SceneAuth
  /** Both sides completed auth (or none was needed): `peer_connected(1)` is queued or emitted. */
  private _admitted = false

  constructor(private readonly _owner: WebSocketMultiplayerPeer) {
    const peer = new WebSocketPeer()
    _owner._template._copySettingsTo(peer)
    peer._sink = this
    peer._id = SERVER_ID
    this._peer = peer
    this._auth = new SceneAuth(_owner, {
      sendAuthFrame: (_id, frame) => this._send(frame, TransferMode.RELIABLE, 0),
      admit: () => this._admitServer(),
      expire: () => this._peer.close(CloseCode.NORMAL, ''),
    })
  }

  /** Starts the connection; OK means CONNECTING. */
  connect(url: string, tls: TLSOptions | null): ErrorCode {
    const owner = this._owner
    const err = this._peer._connect(url, tls, 'createClient')
    if (err !== ErrorCode.OK) return owner._fail(err, this._peer.getLastError())
    const timeout = owner.handshakeTimeout * 1000
    this._deadline = Date.now() + timeout
    const timer = setTimeout(() => this._handshakeExpired(), timeout)
    ;(timer as { unref?: () => void }).unref?.()
    this._timer = timer
    return ErrorCode.OK
  }

  /**
   * Godot's `send_command` as a client: what is not for the server goes in a RELAY to it, any
   * target (0, −n, another client, oneself: the server echoes that back). With `serverRelay` off
   * the server is the only peer.
   */
  putPacket(payload: Uint8Array, target: number, mode: number, channel: number): ErrorCode {
    const owner = this._owner
    if (owner.framing === 'raw') return this._send(payload, mode, channel)
    const relayed = this._relayedTarget(target, 'putPacket')
    if (relayed === null) return ErrorCode.ERR_INVALID_PARAMETER
    if (relayed === SKIP) return ErrorCode.OK
    return this._send(relayed ? encodeRelayPacket(target, payload) : encodeRawPacket(payload), mode, channel)
  }

  sendCommand(target: number, packet: Uint8Array, mode: number, channel: number): ErrorCode {
    const relayed = this._relayedTarget(target, 'sendCommand')
    if (relayed === null) return ErrorCode.ERR_INVALID_PARAMETER
    if (relayed === SKIP) return ErrorCode.OK
    return this._send(relayed ? encodeRelayCommand(target, packet) : packet, mode, channel)
  }

  overhead(target: number): number {
    if (this._owner.framing === 'raw') return 0
    return target === SERVER_ID ? RAW_OVERHEAD : RELAY_OVERHEAD
  }

  /**
   * Without `force`: closes the connection (1000); `peer_disconnected(1)` and `server_disconnected`
   * follow once it has closed. With it, as Godot: DISCONNECTED at once and `server_disconnected`
   * at the next poll.
   */
  disconnectPeer(id: number, force: boolean): void {
    const owner = this._owner
    if (id !== SERVER_ID || owner._status === ConnectionStatus.DISCONNECTED) {
      owner._warn(`disconnectPeer: peer ${id} is not connected${id !== SERVER_ID ? ' (a client has only the server, 1)' : ''}`)
      return
    }
    if (!force) {
      this._leaving = true
      this._peer.close(CloseCode.NORMAL, '')
      return
    }
    const wasConnected = owner._status === ConnectionStatus.CONNECTED
    this.close()
    owner._resetQueues()
    owner._status = ConnectionStatus.DISCONNECTED
    owner._uniqueId = 0
    this._relayed.clear()
    const reason = 'disconnected from the server by this client (disconnectPeer(1, true))'
    owner._lastError = reason
    // SceneMultiplayer sees the status drop at its next poll and says so, as in Godot.
    if (wasConnected) owner._enqueue(new Deferred(() => owner._events.emit('server_disconnected', reason)))
    else owner._enqueue(new Deferred(() => owner._events.emit('connection_failed', reason)))
  }

  getPeer(id: number): WebSocketPeer | null {
    if (id === SERVER_ID && this._owner._status !== ConnectionStatus.DISCONNECTED) return this._peer
    this._owner._fail(ErrorCode.ERR_DOES_NOT_EXIST, `getPeer: no connection to peer ${id}`)
    return null
  }

  isIdTaken(): boolean {
    return false
  }

  getStats(): PeerStats {
    return this._peer._stats
  }

  sendAuth(id: number, data: Uint8Array): ErrorCode {
    return this._auth.send(id, data)
  }

  completeAuth(id: number): ErrorCode {
    return this._auth.complete(id)
  }

  beforePoll(): void {
    // Browsers have no drain event: held UNRELIABLE_ORDERED packets go out when they fit at a poll.
    this._peer._flushHeld()
    if (this._owner._status === ConnectionStatus.CONNECTING && this._id === 0 && !this._failed && Date.now() >= this._deadline) {
      this._handshakeExpired()
    }
  }

  close(): void {
    this._stopTimer()
    this._auth.clear()
    const peer = this._peer
    peer._sink = null
    peer.close(CloseCode.NORMAL, '')
  }

  // ---- PeerSink: the connection to the server ----------------------------------------------

  onOpen(): void {
    // The upgrade is done; admission waits for the id message.
  }

  onMessage(peer: WebSocketPeer, data: Uint8Array, isString: boolean): void {
    if (this._failed) return
    const owner = this._owner
    if (this._id === 0) {
      this._idMessage(peer, data)
      return
    }
    if (owner.framing === 'raw') {
      owner._queuePacket(peer, data, SERVER_ID, isString)
      return
    }
    const frame = owner._frame
    const kind = decodeSceneFrame(data, frame)
    if (this._auth.has(SERVER_ID)) {
      // Until both sides completed auth, only AUTH passes (Godot drops the rest with an error).
      if (kind === FrameKind.AUTH) this._auth.received(SERVER_ID, data, frame.offset)
      else owner._dropped(peer._stats, DropReason.UNAUTHENTICATED, SERVER_ID)
      return
    }
    switch (kind) {
      case FrameKind.PACKET:
        owner._queuePacket(peer, data.subarray(frame.offset), SERVER_ID, isString)
        return
      case FrameKind.COMMAND:
        owner._sceneCommand(peer, data, 0, SERVER_ID)
        return
      case FrameKind.RELAY: {
        if (!owner.serverRelay) {
          frame.reason = DropReason.RELAY_DISABLED
          break
        }
        const source = frame.peer
        const at = decodeRelayedPacket(data, frame.offset, frame)
        if (at < 0) break
        if (source < 2) {
          frame.reason = DropReason.MALFORMED
          break
        }
        if (frame.kind === FrameKind.COMMAND) owner._sceneCommand(peer, data, at, source)
        else owner._queuePacket(peer, data.subarray(at), source, isString)
        return
      }
      case FrameKind.ADD_PEER:
      case FrameKind.DEL_PEER: {
        if (!owner.serverRelay) {
          frame.reason = DropReason.RELAY_DISABLED
          break
        }
        const id = frame.peer
        if (id < 2 || id === this._id) {
          frame.reason = DropReason.MALFORMED
          break
        }
        const added = frame.kind === FrameKind.ADD_PEER
        owner._enqueue(new Deferred(() => this._relayedPeer(id, added)))
        return
      }
      case FrameKind.AUTH:
        // After admission a stray "completed" is ignored, as in Godot; data is not expected.
        if (data.length === frame.offset) return
        frame.reason = DropReason.NOT_INTERPRETED
        break
    }
    owner._dropped(peer._stats, frame.reason ?? DropReason.MALFORMED, SERVER_ID)
  }

  onClose(peer: WebSocketPeer, code: number, reason: string): void {
    this._stopTimer()
    const owner = this._owner
    if (this._failed) return
    if (this._id === 0) {
      this._fail(code === -1 ? `could not connect: ${peer.getLastError() || 'connection closed'}` : `the server closed before sending an id (${code}${reason ? ` ${reason}` : ''})`)
      return
    }
    // A limit this side hit (browsers: 4009, 4004) is named as such, not as the server's doing.
    const why =
      peer._limitClose ||
      (this._leaving ? `disconnected from the server by this client (${code}${reason ? ` ${reason}` : ''})` : '') ||
      (code === -1
        ? `connection lost: ${peer.getLastError()}`
        : `closed by the server (${code}${reason ? ` ${reason}` : code === CloseCode.MESSAGE_TOO_BIG ? " message too big: over the server's inboundBufferSize" : ''})`)
    // Still authenticating: Godot's SceneMultiplayer reports the failed auth, then the disconnect.
    this._auth.remove(SERVER_ID)
    owner._enqueue(new Deferred(() => this._serverClosed(why), peer))
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * How a packet to `target` travels: true in a RELAY, false directly to the server, SKIP to
   * nobody (everyone but the server, with relay off), null when it cannot (the reason recorded).
   */
  private _relayedTarget(target: number, what: string): boolean | typeof SKIP | null {
    const owner = this._owner
    if (target === SERVER_ID) return false
    if (owner.serverRelay) return true
    // As Godot's SceneMultiplayer with server_relay off: no relay; the server is the only peer.
    if (target > SERVER_ID) {
      owner._fail(ErrorCode.ERR_INVALID_PARAMETER, `${what}: serverRelay is off, so a client reaches only the server (1), not ${target}`)
      return null
    }
    return target === -SERVER_ID ? SKIP : false
  }

  private _send(frame: Uint8Array, mode: number, channel: number): ErrorCode {
    const err = this._peer._sendPacket(frame, mode as TransferMode, channel)
    return err === ErrorCode.OK ? err : this._owner._fail(err, this._peer.getLastError())
  }

  /** The first message: the id, as Godot's client reads it (exactly 4 bytes, int32 LE, ≥ 2). */
  private _idMessage(peer: WebSocketPeer, data: Uint8Array): void {
    const owner = this._owner
    const id = decodeIdMessage(data)
    if (id < 0) {
      this._fail(`invalid id from the server (${data.length} bytes; expected a 4-byte id in 2 … 2^31−1)`)
      peer.close(CloseCode.INVALID_ID, 'invalid id')
      return
    }
    this._id = id
    this._stopTimer()
    owner._enqueue(
      new Deferred(() => {
        if (owner._status !== ConnectionStatus.CONNECTING) return
        owner._uniqueId = id
        owner._status = ConnectionStatus.CONNECTED
      }),
    )
    // With an auth callback the server stays pending (only AUTH passes) until both sides completed.
    if (owner.framing === 'scene' && owner.authCallback !== null) this._auth.add(SERVER_ID)
    else this._admitServer()
  }

  /** SceneMultiplayer's `_admit_peer(1)`: `connected_to_server`, then `peer_connected(1)`. */
  private _admitServer(): void {
    const owner = this._owner
    this._admitted = true
    owner._enqueue(
      new Deferred(() => {
        if (owner._status !== ConnectionStatus.CONNECTED) return
        const epoch = owner._epoch
        owner._events.emit('connected_to_server')
        if (owner._epoch === epoch) owner._events.emit('peer_connected', SERVER_ID)
      }),
    )
  }

  private _relayedPeer(id: number, added: boolean): void {
    const owner = this._owner
    if (owner._status !== ConnectionStatus.CONNECTED) return
    if (added) {
      if (this._relayed.has(id)) return
      this._relayed.add(id)
      owner._events.emit('peer_connected', id)
    } else {
      if (!this._relayed.delete(id)) return
      owner._events.emit('peer_disconnected', id)
    }
  }

  private _serverClosed(reason: string): void {
    const owner = this._owner
    if (owner._status !== ConnectionStatus.CONNECTED) return
    owner._lastError = reason
    const epoch = owner._epoch
    for (const id of [...this._relayed]) {
      this._relayed.delete(id)
      owner._events.emit('peer_disconnected', id)
      if (owner._epoch !== epoch) return
    }
    if (this._admitted) {
      owner._events.emit('peer_disconnected', SERVER_ID)
      if (owner._epoch !== epoch) return
    }
    owner._status = ConnectionStatus.DISCONNECTED
    owner._uniqueId = 0
    owner._events.emit('server_disconnected', reason)
  }

  /** Fails the connection before admission: `connection_failed` at the next poll. */
  private _fail(reason: string): void {
    const owner = this._owner
    this._failed = true
    this._stopTimer()
    owner._lastError = reason
    owner._enqueue(
      new Deferred(() => {
        if (owner._status !== ConnectionStatus.CONNECTING) return
        owner._status = ConnectionStatus.DISCONNECTED
        owner._lastError = reason
        this._peer._sink = null
        owner._events.emit('connection_failed', reason)
      }),
    )
  }

  private _handshakeExpired(): void {
    if (this._id !== 0 || this._failed) return
    this._fail(`handshake timed out: no id from the server within ${this._owner.handshakeTimeout} s`)
    this._peer.close(-1)
  }

  private _stopTimer(): void {
    if (this._timer !== null) clearTimeout(this._timer)
    this._timer = null
  }
}
