import {
  CloseCode,
  ConnectionStatus,
  Deferred,
  DropReason,
  ErrorCode,
  FRAMINGS,
  FrameKind,
  MultiplayerPeer,
  RAW_OVERHEAD,
  RELAY_OVERHEAD,
  TARGET_PEER_SERVER,
  TLSOptions,
  TransferMode,
  createSceneFrame,
  decodeIdMessage,
  decodeRelayedPacket,
  decodeSceneFrame,
  encodeRawPacket,
  encodeRelayPacket,
  toBytes,
  type BinaryData,
  type Framing,
  type MultiplayerPeerOptions,
} from '@wsmp/core'
import { WebSocketPeer, countDrop, createPeerStats, type PeerSink, type PeerStats, type WebSocketPeerOptions } from './websocket-peer.js'

/** Godot's default `handshake_timeout`, in seconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 3

/** Options of a {@link WebSocketMultiplayerPeer}; each is also a property. */
export interface WebSocketMultiplayerPeerOptions
  extends MultiplayerPeerOptions,
    Omit<WebSocketPeerOptions, 'encodeBufferMaxSize' | 'logger'> {
  /** Seconds for the whole handshake (client: until the id arrives). Defaults to 3. */
  handshakeTimeout?: number
  /** `'scene'` (default; Godot SceneMultiplayer framing, relay) or `'raw'`. Both sides must agree. */
  framing?: Framing
  /** Server: relay between clients and announce peers. Defaults to true. Godot: SceneMultiplayer `server_relay`. */
  serverRelay?: boolean
}

/** The id of the server, as seen by a client. */
const SERVER_ID = TARGET_PEER_SERVER

/**
 * Godot 4's `WebSocketMultiplayerPeer`: a multiplayer peer over WebSocket, wire-compatible with
 * Godot 4. This package's class is the client (`createClient`); `@wsmp/server` extends it with
 * `createServer`.
 *
 * ```ts
 * const peer = new WebSocketMultiplayerPeer()
 * peer.on('peer_connected', (id) => console.log('peer', id))
 * peer.createClient('ws://127.0.0.1:9080')
 * setInterval(() => {
 *   peer.poll()
 *   while (peer.getAvailablePacketCount() > 0) console.log(peer.getPacketPeer(), peer.getPacket())
 * }, 16)
 * ```
 *
 * Godot: `WebSocketMultiplayerPeer`.
 */
export class WebSocketMultiplayerPeer extends MultiplayerPeer implements PeerSink {
  /** @internal Holds the settings copied into each new connection, as Godot's template peer does. */
  protected readonly _template = new WebSocketPeer()
  private _handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT
  private _framing: Framing = 'scene'
  private _serverRelay = true
  /** @internal The client's connection to the server. */
  protected _serverPeer: WebSocketPeer | null = null
  /** @internal Reused by the framing decoders. */
  protected readonly _frame = createSceneFrame()
  private _clientStats: PeerStats = createPeerStats()
  private _idReceived = 0
  private _failed = false
  /** Set by `disconnectPeer(1)`: the close that follows is this client's doing, not the server's. */
  private _leaving = false
  private _deadline = 0
  private _timer: ReturnType<typeof setTimeout> | null = null
  /** Peers the server announced (client side), as of the last poll. */
  private _relayedPeers = new Set<number>()

  constructor(options: WebSocketMultiplayerPeerOptions = {}) {
    super()
    this._template.logger = this._logger
    this._applyOptions(options)
  }

  override get logger() {
    return super.logger
  }
  /** Sets `logger`; the getter says which values are accepted. */
  override set logger(value) {
    super.logger = value
    this._template.logger = value
  }

  // The per-connection settings below live on the template peer (which validates them): each is
  // an accessor on the prototype that reads and writes the template's, defined here in one loop.
  static {
    for (const name of ['handshakeHeaders', 'heartbeatInterval', 'inboundBufferSize', 'maxQueuedPackets', 'outboundBufferSize', 'supportedProtocols'] as const) {
      Object.defineProperty(this.prototype, name, {
        get(this: WebSocketMultiplayerPeer) {
          return this._template[name]
        },
        set(this: WebSocketMultiplayerPeer, value: never) {
          this._template[name] = value
        },
        configurable: true,
      })
    }
  }

  /** Extra header lines for new connections (see `WebSocketPeer.handshakeHeaders`). Godot: `handshake_headers`. */
  declare handshakeHeaders: string[]

