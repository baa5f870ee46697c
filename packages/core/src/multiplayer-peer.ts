import { createNanoEvents } from 'nanoevents'
import { plainBytes } from './bytes.js'
import { ConnectionStatus, TransferMode } from './constants.js'
import { ErrorCode } from './error-code.js'
import { PacketPeer, applyOptions, type PacketPeerOptions } from './packet-peer.js'
import { Queue, type Packet, type PacketSource } from './packet-queue.js'
import { generateUniqueId } from './peer-id.js'

/**
 * The signals of a multiplayer peer. `peer_connected`/`peer_disconnected` are MultiplayerPeer's;
 * `connected_to_server`, `connection_failed` and `server_disconnected` are SceneMultiplayer's,
 * emitted by clients. All of them fire only inside `poll()` (or the auto-poll).
 */
export interface MultiplayerPeerEvents {
  /** A peer joined (on a client: 1 when connected, others through the server's announcements). */
  peer_connected: (id: number) => void
  /** A peer left; emitted after its last packet was queued. */
  peer_disconnected: (id: number) => void
  /** Client: the server admitted us (after `peer_connected(1)`). */
  connected_to_server: () => void
  /** Client: the connection failed before we were admitted; `reason` says why. */
  connection_failed: (reason: string) => void
  /** Client: the connection to the server ended; `reason` says why. */
  server_disconnected: (reason: string) => void
  /**
   * SceneMultiplayer auth (with an `authCallback`): peer `id` connected and must authenticate
   * before it is admitted (on a client: the server, 1). Godot: `peer_authenticating`.
   */
  peer_authenticating: (id: number) => void
  /**
   * SceneMultiplayer auth: peer `id` left, was disconnected or timed out before both sides
   * completed. Godot: `peer_authentication_failed`.
   */
  peer_authentication_failed: (id: number) => void
  /**
   * A packet. While this event has listeners, `poll()` hands packets to them instead of queueing
   * them. (A wsmp convenience; Godot 4 has no `peer_packet` signal on the peer.)
   */
  packet: (data: Uint8Array, fromPeer: number, channel: number, mode: TransferMode) => void
}

/** What `on()` returns: call it to unsubscribe. */
export type Unsubscribe = () => void

/**
 * @internal The signals' emitter (nanoevents'), typed here so that the published declarations
 * name no type of an ESM-only dependency.
 */
export interface SignalEmitter {
  events: { [E in keyof MultiplayerPeerEvents]?: MultiplayerPeerEvents[E][] }
  emit<E extends keyof MultiplayerPeerEvents>(event: E, ...args: Parameters<MultiplayerPeerEvents[E]>): void
  on<E extends keyof MultiplayerPeerEvents>(event: E, listener: MultiplayerPeerEvents[E]): Unsubscribe
}

/** Options every multiplayer peer takes in its constructor; each is also a property. */
export interface MultiplayerPeerOptions extends PacketPeerOptions {
  /** Refuse new connections (server). Defaults to false. Godot: `refuse_new_connections`. */
  refuseNewConnections?: boolean
  /** The channel for following sends. Defaults to 0. Godot: `transfer_channel`. */
  transferChannel?: number
  /** The mode for following sends. Defaults to RELIABLE. Godot: `transfer_mode`. */
  transferMode?: TransferMode
  /** Poll automatically as I/O arrives (event-driven code). Defaults to false. */
  autoPoll?: boolean
}

/** A state change to apply, in arrival order, at the next `poll()`. */
export class Deferred {
  /** Applies the change; called once, by `poll()`. */
  declare readonly run: () => void
  /** The connection it concerns: it waits behind that connection's packets held back by `poll()`. */
  declare readonly source: PacketSource | null

  constructor(run: () => void, source: PacketSource | null = null) {
    // Set here alone (`declare`: no class-field declarations to emit).
    this.run = run
    this.source = source
  }
}

/** What the inbox holds: packets and deferred state changes, in arrival order. */
export type InboxEntry = Packet | Deferred

/**
 * A peer in a multiplayer session: packets tagged with their sender, targets, signals and the
 * poll contract. I/O arrives into an inbox on the event loop; `poll()` moves it, in arrival order,
 * into state changes, signals and the packet queue.
 *
 * Godot: `MultiplayerPeer`.
 */
