import {
  ConnectionStatus,
  Deferred,
  DropReason,
  ErrorCode,
  FRAMINGS,
  MultiplayerPeer,
  TARGET_PEER_SERVER,
  TLSOptions,
  TransferMode,
  createSceneFrame,
  toBytes,
  type BinaryData,
  type Framing,
  type MultiplayerPeerOptions,
} from '@wsmp/core'
import { ClientRole } from './client-role.js'
import type { PeerRole } from './role.js'
import type { AuthCallback } from './scene-auth.js'
import { WebSocketPeer, countDrop, createPeerStats, type PeerStats, type WebSocketPeerOptions } from './websocket-peer.js'

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
  /** SceneMultiplayer authentication, both sides: see {@link WebSocketMultiplayerPeer.authCallback}. Defaults to null (none). */
  authCallback?: AuthCallback | null
  /** Seconds a peer may take to complete authentication; 0 = no limit. Defaults to 3. Godot: SceneMultiplayer `auth_timeout`. */
  authTimeout?: number
  /** Receives the SceneMultiplayer packets this peer does not interpret itself (RPC, path cache, replication). */
  sceneHandler?: SceneHandler | null
}

/**
 * Receives SceneMultiplayer packets other than RAW and SYS (RPC, path cache, spawn, despawn,
 * sync) addressed to this peer — directly, in a relay, or the server's share of a broadcast —
 * inside `poll()`, in arrival order with everything else. `@wsmp/godot` installs one for RPC and
 * the path cache. Without one such packets are dropped and counted as `dropped.not_interpreted`;
 * relayed between other peers they always pass verbatim.
 */
export interface SceneHandler {
  /** A packet from peer `from` (1 is the server); `packet` starts with its command byte. */
  onScenePacket(from: number, packet: Uint8Array): void
}

/** Godot's default SceneMultiplayer `auth_timeout`, in seconds. */
export const DEFAULT_AUTH_TIMEOUT = 3

