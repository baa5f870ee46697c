// wsmp peers (Node) for the godot-live scenarios: a server or a client polled every few ms like a
// game loop, recording its signals and packets in one ordered log the tests wait on.
import { ConnectionStatus, ErrorCode, TLSOptions, TransferMode, WebSocketMultiplayerPeer, type WebSocketPeer } from '@wsmp/server'
import { SIGNALS, WAIT_MS, toHex } from './godot.js'

/** One thing a wsmp peer saw, in order. */
export interface WsmpEvent {
  ev: string
  id?: number
  from?: number
  hex?: string
  mode?: number
  channel?: number
  reason?: string
  code?: number
  /** The close reason of the WebSocket (peer_disconnected / server_disconnected / connection_failed). */
  closeReason?: string
}

const live = new Set<WsmpPeer>()

/** A wsmp `WebSocketMultiplayerPeer` with a recorded, ordered log. */
export class WsmpPeer {
  readonly log: WsmpEvent[] = []
  /** The WebSockets of peers, kept to read their close codes after they are gone. */
  private readonly sockets = new Map<number, WebSocketPeer>()
  private timer: ReturnType<typeof setInterval> | null = null
  private waiters = new Set<() => void>()
  private lastId = 0

  constructor(
    readonly name: string,
    readonly peer: WebSocketMultiplayerPeer,
  ) {
    live.add(this)
    for (const signal of SIGNALS) {
      peer.on(signal as 'peer_connected', (...args: unknown[]) => this.onSignal(signal, args))
    }
    peer.on('packet', (data, from, channel, mode) => this.push({ ev: 'packet', from, hex: toHex(data), channel, mode }))
  }

  /** A wsmp server on 127.0.0.1, port 0. `options` go to the constructor. */
  static async server(name: string, options: Record<string, unknown> = {}, tls: { key: string; cert: string } | null = null): Promise<WsmpPeer> {
    const peer = new WebSocketMultiplayerPeer({ logger: null, ...options } as ConstructorParameters<typeof WebSocketMultiplayerPeer>[0])
    const wrapped = new WsmpPeer(name, peer)
    const err = await peer.createServer(0, '127.0.0.1', tls ? TLSOptions.server(tls.key, tls.cert) : null)
    if (err !== ErrorCode.OK) throw new Error(`${name}: createServer failed: ${err} ${peer.getLastError()}`)
    wrapped.start()
    return wrapped
  }

  /** A wsmp client towards `url` (CONNECTING when this returns). */
  static client(name: string, url: string, options: Record<string, unknown> = {}, tls: TLSOptions | null = null): WsmpPeer {
    const peer = new WebSocketMultiplayerPeer({ logger: null, ...options } as ConstructorParameters<typeof WebSocketMultiplayerPeer>[0])
    const wrapped = new WsmpPeer(name, peer)
    const err = peer.createClient(url, tls)
    if (err !== ErrorCode.OK) throw new Error(`${name}: createClient failed: ${err} ${peer.getLastError()}`)
    const socket = peer.getPeer(1)
    if (socket) wrapped.sockets.set(1, socket)
    wrapped.start()
    return wrapped
  }

  /** A connected wsmp client; resolves once `connected_to_server` was emitted. */
  static async connected(name: string, url: string, options: Record<string, unknown> = {}, tls: TLSOptions | null = null): Promise<WsmpPeer> {
    const client = WsmpPeer.client(name, url, options, tls)
    await client.waitEvent('connected_to_server')
    return client
  }

  /** The server's ws:// URL. */
  url(scheme = 'ws'): string {
    return `${scheme}://127.0.0.1:${this.peer.getLocalPort()}`
  }

  /** This peer's id; after a disconnect, the id it last had. */
  get id(): number {
    const id = this.peer.getUniqueId()
    if (id !== 0) this.lastId = id
    return this.lastId
  }