export abstract class MultiplayerPeer extends PacketPeer {
  /** @internal */
  _status: ConnectionStatus = ConnectionStatus.DISCONNECTED
  /** @internal */
  _uniqueId = 0
  /** @internal */
  _targetPeer = 0
  /** @internal */
  protected _queue = new Queue<Packet>()
  /** @internal */
  protected _inbox: InboxEntry[] = []
  /**
   * @internal Entries `poll()` held back, in arrival order: packets of connections whose share of
   * the queue (`maxQueuedPackets`) is full, and what came after them from the same connection.
   */
  _parked: InboxEntry[] = []
  /** @internal Bumped by `close()` and new sessions so a running poll stops applying stale entries. */
  _epoch = 0
  /** @internal */
  _events: SignalEmitter = createNanoEvents<MultiplayerPeerEvents>()
  private _refuseNewConnections = false
  private _transferChannel = 0
  private _transferMode: TransferMode = TransferMode.RELIABLE
  private _autoPoll = false
  private _pollScheduled = false
  private _polling = false
  private _lastWasString = false
  private readonly _autoPollTask = (): void => {
    this._pollScheduled = false
    if (this._autoPoll) this.poll()
  }

  /**
   * Subscribes to a signal; returns the function that unsubscribes.
   *
   * Godot: `peer.peer_connected.connect(callable)`.
   */
  on<E extends keyof MultiplayerPeerEvents>(event: E, listener: MultiplayerPeerEvents[E]): Unsubscribe {
    return this._events.on(event, listener)
  }

  /** Refuse new connections: a server answers new upgrades with HTTP 503. Godot: `refuse_new_connections`. */
  get refuseNewConnections(): boolean {
    return this._refuseNewConnections
  }
  /** Sets `refuseNewConnections`; the getter says which values are accepted. */
  set refuseNewConnections(value: boolean) {
    this._refuseNewConnections = Boolean(value)
  }

  /** The channel of following sends (stored; WebSocket has one ordered stream). Godot: `transfer_channel`. */
  get transferChannel(): number {
    return this._transferChannel
  }
  /** Sets `transferChannel`; the getter says which values are accepted. */
  set transferChannel(value: number) {
    if (this._valid('transferChannel', value, 0, 255, true)) this._transferChannel = value
  }

  /**
   * The mode of following sends. Everything arrives reliably and in order over TCP; under
   * congestion UNRELIABLE packets are dropped and UNRELIABLE_ORDERED keep only the newest per
   * channel. Godot: `transfer_mode`.
   */
  get transferMode(): TransferMode {
    return this._transferMode
  }
  /** Sets `transferMode`; the getter says which values are accepted. */
  set transferMode(value: TransferMode) {
    if (value !== TransferMode.UNRELIABLE && value !== TransferMode.UNRELIABLE_ORDERED && value !== TransferMode.RELIABLE) {
      throw new TypeError(`transferMode must be a TransferMode (0, 1 or 2), got ${String(value)}`)
    }
    this._transferMode = value
  }

  /** Poll automatically (in a microtask) whenever I/O arrives. A wsmp convenience. */
  get autoPoll(): boolean {
    return this._autoPoll
  }
  /** Sets `autoPoll`; the getter says which values are accepted. */
  set autoPoll(value: boolean) {
    this._autoPoll = Boolean(value)
    if (this._autoPoll && this._inbox.length > 0) this._schedulePoll()
  }

  /** A random id in 2 … 2^31−1 that no live peer of this one has. Godot: `generate_unique_id()`. */
  generateUniqueId(): number {
    return generateUniqueId((id) => this._isIdTaken(id))
  }

  /** DISCONNECTED, CONNECTING or CONNECTED. Godot: `get_connection_status()`. */
  getConnectionStatus(): ConnectionStatus {
    return this._status
  }

  /** 1 on a server, the assigned id on a client, 0 before one is assigned. Godot: `get_unique_id()`. */
  getUniqueId(): number {
    return this._uniqueId
  }

  /**
   * Where following `putPacket` calls go: 0 everyone, 1 the server, n > 1 that peer, −n everyone
   * but n. Default 0. Godot: `set_target_peer()`.
   */
  setTargetPeer(id: number): void {
    if (!Number.isInteger(id) || id < -0x80000000 || id > 0x7fffffff) {
      throw new TypeError(`target peer must be a 32-bit integer, got ${String(id)}`)
    }
    this._targetPeer = id
  }

  /** The current target peer (see `setTargetPeer`). */
  getTargetPeer(): number {
    return this._targetPeer
  }

  /** The number of packets ready to read. Godot: `get_available_packet_count()`. */
  getAvailablePacketCount(): number {
    return this._queue.length
  }

  /** The channel of the next packet. Godot: `get_packet_channel()`. */
  getPacketChannel(): number {
    return this._queue.peek()?.channel ?? 0
  }

  /** The transfer mode of the next packet. Godot: `get_packet_mode()`. */
  getPacketMode(): TransferMode {
    return this._queue.peek()?.mode ?? TransferMode.RELIABLE
  }

  /**
   * The sender of the next packet. With no packet queued it returns 1 and records an error, as
   * Godot does. Godot: `get_packet_peer()`.
   */
  getPacketPeer(): number {
    const next = this._queue.peek()
    if (next) return next.from
    this._fail(ErrorCode.ERR_UNAVAILABLE, 'getPacketPeer: no packet is queued')
    return 1
  }