  /**
   * Seconds the handshake may take: on a server from TCP accept through TLS and upgrade to the id
   * being sent; on a client from `createClient` until the id arrives. Values ≤ 0 are rejected.
   * Default 3. Godot: `handshake_timeout`.
   */
  get handshakeTimeout(): number {
    return this._handshakeTimeout
  }
  /** Sets `handshakeTimeout`; the getter says which values are accepted. */
  set handshakeTimeout(value: number) {
    if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError('handshakeTimeout must be a number of seconds')
    if (value <= 0) {
      this._warn(`handshakeTimeout must be above 0; keeping ${this._handshakeTimeout}`)
      return
    }
    this._handshakeTimeout = value
  }

  /**
   * Seconds between heartbeat pings on every new connection (a server copies it into each peer it
   * admits; a client uses it for its connection to the server); a peer that has not answered by
   * the next ping is dropped and reported (`peer_disconnected`; on a client `server_disconnected`
   * with a "heartbeat timeout" reason). 0 (default) = off. Node only. Godot 4.4 has it on
   * `WebSocketPeer` alone; see `WebSocketPeer.heartbeatInterval`.
   */
  declare heartbeatInterval: number

  /** The largest message a new connection accepts (see `WebSocketPeer`). Default 65535. Godot: `inbound_buffer_size`. */
  declare inboundBufferSize: number

  /** Unread packets per connection before it stops reading (see `WebSocketPeer`). Default 4096. Godot: `max_queued_packets`. */
  declare maxQueuedPackets: number

  /** Bytes that may wait to be sent per connection (see `WebSocketPeer`). Default 65535. Godot: `outbound_buffer_size`. */
  declare outboundBufferSize: number

  /** Subprotocols offered (client) or accepted (server). Godot: `supported_protocols`. */
  declare supportedProtocols: string[]

  /**
   * The wire framing: `'scene'` (default) or `'raw'`. Changeable only while DISCONNECTED.
   */
  get framing(): Framing {
    return this._framing
  }
  /** Sets `framing`; the getter says which values are accepted. */
  set framing(value: Framing) {
    if (!FRAMINGS.includes(value)) throw new TypeError(`framing must be 'scene' or 'raw', got ${String(value)}`)
    if (this._status !== ConnectionStatus.DISCONNECTED) {
      this._warn(`framing can only change while DISCONNECTED; keeping '${this._framing}'`)
      return
    }
    this._framing = value
  }

  /**
   * Server: relay packets between clients and announce peers to each other (default true). When
   * false, clients see only the server; what they address to the server still arrives.
   * Client (as Godot's): when false, nothing is wrapped in RELAY — sends to 0 or −n go to the
   * server alone, to another client fail with `ERR_INVALID_PARAMETER` — and the server's
   * announcements and relayed packets are dropped (counted as `relay_disabled`).
   * Godot: SceneMultiplayer `server_relay`.
   */
  get serverRelay(): boolean {
    return this._serverRelay
  }
  /** Sets `serverRelay`; the getter says which values are accepted. */
  set serverRelay(value: boolean) {
    this._serverRelay = Boolean(value)
  }