  /** Polls every 5 ms, as a game loop would (signals and packets arrive inside poll()). */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      this.peer.poll()
      void this.id // remembers the id while there is one
    }, 5)
  }

  private onSignal(signal: string, args: unknown[]): void {
    const event: WsmpEvent = { ev: signal }
    if (typeof args[0] === 'number') event.id = args[0]
    if (typeof args[0] === 'string') event.reason = args[0]
    if (signal === 'peer_connected' && event.id !== undefined && event.id !== 1) {
      const socket = this.peer.isServer() ? this.peer.getPeer(event.id) : null
      if (socket) this.sockets.set(event.id, socket)
    }
    const closedId =
      signal === 'peer_disconnected' || signal === 'peer_authentication_failed' ? event.id : signal === 'server_disconnected' || signal === 'connection_failed' ? 1 : undefined
    const socket = closedId === undefined ? undefined : this.sockets.get(closedId)
    if (socket) {
      event.code = socket.getCloseCode()
      event.closeReason = socket.getCloseReason()
    }
    this.push(event)
  }

  private push(event: WsmpEvent): void {
    void this.id
    this.log.push(event)
    for (const wake of [...this.waiters]) wake()
  }

  /** Resolves with the first logged event (past or future) that matches; rejects after `timeoutMs`. */
  waitFor(match: (event: WsmpEvent) => boolean, what: string, timeoutMs = WAIT_MS): Promise<WsmpEvent> {
    const seen = this.log.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const found = this.log.find(match)
        if (!found) return
        this.waiters.delete(wake)
        clearTimeout(timer)
        resolve(found)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(wake)
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.describe()}`))
      }, timeoutMs)
      this.waiters.add(wake)
    })
  }

  /** Waits for an event named `ev` whose fields include `fields`. */
  waitEvent(ev: string, fields: Partial<WsmpEvent> = {}, timeoutMs = WAIT_MS): Promise<WsmpEvent> {
    return this.waitFor(
      (e) => e.ev === ev && Object.entries(fields).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v),
      `${ev} ${JSON.stringify(fields)}`,
      timeoutMs,
    )
  }

  /** Waits for a packet from `from` carrying `hex`. */
  waitPacket(from: number, hex: string, timeoutMs = WAIT_MS): Promise<WsmpEvent> {
    return this.waitEvent('packet', { from, hex }, timeoutMs)
  }

  /** Packets received so far as [from, hex]. */
  packets(): [number, string][] {
    return this.log.filter((e) => e.ev === 'packet').map((e) => [e.from as number, e.hex as string])
  }

  /** Signals so far as 'name id' strings (packets left out). */
  signals(): string[] {
    return this.log.filter((e) => e.ev !== 'packet').map((e) => (e.id === undefined ? e.ev : `${e.ev} ${e.id}`))
  }

  /** setTargetPeer + transferMode + putPacket; returns the ErrorCode. */
  send(target: number, hex: string, mode: TransferMode = TransferMode.RELIABLE, channel = 0): ErrorCode {
    this.peer.setTargetPeer(target)
    this.peer.transferMode = mode
    this.peer.transferChannel = channel
    const err = this.peer.putPacket(Buffer.from(hex, 'hex'))
    this.peer.transferMode = TransferMode.RELIABLE
    this.peer.transferChannel = 0
    return err
  }

  get status(): ConnectionStatus {
    return this.peer.getConnectionStatus()
  }

  /** Stops polling and closes the peer. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.peer.close()
    live.delete(this)
  }

  describe(): string {
    const line = (e: WsmpEvent): string => `  ${JSON.stringify(e.hex && e.hex.length > 80 ? { ...e, hex: `${e.hex.slice(0, 80)}… (${e.hex.length / 2} bytes)` } : e)}`
    return [`${this.name} log:`, ...this.log.slice(-25).map(line), `  last error: ${this.peer.getLastError()}`].join('\n')
  }
}

/** Closes every wsmp peer made here (afterEach). */
export function stopWsmps(): void {
  for (const peer of [...live]) peer.stop()
}