  /** Whether the last packet taken arrived in a WebSocket text frame. */
  wasStringPacket(): boolean {
    return this._lastWasString
  }

  /**
   * Takes the next packet. Empty with `ERR_UNAVAILABLE` when none is queued (`ERR_UNCONFIGURED`
   * when not connected either). Packets that arrived before a disconnect stay readable until
   * `close()` or a new session. Godot: `get_packet()`.
   */
  getPacket(): Uint8Array {
    const packet = this._queue.shift()
    if (!packet) {
      if (this._status === ConnectionStatus.CONNECTED) {
        this._packetError = this._fail(ErrorCode.ERR_UNAVAILABLE, 'getPacket: no packet is queued')
      } else {
        this._packetError = this._fail(ErrorCode.ERR_UNCONFIGURED, 'getPacket: not connected and no packet is queued')
      }
      return new Uint8Array(0)
    }
    this._packetError = ErrorCode.OK
    this._lastWasString = packet.wasString
    if (packet.source !== null) {
      packet.source.releasePacket(packet.data.length, true)
      // Its connection has room in the queue again: what poll() held back may move up.
      if (this._parked.length > 0 && this._autoPoll && !this._pollScheduled) this._schedulePoll()
    }
    return plainBytes(packet.data)
  }

  /**
   * Processes what arrived since the last call, in arrival order: state changes, signals, packets.
   * The queue holds at most `maxQueuedPackets` packets of each connection: the rest of that
   * connection's traffic (and its signals, such as its `peer_disconnected`) waits, in order, until
   * the application has read some. Never blocks. Godot: `poll()`.
   */
  poll(): void {
    if (this._polling) return
    this._polling = true
    try {
      this._beforePoll()
      // Connections whose traffic waits in `_parked`: later entries of theirs wait behind it.
      let held: Set<PacketSource> | null = null
      let batch = this._parked
      if (batch.length > 0) {
        this._parked = []
        batch.push(...this._inbox)
      } else {
        batch = this._inbox
      }
      this._inbox = []
      while (batch.length > 0) {
        const epoch = this._epoch
        for (let i = 0; i < batch.length; i++) {
          const entry = batch[i] as InboxEntry
          const source = entry.source
          if (source !== null && (held?.has(source) || (!(entry instanceof Deferred) && !this._hasListeners() && !source.takeSlot()))) {
            ;(held ??= new Set()).add(source)
            this._parked.push(entry)
          } else if (entry instanceof Deferred) {
            entry.run()
          } else {
            this._deliver(entry)
          }
          if (this._epoch !== epoch) break
        }
        batch = this._inbox
        this._inbox = []
      }
    } finally {
      this._polling = false
    }
  }

  /** Whether the server may relay between clients and announce peers. Godot: `is_server_relay_supported()`. */
  abstract isServerRelaySupported(): boolean
  /** Whether this peer is a server. Godot (C++): `is_server()`. */
  abstract isServer(): boolean
  /** The largest payload one `putPacket` can carry now. Godot (C++): `get_max_packet_size()`. */
  abstract getMaxPacketSize(): number
  /** Closes everything at once; emits no signal. Godot: `close()`. */
  abstract close(): void
  /** Disconnects one peer; with `force`, without the local `peer_disconnected`. Godot: `disconnect_peer()`. */
  abstract disconnectPeer(id: number, force?: boolean): void

  /** @internal Whether an id is live here (connected or handshaking). */
  protected _isIdTaken(_id: number): boolean {
    return false
  }

  /** @internal Hook run at the start of every poll (timeouts and the like). */
  protected _beforePoll(): void {}

  /** @internal Queues an inbox entry and schedules the auto-poll. */
  _enqueue(entry: InboxEntry): void {
    this._inbox.push(entry)
    if (this._autoPoll && !this._pollScheduled) this._schedulePoll()
  }

  /** @internal Drops everything queued and stops a running poll from applying stale entries. */
  _resetQueues(): void {
    this._epoch++
    this._inbox = []
    this._parked = []
    for (const packet of this._queue) packet.source?.releasePacket(packet.data.length, true)
    this._queue.clear()
  }

  /** @internal Applies options through the property setters (validation included). */
  protected _applyOptions(options: object): void {
    applyOptions(this, options)
  }

  /** Whether `'packet'` listeners take packets as they come (instead of the queue). */
  private _hasListeners(): boolean {
    const listeners = this._events.events.packet
    return listeners !== undefined && listeners.length > 0
  }

  private _deliver(packet: Packet): void {
    if (this._hasListeners()) {
      packet.source?.releasePacket(packet.data.length, false)
      this._events.emit('packet', plainBytes(packet.data), packet.from, packet.channel, packet.mode)
    } else {
      this._queue.push(packet)
    }
  }

  private _schedulePoll(): void {
    this._pollScheduled = true
    queueMicrotask(this._autoPollTask)
  }
}