/**
 * Godot 4's `WebSocketMultiplayerPeer`: a multiplayer peer over WebSocket, wire-compatible with
 * Godot 4, with SceneMultiplayer's framing, relay and auth. This package's class is the client
 * (`createClient`); `@wsmp/server` adds the server (`createServer`, `attach`). While in use the
 * peer has a role — client or server — that holds the connections; the settings, the queue and
 * the signals stay here.
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
export class WebSocketMultiplayerPeer extends MultiplayerPeer {
  /** @internal Holds the settings copied into each new connection, as Godot's template peer does. */
  readonly _template = new WebSocketPeer()
  private _handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT
  private _framing: Framing = 'scene'
  private _serverRelay = true
  private _authCallback: AuthCallback | null = null
  private _authTimeout = DEFAULT_AUTH_TIMEOUT
  private _sceneHandler: SceneHandler | null = null
  /** @internal The role while in use (client or server); null when DISCONNECTED and never used. */
  _role: PeerRole | null = null
  /** @internal Reused by the framing decoders. */
  readonly _frame = createSceneFrame()

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
    // Godot refuses 0 and less; a millisecond is the least that means anything.
    if (this._valid('handshakeTimeout', value, 0.001)) this._handshakeTimeout = value
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
   * SceneMultiplayer authentication, on either side: when set, a newly connected peer (on a
   * client: the server, 1) is *pending* — `'peer_authenticating'` is emitted, only AUTH packets
   * pass, and each piece of data the other side sends with its `sendAuth` reaches this callback
   * (inside `poll()`). Call {@link sendAuth} to answer and {@link completeAuth} once satisfied; the
   * peer is admitted (announced, `peer_connected`; on a client `connected_to_server` first) when
   * both sides completed. Past `authTimeout` it is disconnected with `'peer_authentication_failed'`.
   * Byte for byte Godot 4's, so it works with Godot peers that use `auth_callback`; both sides
   * must use auth, as between Godot peers. Needs `'scene'` framing. Read when a peer connects.
   * Godot: SceneMultiplayer `auth_callback`.
   */
  get authCallback(): AuthCallback | null {
    return this._authCallback
  }
  /** Sets `authCallback`; the getter says which values are accepted. */
  set authCallback(value: AuthCallback | null) {
    if (value !== null && typeof value !== 'function') throw new TypeError('authCallback must be a function or null')
    this._authCallback = value
  }

  /**
   * Seconds a pending peer may take to complete authentication before it is disconnected (close
   * 1000) with `'peer_authentication_failed'`; 0 = no limit; negative values are rejected. Default
   * 3. Godot: SceneMultiplayer `auth_timeout`.
   */
  get authTimeout(): number {
    return this._authTimeout
  }
  /** Sets `authTimeout`; the getter says which values are accepted. */
  set authTimeout(value: number) {
    if (this._valid('authTimeout', value, 0)) this._authTimeout = value
  }

  /**
   * The handler of SceneMultiplayer packets this peer does not interpret itself (RPC, path cache,
   * replication); see {@link SceneHandler}. Null (default): they are dropped and counted.
   */
  get sceneHandler(): SceneHandler | null {
    return this._sceneHandler
  }
  /** Sets `sceneHandler`; the getter says which values are accepted. */
  set sceneHandler(value: SceneHandler | null) {
    if (value !== null && typeof value?.onScenePacket !== 'function') throw new TypeError('sceneHandler must have onScenePacket(from, packet), or be null')
    this._sceneHandler = value
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
    this._startSession()
    const role = new ClientRole(this)
    const err = role.connect(url, tlsClientOptions)
    if (err !== ErrorCode.OK) return err
    this._role = role
    this._status = ConnectionStatus.CONNECTING
    return ErrorCode.OK
  }

  /**
   * The WebSocket of a peer: on a client, peer 1 (the server); on a server, a connected client.
   * Null (with an error recorded) for anyone else. Godot: `get_peer(id)`.
   */
  getPeer(id: number): WebSocketPeer | null {
    const role = this._role
    if (role) return role.getPeer(id)
    this._fail(ErrorCode.ERR_DOES_NOT_EXIST, `getPeer: no connection to peer ${id}`)
    return null
  }

  /** True with `'scene'` framing, false with `'raw'`. Godot: `is_server_relay_supported()`. */
  isServerRelaySupported(): boolean {
    return this._framing === 'scene'
  }

  /** Whether this peer is serving (`createServer`/`attach` of `@wsmp/server`). Godot (C++): `is_server()`. */
  isServer(): boolean {
    return this._role?.server === true
  }

  /**
   * The largest payload one `putPacket` can carry to the current target under the current limits
   * and framing: `outboundBufferSize` (or `inboundBufferSize` when that is 0) less the framing's
   * bytes (1 direct, 7 relayed, 0 raw). Godot (C++): `get_max_packet_size()`.
   */
  getMaxPacketSize(): number {
    const limit = this.outboundBufferSize > 0 ? this.outboundBufferSize : this.inboundBufferSize
    const target = this._targetPeer
    const overhead = this._role ? this._role.overhead(target) : this._framing === 'raw' ? 0 : target === TARGET_PEER_SERVER ? 1 : 7
    return Math.max(0, limit - overhead)
  }

  /**
   * Sends a packet to the current target (`setTargetPeer`) with the current transfer mode.
   * A client sends everything through the server: to 1 directly, to anyone else as a relay.
   * A server: n > 1 that peer (unknown ids and 1 give `ERR_INVALID_PARAMETER`), 0 everyone, −n
   * everyone but n. Empty packets return OK and send nothing. Errors: `ERR_UNCONFIGURED` unless
   * CONNECTED (and, with auth, admitted), `ERR_INVALID_PARAMETER` for an impossible target,
   * `ERR_OUT_OF_MEMORY` when a reliable unicast does not fit in `outboundBufferSize` (nothing is
   * sent). When the connection is congested (see `WebSocketPeer.outboundBufferSize`) an
   * UNRELIABLE packet is dropped and an UNRELIABLE_ORDERED one replaces the older one held for
   * its channel; both return OK and count `dropped.congestion`. A server broadcast returns OK and
   * disconnects a peer that cannot take a reliable packet ("outbound buffer full", close code 4000).
   *
   * Godot: `put_packet()`.
   */
  putPacket(data: BinaryData): ErrorCode {
    const payload = toBytes(data)
    const role = this._role
    if (this._status !== ConnectionStatus.CONNECTED || role === null) {
      return this._fail(ErrorCode.ERR_UNCONFIGURED, 'putPacket: not connected')
    }
    if (payload.length === 0) return ErrorCode.OK
    return role.putPacket(payload, this._targetPeer, this.transferMode, this.transferChannel)
  }

  /**
   * @internal Sends one SceneMultiplayer packet (its command byte first) to `target` as Godot's
   * `send_command` does, with `mode` and `channel`: how `@wsmp/godot` sends RPCs and path-cache
   * messages. `ERR_UNCONFIGURED` unless CONNECTED with `'scene'` framing.
   */
  sendCommand(target: number, packet: Uint8Array, mode: TransferMode = TransferMode.RELIABLE, channel = 0): ErrorCode {
    const role = this._role
    if (this._status !== ConnectionStatus.CONNECTED || role === null || this._framing !== 'scene') {
      return this._fail(ErrorCode.ERR_UNCONFIGURED, 'sendCommand: not connected with scene framing')
    }
    return role.sendCommand(target, packet, mode, channel)
  }

  /**
   * Disconnects a peer. Client: from the server (id 1) — without `force`, `peer_disconnected(1)`
   * and `server_disconnected` follow in a later poll once the connection closed; with it, the peer
   * is DISCONNECTED at once and `server_disconnected` follows at the next poll (as Godot's
   * SceneMultiplayer reports it). Server: closes the client's connection with 1000 — without
   * `force`, `peer_disconnected(id)` follows once it has closed; with it, the peer is removed at
   * once and no local signal is emitted. Either way the other clients get DEL_PEER.
   * Godot: `disconnect_peer(id, force)`.
   */
  disconnectPeer(id: number, force = false): void {
    const role = this._role
    if (role === null) {
      this._warn(`disconnectPeer: peer ${id} is not connected`)
      return
    }
    role.disconnectPeer(id, force)
  }

  /**
   * Sends authentication data to a pending peer (on a client: the server, 1): it reaches the other
   * side's auth callback. Errors: `ERR_UNCONFIGURED` unless connected, `ERR_INVALID_PARAMETER` for
   * a peer that is not authenticating or empty data, `ERR_FILE_CANT_WRITE` once either side
   * completed. Godot: SceneMultiplayer `send_auth(id, data)`.
   */
  sendAuth(id: number, data: BinaryData): ErrorCode {
    const role = this._role
    if (role === null || this._status !== ConnectionStatus.CONNECTED) return this._fail(ErrorCode.ERR_UNCONFIGURED, 'sendAuth: not connected')
    return role.sendAuth(id, toBytes(data))
  }

  /**
   * Marks authentication with a pending peer completed on this side and tells the other side; the
   * peer is admitted once both completed. Errors: `ERR_UNCONFIGURED` unless connected,
   * `ERR_INVALID_PARAMETER` for a peer that is not authenticating, `ERR_FILE_CANT_WRITE` when
   * already completed here. Godot: SceneMultiplayer `complete_auth(id)`.
   */
  completeAuth(id: number): ErrorCode {
    const role = this._role
    if (role === null || this._status !== ConnectionStatus.CONNECTED) return this._fail(ErrorCode.ERR_UNCONFIGURED, 'completeAuth: not connected')
    return role.completeAuth(id)
  }

  /**
   * Closes everything at once: DISCONNECTED, id 0, queues emptied. Emits no signal and no client
   * event. A server stops listening (or detaches) and closes every connection with 1001.
   * Godot: `close()`.
   */
  close(): void {
    const role = this._role
    this._role = null
    role?.close()
    this._resetQueues()
    this._uniqueId = 0
    this._status = ConnectionStatus.DISCONNECTED
  }

  /**
   * Counters: on a client, of its connection to the server (messages and bytes in and out, drops
   * by reason, protocol errors); on a server, summed over every connection since `createServer`.
   * They stay readable after a disconnect until `close()` or a new session.
   */
  getStats(): PeerStats {
    return this._role?.getStats() ?? createPeerStats()
  }

  /** Counters of one peer's connection (see `getStats`), or null when it is not connected. */
  getPeerStats(id: number): PeerStats | null {
    return this.getPeer(id)?.getStats() ?? null
  }

  // ---- shared by the roles -------------------------------------------------------------------

  /** @internal Ends any previous session: a new role is about to start. */
  _startSession(): void {
    this.close()
  }

  /** @internal Queues an inbound packet for the application, counted against `maxQueuedPackets`. */
  _queuePacket(peer: WebSocketPeer, data: Uint8Array, from: number, isString: boolean): void {
    peer._countUnread(data.length)
    this._enqueue({ data, from, channel: 0, mode: TransferMode.RELIABLE, wasString: isString, source: peer })
  }

  /**
   * @internal A SceneMultiplayer command (RPC, path cache, replication) from peer `from`, starting
   * at `offset` of `data`: handed to the scene handler at the next poll, or dropped and counted.
   */
  _sceneCommand(peer: WebSocketPeer, data: Uint8Array, offset: number, from: number): void {
    if (this._sceneHandler === null) {
      this._dropped(peer._stats, DropReason.NOT_INTERPRETED, from)
      return
    }
    const packet = data.slice(offset)
    // Counted like a packet until handled (memory and backpressure), and in order with the peer's.
    peer._countUnread(packet.length)
    this._enqueue(
      new Deferred(() => {
        peer.releasePacket(packet.length, false)
        this._sceneHandler?.onScenePacket(from, packet)
      }, peer),
    )
  }

  /**
   * @internal Counts a message dropped from peer `from` (1: the server) and a protocol error for
   * bad input, warning once per reason and connection. The warning's text is built only when it
   * is written, so a flood of bad input costs two increments per message.
   */
  _dropped(stats: PeerStats, reason: DropReason, from: number): void {
    const first = countDrop(stats, reason)
    if (reason !== DropReason.CONGESTION && reason !== DropReason.NOT_CONNECTED) {
      stats.protocolErrors++
      if (first) this._log(`dropped a message from peer ${from}: ${reason} (further ones are only counted)`)
    }
  }

  protected override _isIdTaken(id: number): boolean {
    return this._role?.isIdTaken(id) ?? false
  }

  protected override _beforePoll(): void {
    this._role?.beforePoll()
  }
}