  /**
   * Starts a client connection to a `ws://` or `wss://` URL and returns at once: OK means the
   * connection is under way (CONNECTING); `connected_to_server` or `connection_failed` follows in
   * a later `poll()`. Errors: `ERR_ALREADY_IN_USE` unless DISCONNECTED; `ERR_INVALID_PARAMETER` for
   * a bad URL or server TLS options.
   *
   * Godot: `create_client(url, tls_client_options)`.
   */
  createClient(url: string, tlsClientOptions: TLSOptions | null = null): ErrorCode {
    if (this._status !== ConnectionStatus.DISCONNECTED) {
      return this._fail(ErrorCode.ERR_ALREADY_IN_USE, 'createClient: the peer is already in use; close() it first')
    }
    if (tlsClientOptions !== null && !(tlsClientOptions instanceof TLSOptions)) throw new TypeError('tlsClientOptions must be a TLSOptions')
    if (tlsClientOptions?.isServer()) {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, 'createClient: server TLS options given to a client')
    }
    this._resetSession()
    const peer = new WebSocketPeer()
    this._template._copySettingsTo(peer)
    peer._sink = this
    peer._id = SERVER_ID
    const err = peer.connectToUrl(url, tlsClientOptions)
    if (err !== ErrorCode.OK) return this._fail(err, peer.getLastError())
    this._serverPeer = peer
    this._clientStats = peer._stats
    this._status = ConnectionStatus.CONNECTING
    this._deadline = Date.now() + this._handshakeTimeout * 1000
    const timer = setTimeout(() => this._handshakeExpired(peer), this._handshakeTimeout * 1000)
    ;(timer as { unref?: () => void }).unref?.()
    this._timer = timer
    return ErrorCode.OK
  }

  /**
   * The WebSocket of a peer: on a client, peer 1 (the server); on a server, a connected client.
   * Null (with an error recorded) for anyone else. Godot: `get_peer(id)`.
   */
  getPeer(id: number): WebSocketPeer | null {
    if (id === SERVER_ID && this._serverPeer) return this._serverPeer
    this._fail(ErrorCode.ERR_DOES_NOT_EXIST, `getPeer: no connection to peer ${id}`)
    return null
  }

  /** True with `'scene'` framing, false with `'raw'`. Godot: `is_server_relay_supported()`. */
  isServerRelaySupported(): boolean {
    return this._framing === 'scene'
  }

  /** False here; true on a server of `@wsmp/server`. Godot (C++): `is_server()`. */
  isServer(): boolean {
    return false
  }

  /**
   * The largest payload one `putPacket` can carry to the current target under the current limits
   * and framing: `outboundBufferSize` (or `inboundBufferSize` when that is 0) less the framing's
   * bytes (1 direct, 7 relayed, 0 raw). Godot (C++): `get_max_packet_size()`.
   */
  getMaxPacketSize(): number {
    const limit = this.outboundBufferSize > 0 ? this.outboundBufferSize : this.inboundBufferSize
    return Math.max(0, limit - this._overhead(this._targetPeer))
  }

  /**
   * Sends a packet to the current target (`setTargetPeer`) with the current transfer mode.
   * A client sends everything through the server: to 1 directly, to anyone else as a relay.
   * Empty packets return OK and send nothing. Errors: `ERR_UNCONFIGURED` unless CONNECTED,
   * `ERR_INVALID_PARAMETER` for an impossible target, `ERR_OUT_OF_MEMORY` when a reliable packet
   * does not fit in `outboundBufferSize` (nothing is sent). When the connection is congested (see
   * `WebSocketPeer.outboundBufferSize`) an UNRELIABLE packet is dropped and an UNRELIABLE_ORDERED
   * one replaces the older one held for its channel; both return OK and count `dropped.congestion`.
   *
   * Godot: `put_packet()`.
   */
  putPacket(data: BinaryData): ErrorCode {
    const payload = toBytes(data)
    if (this._status !== ConnectionStatus.CONNECTED) {
      return this._fail(ErrorCode.ERR_UNCONFIGURED, 'putPacket: not connected')
    }
    if (payload.length === 0) return ErrorCode.OK
    const peer = this._serverPeer as WebSocketPeer
    const target = this._targetPeer
    let frame: Uint8Array
    if (this._framing === 'raw') {
      frame = payload
    } else if (target === SERVER_ID) {
      frame = encodeRawPacket(payload)
    } else if (target === this._uniqueId) {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `putPacket: target ${target} is this peer itself`)
    } else if (!this._serverRelay) {
      // As Godot's SceneMultiplayer with server_relay off: no relay; the server is the only peer.
      if (target > SERVER_ID) {
        return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `putPacket: serverRelay is off, so a client reaches only the server (1), not ${target}`)
      }
      if (target === -SERVER_ID) return ErrorCode.OK // everyone but the server: nobody
      frame = encodeRawPacket(payload)
    } else {
      frame = encodeRelayPacket(target, payload)
    }
    return this._sendFrame(peer, frame, this.transferMode)
  }

  /**
   * Client: disconnects from the server (id 1). Without `force`, `peer_disconnected(1)` and
   * `server_disconnected` follow in a later poll; with it, the peer is DISCONNECTED at once and
   * emits nothing. Godot: `disconnect_peer(id, force)`.
   */
  disconnectPeer(id: number, force = false): void {
    const peer = this._serverPeer
    if (id !== SERVER_ID || !peer) {
      this._warn(`disconnectPeer: peer ${id} is not connected${id !== SERVER_ID ? ' (a client can only disconnect from the server, 1)' : ''}`)
      return
    }
    if (force) {
      this.close()
      return
    }
    this._leaving = true
    peer.close(CloseCode.NORMAL, '')
  }

  /**
   * Closes everything at once: DISCONNECTED, id 0, queues emptied. Emits no signal and no client
   * event. Godot: `close()`.
   */
  close(): void {
    this._resetSession()
    this._status = ConnectionStatus.DISCONNECTED
  }

  /**
   * Counters: on a client, of its connection to the server (messages and bytes in and out, drops
   * by reason, protocol errors); on a server, summed over every connection since `createServer`.
   */
  getStats(): PeerStats {
    return this._clientStats
  }

  /** Counters of one peer's connection (see `getStats`), or null when it is not connected. */
  getPeerStats(id: number): PeerStats | null {
    return this.getPeer(id)?.getStats() ?? null
  }

  // ---- PeerSink: the client's connection to the server -------------------------------------

  /** @internal */
  onOpen(_peer: WebSocketPeer): void {
    // The upgrade is done; admission waits for the id message.
  }

  /** @internal */
  onMessage(peer: WebSocketPeer, data: Uint8Array, isString: boolean): void {
    if (peer !== this._serverPeer || this._failed) return
    if (this._idReceived === 0) {
      const id = decodeIdMessage(data)
      if (id < 0) {
        this._failed = true
        this._stopTimer()
        peer.close(CloseCode.INVALID_ID, 'invalid id')
        this._failLater(`invalid id from the server (${data.length} bytes; expected a 4-byte id in 2 … 2^31−1)`)
        return
      }
      this._idReceived = id
      this._stopTimer()
      this._enqueue(new Deferred(() => this._admitted(id)))
      return
    }
    if (this._framing === 'raw') {
      this._queuePacket(peer, data, SERVER_ID, isString)
      return
    }
    const frame = this._frame
    switch (decodeSceneFrame(data, frame)) {
      case FrameKind.PACKET:
        this._queuePacket(peer, data.subarray(frame.offset), SERVER_ID, isString)
        return
      case FrameKind.RELAY: {
        if (!this._serverRelay) {
          frame.reason = DropReason.RELAY_DISABLED
          break
        }
        const source = frame.peer
        const at = decodeRelayedPacket(data, frame.offset, frame)
        if (at < 0) break
        if (source < 2 || source === this._idReceived) {
          frame.reason = DropReason.MALFORMED
          break
        }
        this._queuePacket(peer, data.subarray(at), source, isString)
        return
      }
      case FrameKind.ADD_PEER:
      case FrameKind.DEL_PEER: {
        if (!this._serverRelay) {
          frame.reason = DropReason.RELAY_DISABLED
          break
        }
        const id = frame.peer
        if (id < 2 || id === this._idReceived) {
          frame.reason = DropReason.MALFORMED
          break
        }
        const added = frame.kind === FrameKind.ADD_PEER
        this._enqueue(new Deferred(() => this._relayedPeer(id, added)))
        return
      }
    }
    this._dropped(peer._stats, frame.reason ?? DropReason.MALFORMED, SERVER_ID)
  }

  /** @internal */
  onClose(peer: WebSocketPeer, code: number, reason: string): void {
    if (peer !== this._serverPeer) return
    this._stopTimer()
    // A limit this side hit (browsers: 4009, 4004) is named as such, not as the server's doing.
    const why =
      peer._limitClose ||
      (this._leaving ? `disconnected from the server by this client (${code}${reason ? ` ${reason}` : ''})` : '') ||
      (code === -1
        ? `connection lost: ${peer.getLastError() || 'closed without a close frame'}`
        : `closed by the server (${code}${reason ? ` ${reason}` : code === CloseCode.MESSAGE_TOO_BIG ? ' message too big: over the server\'s inboundBufferSize' : ''})`)
    if (this._failed) return
    if (this._idReceived === 0) {
      this._failed = true
      this._failLater(code === -1 ? `could not connect: ${peer.getLastError() || 'connection closed'}` : `the server closed before sending an id (${code}${reason ? ` ${reason}` : ''})`)
      return
    }
    this._enqueue(new Deferred(() => this._serverClosed(why)))
  }

  // ---- internals shared with the server -----------------------------------------------------

  /** @internal Framing bytes a payload to `target` carries. */
  protected _overhead(target: number): number {
    if (this._framing === 'raw') return 0
    return target === SERVER_ID ? RAW_OVERHEAD : RELAY_OVERHEAD
  }

  /**
   * @internal Sends one frame on a connection with the current transfer channel. RELIABLE that
   * does not fit: `ERR_OUT_OF_MEMORY`, nothing sent. Congested UNRELIABLE frames are dropped and
   * UNRELIABLE_ORDERED ones held (newest per channel), both counted as `dropped.congestion`.
   */
  protected _sendFrame(peer: WebSocketPeer, frame: Uint8Array, mode: TransferMode): ErrorCode {
    const err = peer._sendPacket(frame, mode, this.transferChannel)
    if (err !== ErrorCode.OK) return this._fail(err, peer.getLastError())
    return ErrorCode.OK
  }

  /** @internal Queues an inbound packet for the application, counted against `maxQueuedPackets`. */
  protected _queuePacket(peer: WebSocketPeer, data: Uint8Array, from: number, isString: boolean): void {
    peer._countUnread()
    this._enqueue({ data, from, channel: 0, mode: TransferMode.RELIABLE, wasString: isString, source: peer })
  }

  /**
   * @internal Counts a message dropped from peer `from` (1: the server) and a protocol error for
   * bad input, warning once per reason and connection. The warning's text is built only when it
   * is written, so a flood of bad input costs two increments per message.
   */
  protected _dropped(stats: PeerStats, reason: DropReason, from: number): void {
    const first = countDrop(stats, reason)
    if (reason !== DropReason.CONGESTION && reason !== DropReason.NOT_CONNECTED) {
      stats.protocolErrors++
      if (first) this._logger?.warn(`dropped a message from peer ${from}: ${reason} (further ones are only counted)`)
    }
  }

  /** @internal Counts a drop; true when it is the first of its reason on this connection. */
  protected _count(stats: PeerStats, reason: DropReason): boolean {
    return countDrop(stats, reason)
  }

  /** @internal Ends the current session's connections and timers and empties the queues. */
  protected _resetSession(): void {
    this._stopTimer()
    const peer = this._serverPeer
    this._serverPeer = null
    if (peer) {
      peer._sink = null
      peer.close(CloseCode.NORMAL, '')
    }
    this._resetQueues()
    this._idReceived = 0
    this._failed = false
    this._leaving = false
    this._uniqueId = 0
    this._relayedPeers.clear()
    this._clientStats = createPeerStats()
  }

  protected override _beforePoll(): void {
    // Browsers have no drain event: held UNRELIABLE_ORDERED packets go out when they fit at a poll.
    this._serverPeer?._flushHeld()
    if (this._status === ConnectionStatus.CONNECTING && this._serverPeer && this._idReceived === 0 && !this._failed && Date.now() >= this._deadline) {
      this._handshakeExpired(this._serverPeer)
    }
  }

  private _admitted(id: number): void {
    if (this._status !== ConnectionStatus.CONNECTING) return
    this._uniqueId = id
    this._status = ConnectionStatus.CONNECTED
    this._events.emit('peer_connected', SERVER_ID)
    if (this._status === ConnectionStatus.CONNECTED) this._events.emit('connected_to_server')
  }

  private _relayedPeer(id: number, added: boolean): void {
    if (this._status !== ConnectionStatus.CONNECTED) return
    if (added) {
      if (this._relayedPeers.has(id)) return
      this._relayedPeers.add(id)
      this._events.emit('peer_connected', id)
    } else {
      if (!this._relayedPeers.delete(id)) return
      this._events.emit('peer_disconnected', id)
    }
  }

  private _serverClosed(reason: string): void {
    if (this._status !== ConnectionStatus.CONNECTED) return
    this._lastError = reason
    const epoch = this._epoch
    for (const id of [...this._relayedPeers]) {
      this._relayedPeers.delete(id)
      this._events.emit('peer_disconnected', id)
      if (this._epoch !== epoch) return
    }
    this._events.emit('peer_disconnected', SERVER_ID)
    if (this._epoch !== epoch) return
    this._status = ConnectionStatus.DISCONNECTED
    this._uniqueId = 0
    this._serverPeer = null
    this._events.emit('server_disconnected', reason)
  }

  private _failLater(reason: string): void {
    this._lastError = reason
    this._enqueue(
      new Deferred(() => {
        if (this._status !== ConnectionStatus.CONNECTING) return
        this._status = ConnectionStatus.DISCONNECTED
        this._lastError = reason
        const peer = this._serverPeer
        this._serverPeer = null
        if (peer) peer._sink = null
        this._events.emit('connection_failed', reason)
      }),
    )
  }

  private _handshakeExpired(peer: WebSocketPeer): void {
    if (peer !== this._serverPeer || this._idReceived !== 0 || this._failed) return
    this._failed = true
    this._stopTimer()
    peer.close(-1)
    this._failLater(`handshake timed out: no id from the server within ${this._handshakeTimeout} s`)
  }

  private _stopTimer(): void {
    if (this._timer !== null) clearTimeout(this._timer)
    this._timer = null
  }
}
