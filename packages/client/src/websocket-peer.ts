import { socketDriver } from '#socket'
import {
  CloseCode,
  Deferred,
  DropReason,
  ErrorCode,
  PacketPeer,
  Queue,
  TLSOptions,
  TransferMode,
  applyOptions,
  plainBytes,
  toBytes,
  type BinaryData,
  type Packet,
  type PacketPeerOptions,
  type PacketSource,
} from '@wsmp/core'
import type { SocketDriver, SocketHandler } from './socket.js'

/** Godot: `WebSocketPeer.State` (`STATE_CONNECTING` … `STATE_CLOSED`). */
export const WebSocketState = {
  /** Godot: `STATE_CONNECTING`. */
  CONNECTING: 0,
  /** Godot: `STATE_OPEN`. */
  OPEN: 1,
  /** Godot: `STATE_CLOSING`. */
  CLOSING: 2,
  /** Godot: `STATE_CLOSED`. */
  CLOSED: 3,
} as const
export type WebSocketState = (typeof WebSocketState)[keyof typeof WebSocketState]

/** Godot: `WebSocketPeer.WriteMode` (`WRITE_MODE_TEXT`, `WRITE_MODE_BINARY`). */
export const WriteMode = {
  /** A text (UTF-8) message. Godot: `WRITE_MODE_TEXT`. */
  TEXT: 0,
  /** A binary message (the default). Godot: `WRITE_MODE_BINARY`. */
  BINARY: 1,
} as const
export type WriteMode = (typeof WriteMode)[keyof typeof WriteMode]

/** Counters of one connection: every message in and out, and what was dropped. */
export interface PeerStats {
  /** Messages received (the id message and framing included). */
  packetsIn: number
  /** Bytes received, in whole messages. */
  bytesIn: number
  /** Messages sent. */
  packetsOut: number
  /** Bytes sent, in whole messages. */
  bytesOut: number
  /** Messages that broke the framing rules (truncated, unknown or misdirected commands). */
  protocolErrors: number
  /** Dropped messages and packets, by {@link DropReason}. */
  dropped: Partial<Record<DropReason, number>>
}

/** The `dropped` of counters that have dropped nothing yet: one shared, frozen, empty object. */
const NO_DROPS: Partial<Record<DropReason, number>> = Object.freeze({})

/** A fresh, zeroed {@link PeerStats}. */
export function createPeerStats(): PeerStats {
  return { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, protocolErrors: 0, dropped: NO_DROPS }
}

/**
 * @internal Counts `n` dropped messages in `stats.dropped` (made at the first drop: an idle
 * connection keeps none); true when they are the first of their reason.
 */
export function countDrop(stats: PeerStats, reason: DropReason, n = 1): boolean {
  if (stats.dropped === NO_DROPS) stats.dropped = {}
  const before = stats.dropped[reason] ?? 0
  stats.dropped[reason] = before + n
  return before === 0
}

/** Godot's default `inbound_buffer_size`: the largest message accepted, in bytes. */
export const DEFAULT_INBOUND_BUFFER_SIZE = 65535
/** Godot's default `outbound_buffer_size`: bytes that may wait to be sent. */
export const DEFAULT_OUTBOUND_BUFFER_SIZE = 65535
/** Godot's default `max_queued_packets`: unread packets per connection. */
export const DEFAULT_MAX_QUEUED_PACKETS = 4096

/** Options of a {@link WebSocketPeer}; each is also a property. */
export interface WebSocketPeerOptions extends PacketPeerOptions {
  /** Extra `Name: value` header lines for the handshake (Node only; browsers cannot set headers). */
  handshakeHeaders?: string[]
  /** Seconds between pings; a ping unanswered by the next one closes the connection. 0 (default) = off. */
  heartbeatInterval?: number
  /** The largest message accepted, in bytes; larger closes with 1009. Defaults to 65535. */
  inboundBufferSize?: number
  /** Unread packets before reading pauses (Node) or the connection closes (browsers). Defaults to 4096. */
  maxQueuedPackets?: number
  /** Bytes that may wait to be sent; 0 disables the check. Defaults to 65535. */
  outboundBufferSize?: number
  /** WebSocket subprotocols to offer (client) or accept (server). Defaults to none. */
  supportedProtocols?: string[]
}

/**
 * Receives a connection's events instead of the peer's own queue: how a multiplayer peer drives
 * the sockets it owns. Calls arrive on the event loop as the I/O happens.
 * @internal
 */
export interface PeerSink {
  onOpen(peer: WebSocketPeer): void
  onMessage(peer: WebSocketPeer, data: Uint8Array, isString: boolean): void
  onClose(peer: WebSocketPeer, code: number, reason: string): void
  /** The outbound buffer drained (after `_watchDrain`): what waited for room may go. */
  onDrain?(peer: WebSocketPeer): void
}


/**
 * A connection's settings: `handshakeHeaders`, `heartbeatInterval`, `inboundBufferSize`,
 * `maxQueuedPackets`, `outboundBufferSize`, `supportedProtocols` (underscore names: the script-tag
 * build shortens those). Never changed in place: a setter makes a new object, so the connections a
 * server accepts share their template's (one field each instead of six).
 */
interface PeerSettings {
  readonly _headers: string[]
  readonly _heartbeat: number
  readonly _inbound: number
  readonly _maxQueued: number
  readonly _outbound: number
  readonly _protocols: string[]
}

const DEFAULT_SETTINGS: PeerSettings = {
  _headers: [],
  _heartbeat: 0,
  _inbound: DEFAULT_INBOUND_BUFFER_SIZE,
  _maxQueued: DEFAULT_MAX_QUEUED_PACKETS,
  _outbound: DEFAULT_OUTBOUND_BUFFER_SIZE,
  _protocols: [],
}

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
const warnedOnce = new Set<string>()

/** Cuts a close reason to the 123 bytes of UTF-8 a close frame can carry. */
function closeReason(reason: string): string {
  let out = reason
  while (utf8.encode(out).length > 123) out = out.slice(0, -1)
  return out
}

function stringList(name: string, value: string[]): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new TypeError(`${name} must be an array of strings`)
  return [...value]
}

/**
 * One WebSocket connection, poll-driven like Godot's: events arrive on the event loop into an
 * inbox and `poll()` applies them in order (state changes, packets). Works standalone in browsers
 * and Node (client), and is what a server hands out for each connected peer (`getPeer(id)`).
 *
 * Godot: `WebSocketPeer`.
 */
export class WebSocketPeer extends PacketPeer implements PacketSource, SocketHandler {
  /** Godot: `WebSocketPeer.State`. */
  static readonly State = WebSocketState
  /** Godot: `WebSocketPeer.WriteMode`. */
  static readonly WriteMode = WriteMode

  /** The platform's socket (`ws`'s in Node, the browser's WebSocket), driven through `_driver`. */
  /** @internal */
  protected _socket: unknown = null
  /** How `_socket` is driven: this build's platform driver, or the one a server accepted it with. */
  /** @internal */
  protected _driver: SocketDriver = socketDriver
  /** @internal */
  protected _state: WebSocketState = WebSocketState.CLOSED
  protected _requestedUrl = ''
  protected _protocol = ''
  private _closeCode = -1
  private _closeReason = ''
  /** @internal */
  protected _inbox: (Packet | Deferred)[] = []
  /** @internal */
  protected _queue = new Queue<Packet>()
  private _lastWasString = false
  /** Packets handed on and not yet read (waiting, or in the application's queue), and their bytes. */
  private _unread = 0
  private _unreadBytes = 0
  /** Packets of this connection in its owner's queue (at most `maxQueuedPackets`; see takeSlot). */
  private _queued = 0
  /** @internal Receivers with a full outbound buffer that this connection's relays wait for (a server's). */
  _waitingFor = 0
  protected _paused = false
  /** The driver's heartbeat (see `SocketDriver.startHeartbeat`), or null. */
  private _heartbeatTimer: unknown = null
  private _closingLocally = false
  /** UNRELIABLE_ORDERED frames held under congestion: the newest per channel. */
  private _held: Map<number, Uint8Array> | null = null
  private _drainWatched = false
  /** Set when the server refused the upgrade with an HTTP status (its reason is in `_lastError`). */
  private _wasRefused = false
  /** The six settings below, in one object shared with the template (see PeerSettings). */
  private _settings: PeerSettings = DEFAULT_SETTINGS
  /** @internal Receives events instead of the inbox when a multiplayer peer owns this socket. */
  _sink: PeerSink | null = null
  /** @internal The peer id the owning multiplayer peer gave this connection (0 standalone). */
  _id = 0
  /** @internal This connection's counters. */
  _stats: PeerStats = createPeerStats()
  /** @internal Why this side closed the connection on a limit (browsers: 4009, 4004), for the owner to report; '' otherwise. */
  _limitClose = ''

  constructor(options: WebSocketPeerOptions = {}) {
    super()
    applyOptions(this, options)
  }

  /**
   * Extra `Name: value` header lines: sent with a client's upgrade request (Node), or added to a
   * server's 101 response. Browsers cannot set headers: there they are dropped with a one-time
   * warning. The getter returns a copy. Godot: `handshake_headers`.
   */
  get handshakeHeaders(): string[] {
    return [...this._settings._headers]
  }
  /** Sets `handshakeHeaders`; the getter says which values are accepted. */
  set handshakeHeaders(value: string[]) {
    const lines = stringList('handshakeHeaders', value)
    const bad = lines.find((line) => !/^[\w!#$%&'*+.^`|~-]+:/.test(line))
    if (bad !== undefined) {
      this._warn(`handshakeHeaders: '${bad}' is not a 'Name: value' line; keeping the old ones`)
      return
    }
    this._set({ _headers: lines })
  }

  /**
   * Seconds between heartbeat pings while OPEN; a ping still unanswered when the next is due
   * closes the connection: a close frame with {@link CloseCode.HEARTBEAT_TIMEOUT} (4001,
   * "heartbeat timeout") is written and the socket dropped at once, so a dead peer is detected
   * within two intervals and `getLastError()` says "heartbeat timeout". The close is not clean
   * (`getCloseCode()` −1), as in Godot. 0 (default) turns it off; negative values are rejected.
   * Changing it while OPEN restarts the pings. No effect in browsers, which answer pings but
   * cannot send them.
   *
   * Cost: one unref'd interval timer per connection. Node keeps all timers of one duration in a
   * single list under one system timer, so thousands of idle peers sharing an interval cost one
   * small object each and one timer wake-up per interval.
   *
   * Godot 4.4: `heartbeat_interval`.
   */
  get heartbeatInterval(): number {
    return this._settings._heartbeat
  }
  /** Sets `heartbeatInterval`; the getter says which values are accepted. */
  set heartbeatInterval(value: number) {
    if (!this._valid('heartbeatInterval', value, 0)) return
    this._set({ _heartbeat: value })
    if (this._state === WebSocketState.OPEN) this._startHeartbeat()
  }

  /**
   * The largest message accepted, in bytes (the whole WebSocket message payload, wsmp's framing
   * bytes included). A larger one closes the connection: with 1009 "Message too big" on Node
   * (`ws`'s `maxPayload`), with {@link CloseCode.MESSAGE_TOO_BIG_BROWSER} (4009) in browsers,
   * which may not send 1009. The message is counted as `dropped.oversize` and `getLastError()`
   * names the limit. Applied when a connection opens. Default 65535 ({@link DEFAULT_INBOUND_BUFFER_SIZE}).
   * Godot: `inbound_buffer_size`.
   */
  get inboundBufferSize(): number {
    return this._settings._inbound
  }
  /** Sets `inboundBufferSize`; the getter says which values are accepted. */
  set inboundBufferSize(value: number) {
    if (this._valid('inboundBufferSize', value, 1, Infinity, true)) this._set({ _inbound: value })
  }

  /**
   * Packets received but not yet read, per connection. When full, a Node peer stops reading the
   * socket (`ws.pause()`: TCP backpressure reaches the sender, whose outbound buffer fills) until
   * the application reads packets below the limit again; nothing is dropped. A few messages
   * already read from the socket may still arrive after the pause (at most one socket read's
   * worth); they are queued, never dropped. A browser, which cannot pause a socket, closes the
   * connection with {@link CloseCode.INBOUND_QUEUE_FULL} (4004) rather than drop a packet.
   * Default 4096 ({@link DEFAULT_MAX_QUEUED_PACKETS}). Godot: `max_queued_packets`.
   */
  get maxQueuedPackets(): number {
    return this._settings._maxQueued
  }
  /** Sets `maxQueuedPackets`; the getter says which values are accepted. */
  set maxQueuedPackets(value: number) {
    if (!this._valid('maxQueuedPackets', value, 1, Infinity, true)) return
    this._set({ _maxQueued: value })
    this._updateReading()
  }

  /**
   * Bytes that may wait to be sent (`getCurrentOutboundBufferedAmount()`: on Node what the OS
   * socket buffer did not take yet, in browsers `bufferedAmount`). A send that would make it pass
   * the limit returns `ERR_OUT_OF_MEMORY` and sends nothing; 0 disables the check. Default 65535
   * ({@link DEFAULT_OUTBOUND_BUFFER_SIZE}).
   *
   * The connection is **congested** for a packet when `getCurrentOutboundBufferedAmount()` plus
   * the packet's bytes (framing included) exceed `outboundBufferSize` (never when it is 0) — that
   * is, exactly when a reliable packet would fail. A multiplayer peer then drops an UNRELIABLE
   * packet (counted as `dropped.congestion`) and holds an UNRELIABLE_ORDERED one as the newest of
   * its channel (an older held one is replaced and counted), sending it once it fits: when the
   * socket drains (Node), at the next `poll()` or send. Godot: `outbound_buffer_size`.
   */
  get outboundBufferSize(): number {
    return this._settings._outbound
  }
  /** Sets `outboundBufferSize`; the getter says which values are accepted. */
  set outboundBufferSize(value: number) {
    if (this._valid('outboundBufferSize', value, 0, Infinity, true)) this._set({ _outbound: value })
  }

  /**
   * Subprotocols offered (client) or accepted (server); entries are trimmed. A server picks the
   * first one in the client's order that it supports. The getter returns a copy. Godot:
   * `supported_protocols`.
   */
  get supportedProtocols(): string[] {
    return [...this._settings._protocols]
  }
  /** Sets `supportedProtocols`; the getter says which values are accepted. */
  set supportedProtocols(value: string[]) {
    this._set({ _protocols: stringList('supportedProtocols', value).map((p) => p.trim()).filter((p) => p.length > 0) })
  }

  private _set(change: Partial<PeerSettings>): void {
    this._settings = { ...this._settings, ...change }
  }

  /**
   * Connects to a `ws://` or `wss://` URL (a URL without a scheme gets `ws://`). Returns OK and
   * goes CONNECTING; the outcome shows in `getReadyState()` after `poll()`. `tlsClientOptions`
   * customise certificate checks (Node; browsers use their own trust store).
   *
   * Errors: `ERR_ALREADY_IN_USE` unless CLOSED or CLOSING; `ERR_INVALID_PARAMETER` for an empty or
   * malformed URL, another scheme, or server TLS options.
   *
   * Godot: `connect_to_url(url, tls_client_options)`.
   */
  connectToUrl(url: string, tlsClientOptions: TLSOptions | null = null): ErrorCode {
    return this._connect(url, tlsClientOptions, 'connectToUrl')
  }

  /** @internal `connectToUrl` for `caller` (named in the errors): also how a multiplayer client connects. */
  _connect(url: string, tlsClientOptions: TLSOptions | null, caller: string): ErrorCode {
    if (typeof url !== 'string') throw new TypeError(`${caller}: url must be a string, got ${typeof url}`)
    if (this._state !== WebSocketState.CLOSED && this._state !== WebSocketState.CLOSING) {
      return this._fail(ErrorCode.ERR_ALREADY_IN_USE, `${caller}: already connecting or open`)
    }
    if (tlsClientOptions !== null && !(tlsClientOptions instanceof TLSOptions)) throw new TypeError(`${caller}: tlsClientOptions must be a TLSOptions`)
    if (tlsClientOptions?.isServer()) {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `${caller}: server TLS options given to a client`)
    }
    const trimmed = url.trim()
    if (trimmed === '') return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `${caller}: the URL is empty`)
    const full = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `ws://${trimmed}`
    let parsed: URL
    try {
      parsed = new URL(full)
    } catch {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `${caller}: '${url}' is not a valid URL`)
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `${caller}: the scheme must be ws:// or wss://, got '${parsed.protocol}//'`)
    }
    this._reset()
    const driver = socketDriver
    let socket: unknown
    try {
      socket = driver.connect(
        full,
        { protocols: this._settings._protocols, headers: this._settings._headers, maxPayload: this._settings._inbound, tls: tlsClientOptions },
        this,
      )
    } catch (err) {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `${caller}: ${(err as Error).message}`)
    }
    this._driver = driver
    this._socket = socket
    this._requestedUrl = url
    this._state = WebSocketState.CONNECTING
    return ErrorCode.OK
  }

  /**
   * @internal Copies this peer's settings into another (how a multiplayer peer's template
   * becomes a new connection's settings).
   */
  _copySettingsTo(peer: WebSocketPeer): void {
    peer._logger = this._logger
    peer._settings = this._settings
    peer.encodeBufferMaxSize = this.encodeBufferMaxSize
  }

  /**
   * Closes the connection. OPEN: sends a close frame with `code` and `reason` (at most 123 bytes
   * of UTF-8) and goes CLOSING; keep polling until CLOSED. CONNECTING: drops the connection and
   * goes CLOSED. A negative code drops the connection at once without telling the other side.
   * Unread packets are discarded.
   *
   * Godot: `close(code = 1000, reason = "")`.
   */
  close(code = 1000, reason = ''): void {
    if (!Number.isInteger(code)) throw new TypeError('close code must be an integer')
    this._inbox = []
    this._queue.clear()
    this._unread = 0
    this._unreadBytes = 0
    const socket = this._socket
    if (socket === null || this._state === WebSocketState.CLOSED) return
    this._stopHeartbeat()
    this._held = null
    this._closingLocally = true
    if (code < 0 || this._state === WebSocketState.CONNECTING) {
      this._drop(code < 0 ? -1 : code, reason)
      return
    }
    if (this._state === WebSocketState.CLOSING) return
    if (!this._driver.isValidCloseCode(code)) {
      this._warn(`close: ${code} is not a close code this side may send; closing with 1000`)
      code = 1000
    }
    this._state = WebSocketState.CLOSING
    try {
      this._driver.close(socket, code, closeReason(reason))
    } catch (err) {
      this._warn(`close: ${(err as Error).message}`)
      this._drop(-1, reason)
    }
  }

  /** The close code the other side sent, or −1 when the close was not clean. Godot: `get_close_code()`. */
  getCloseCode(): number {
    return this._closeCode
  }

  /** The close reason the other side sent. Godot: `get_close_reason()`. */
  getCloseReason(): string {
    return this._closeReason
  }

  /** The remote IP address ('' in browsers, which do not expose it). Godot: `get_connected_host()`. */
  getConnectedHost(): string {
    if (this._socket === null) return ''
    const driver = this._driver
    if (!driver.remoteAddress) {
      this._fail(ErrorCode.ERR_UNAVAILABLE, 'getConnectedHost: browsers do not expose the remote address')
      return ''
    }
    return driver.remoteAddress(this._socket)
  }

  /** The remote port (0 in browsers). Godot: `get_connected_port()`. */
  getConnectedPort(): number {
    if (this._socket === null) return 0
    const driver = this._driver
    if (!driver.remotePort) {
      this._fail(ErrorCode.ERR_UNAVAILABLE, 'getConnectedPort: browsers do not expose the remote port')
      return 0
    }
    return driver.remotePort(this._socket)
  }

  /** Bytes queued but not yet sent. Godot: `get_current_outbound_buffered_amount()`. */
  getCurrentOutboundBufferedAmount(): number {
    return this._socket === null ? 0 : this._driver.bufferedAmount(this._socket)
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED, as of the last `poll()`. Godot: `get_ready_state()`. */
  getReadyState(): WebSocketState {
    return this._state
  }

  /** The URL given to `connectToUrl`; on a server, `ws(s)://` + Host + path of the request. Godot: `get_requested_url()`. */
  getRequestedUrl(): string {
    return this._requestedUrl
  }

  /** The negotiated subprotocol, or ''. Godot: `get_selected_protocol()`. */
  getSelectedProtocol(): string {
    return this._protocol
  }

  /**
   * Applies what arrived since the last call, in order: the connection opening, messages (which
   * become readable packets), the close. Godot: `poll()`.
   */
  poll(): void {
    if (this._held !== null) this._flushHeld()
    if (this._inbox.length === 0) return
    const batch = this._inbox
    this._inbox = []
    // The queue holds at most maxQueuedPackets: the rest waits, in order, for the next poll.
    let i = 0
    for (; i < batch.length; i++) {
      const entry = batch[i] as Packet | Deferred
      if (entry instanceof Deferred) entry.run()
      else if (this._queue.length < this._settings._maxQueued) this._packets().push(entry)
      else break
    }
    if (i < batch.length) this._inbox = batch.slice(i).concat(this._inbox)
  }

  /**
   * Sends one message: binary, or text (the bytes must be UTF-8). `FAILED` unless OPEN,
   * `ERR_OUT_OF_MEMORY` when it would pass `outboundBufferSize`.
   *
   * Godot: `send(message, write_mode = WRITE_MODE_BINARY)`.
   */
  send(message: BinaryData, writeMode: WriteMode = WriteMode.BINARY): ErrorCode {
    const bytes = toBytes(message)
    if (writeMode === WriteMode.TEXT) {
      let text: string
      try {
        text = strictUtf8.decode(bytes)
      } catch {
        return this._fail(ErrorCode.ERR_INVALID_PARAMETER, 'send: a text message must be valid UTF-8')
      }
      return this._send(text, bytes.length, false, TransferMode.RELIABLE)
    }
    if (writeMode !== WriteMode.BINARY) throw new TypeError(`writeMode must be a WriteMode (0 or 1), got ${String(writeMode)}`)
    return this._send(bytes, bytes.length, true, TransferMode.RELIABLE)
  }

  /** Sends a string as a text message. Godot: `send_text(message)`. */
  sendText(message: string): ErrorCode {
    if (typeof message !== 'string') throw new TypeError('sendText takes a string')
    return this._send(message, utf8.encode(message).length, false, TransferMode.RELIABLE)
  }

  /** Sends one packet as a binary message; an empty one returns OK and sends nothing. Godot: `put_packet()`. */
  putPacket(data: BinaryData): ErrorCode {
    const bytes = toBytes(data)
    if (bytes.length === 0) return ErrorCode.OK
    return this._send(bytes, bytes.length, true, TransferMode.RELIABLE)
  }

  /** Turns Nagle's algorithm off (true, the default) or on. Node only. Godot: `set_no_delay()`. */
  setNoDelay(enabled: boolean): void {
    const driver = this._driver
    if (!driver.setNoDelay) {
      this._warn('setNoDelay: browsers do not expose the TCP socket')
      return
    }
    if (this._socket !== null) driver.setNoDelay(this._socket, Boolean(enabled))
  }

  /** This connection's counters: messages and bytes in and out, drops by reason, protocol errors. */
  getStats(): PeerStats {
    return this._stats
  }

  /** Whether the last packet taken arrived as a text message. Godot: `was_string_packet()`. */
  wasStringPacket(): boolean {
    return this._lastWasString
  }

  /** Packets ready to read. Godot: `get_available_packet_count()`. */
  getAvailablePacketCount(): number {
    return this._queue.length
  }

  /** Takes the next packet; empty with `ERR_UNAVAILABLE` when none is queued. Godot: `get_packet()`. */
  getPacket(): Uint8Array {
    const packet = this._queue.shift()
    if (!packet) {
      this._packetError = this._fail(ErrorCode.ERR_UNAVAILABLE, 'getPacket: no packet is queued')
      return new Uint8Array(0)
    }
    this._packetError = ErrorCode.OK
    this._lastWasString = packet.wasString
    this.releasePacket(packet.data.length, false)
    return plainBytes(packet.data)
  }

  /** @internal PacketSource: room for one more packet of this connection in its owner's queue. */
  takeSlot(): boolean {
    if (this._queued >= this._settings._maxQueued) return false
    this._queued++
    return true
  }

  /** @internal PacketSource: a packet was read; reading resumes once below the limits again. */
  releasePacket(size: number, queued: boolean): void {
    if (this._unread > 0) this._unread--
    this._unreadBytes = Math.max(0, this._unreadBytes - size)
    if (queued && this._queued > 0) this._queued--
    if (this._paused) this._updateReading()
  }

  /**
   * @internal Sends a framed packet for a multiplayer peer. RELIABLE: `ERR_OUT_OF_MEMORY` (nothing
   * sent) when it would pass `outboundBufferSize`. When congested (see `outboundBufferSize`) an
   * UNRELIABLE packet is dropped and an UNRELIABLE_ORDERED one held as the newest of `channel`;
   * both return OK and count `dropped.congestion`.
   */
  _sendPacket(frame: Uint8Array, mode: TransferMode, channel = 0, extra = 0): ErrorCode {
    if (this._held !== null) this._flushHeld()
    if (mode === TransferMode.RELIABLE || this._socket === null || this._state !== WebSocketState.OPEN) {
      return this._send(frame, frame.length, true, TransferMode.RELIABLE, extra)
    }
    if (mode === TransferMode.UNRELIABLE_ORDERED) {
      const held = this._held
      if (held !== null && held.has(channel)) {
        // An older packet of this channel is still waiting: the newest replaces it.
        held.set(channel, frame.slice())
        this._countCongestion()
        return ErrorCode.OK
      }
      if (!this._fits(frame.length)) {
        ;(this._held ??= new Map()).set(channel, frame.slice())
        this._watchDrain()
        return ErrorCode.OK
      }
    } else if (!this._fits(frame.length)) {
      this._countCongestion()
      return ErrorCode.OK
    }
    return this._send(frame, frame.length, true, TransferMode.RELIABLE)
  }

  /** @internal Sends the held UNRELIABLE_ORDERED packets that fit now. */
  _flushHeld(): void {
    const held = this._held
    if (held === null) return
    if (this._state !== WebSocketState.OPEN) {
      this._held = null
      return
    }
    for (const [channel, frame] of held) {
      if (!this._fits(frame.length)) continue
      held.delete(channel)
      this._send(frame, frame.length, true, TransferMode.RELIABLE)
    }
    if (held.size === 0) this._held = null
    else this._watchDrain()
  }

  private _countCongestion(): void {
    countDrop(this._stats, DropReason.CONGESTION)
  }

  /**
   * @internal Flushes held packets once the socket drains, and tells the owner (`onDrain`), whose
   * relays may wait for room (Node: on the drain event, or after a short delay that doubles,
   * 5 ms … 160 ms). A socket that cannot tell (browsers) flushes at `poll()` instead.
   */
  _watchDrain(): void {
    const driver = this._driver
    if (!driver.watchDrain || this._socket === null || this._drainWatched) return
    this._drainWatched = true
    driver.watchDrain(this._socket, () => {
      this._drainWatched = false
      this._flushHeld()
      this._sink?.onDrain?.(this)
    })
  }


  /**
   * @internal Whether a frame of `size` bytes fits in the outbound buffer now, under
   * `outboundBufferSize` plus `extra` bytes.
   */
  _fits(size: number, extra = 0): boolean {
    const limit = this._settings._outbound
    return limit === 0 || this._socket === null || this._driver.hasRoom(this._socket, size, limit + extra)
  }

  /**
   * @internal Counts a packet of `size` bytes handed on unread; at `maxQueuedPackets` packets or
   * `inboundBufferSize` bytes unread the socket stops being read (or, where it cannot, closes).
   */
  _countUnread(size: number): void {
    this._unread++
    this._unreadBytes += size
    if (!this._paused && (this._unread >= this._settings._maxQueued || this._unreadBytes >= this._settings._inbound)) this._updateReading()
  }

  /**
   * @internal Reads the socket, or stops reading it (TCP backpressure reaches the sender): stopped
   * while `maxQueuedPackets` packets or `inboundBufferSize` bytes are unread (Godot's inbound ring is
   * that many bytes), or while this connection's relays wait for a receiver with a full outbound
   * buffer. A socket that cannot pause (browsers) closes at `maxQueuedPackets` instead.
   */
  _updateReading(): void {
    const full = this._unread >= this._settings._maxQueued
    const pause = full || this._unreadBytes >= this._settings._inbound || this._waitingFor > 0
    if (pause === this._paused) return
    const driver = this._driver
    if (!driver.pause) {
      if (!full) return
      const reason = `inbound queue full (maxQueuedPackets = ${this._settings._maxQueued}): browsers cannot pause a socket; closing with ${CloseCode.INBOUND_QUEUE_FULL}`
      this._warn(reason)
      this._lastError = this._limitClose = reason
      this.close(CloseCode.INBOUND_QUEUE_FULL, 'inbound queue full')
      return
    }
    this._paused = pause
    if (this._socket === null) return
    if (pause) driver.pause(this._socket)
    else if (this._state === WebSocketState.OPEN || this._state === WebSocketState.CLOSING) driver.resume?.(this._socket)
  }

  private _send(data: Uint8Array | string, size: number, binary: boolean, mode: TransferMode, extra = 0): ErrorCode {
    const socket = this._socket
    if (socket === null || this._state !== WebSocketState.OPEN) return this._fail(ErrorCode.FAILED, 'send: the connection is not open')
    if (size === 0) return ErrorCode.OK
    if (!this._fits(size, extra)) {
      if (mode !== TransferMode.RELIABLE) return ErrorCode.OK
      return this._fail(
        ErrorCode.ERR_OUT_OF_MEMORY,
        `send: ${size} bytes would pass outboundBufferSize (${this._settings._outbound}; ${this._driver.bufferedAmount(socket)} already queued)`,
      )
    }
    this._driver.send(socket, data, binary)
    this._stats.packetsOut++
    this._stats.bytesOut += size
    return ErrorCode.OK
  }

  private _reset(): void {
    this._stats = createPeerStats()
    this._inbox = []
    this._queue.clear()
    this._unread = 0
    this._unreadBytes = 0
    this._queued = 0
    this._paused = false
    this._protocol = ''
    this._closeCode = -1
    this._closeReason = ''
    this._closingLocally = false
    this._held = null
    this._wasRefused = false
    this._limitClose = ''
    this._lastError = ''
  }

  /** @internal The inbox (a server's connections make theirs on first use). */
  protected _entries(): (Packet | Deferred)[] {
    return this._inbox
  }

  /** @internal The packet queue (a server's connections make theirs on first use). */
  protected _packets(): Queue<Packet> {
    return this._queue
  }

  /** Runs a state change now (owned by a multiplayer peer) or at the next poll (standalone). */
  private _event(apply: () => void): void {
    if (this._sink) apply()
    else this._entries().push(new Deferred(apply))
  }

  // ---- SocketHandler: what the socket reports, on the event loop -------------------------------

  /** @internal */
  _opened(): void {
    this._event(() => {
      if (this._state !== WebSocketState.CONNECTING) return
      this._state = WebSocketState.OPEN
      if (this._socket !== null) this._protocol = this._driver.protocol(this._socket)
      this._startHeartbeat()
      this._sink?.onOpen(this)
    })
  }

  /** @internal */
  _message(data: Uint8Array, isString: boolean): void {
    this._stats.packetsIn++
    this._stats.bytesIn += data.length
    if (this._sink) {
      this._sink.onMessage(this, data, isString)
      return
    }
    if (this._closingLocally) {
      // Closed by this side (or detached by its multiplayer peer): nothing more is delivered.
      countDrop(this._stats, DropReason.NOT_CONNECTED)
      return
    }
    this._countUnread(data.length)
    this._entries().push({ data, from: 1, channel: 0, mode: TransferMode.RELIABLE, wasString: isString, source: null })
  }

  /** @internal */
  _closed(code: number, reason: string): void {
    this._event(() => {
      if (this._state === WebSocketState.CLOSED) return
      this._stopHeartbeat()
      this._held = null
      this._state = WebSocketState.CLOSED
      this._closeCode = code
      this._closeReason = reason
      if (code === -1 && this._lastError === '') this._lastError = 'the connection closed without a close frame'
      this._sink?.onClose(this, code, reason)
    })
  }

  /** @internal */
  _error(reason: string): void {
    if (!this._wasRefused) this._lastError = reason
  }

  /** @internal */
  _tooBig(size: number, closeCode: number | null): void {
    const reason = `a message${size < 0 ? '' : ` of ${size} bytes`} over inboundBufferSize (${this._settings._inbound} bytes); closed with ${closeCode ?? CloseCode.MESSAGE_TOO_BIG}`
    this._lastError = reason
    countDrop(this._stats, DropReason.OVERSIZE)
    if (closeCode === null) return
    // Read whole before it could be refused (browsers): it counts as received.
    this._stats.packetsIn++
    this._stats.bytesIn += size
    this._warn(reason)
    this._limitClose = reason
    this.close(closeCode, 'message too big')
  }

  /** @internal */
  _refused(reason: string): void {
    this._lastError = reason
    this._wasRefused = true
  }

  /** @internal Writes a warning once per process. */
  _warnOnce(message: string): void {
    if (warnedOnce.has(message)) return
    warnedOnce.add(message)
    this._warn(message)
  }

  // ---- closing and heartbeat ------------------------------------------------------------------

  /** Drops the connection without a close handshake; CLOSED at once. */
  private _drop(code: number, reason: string): void {
    if (this._socket !== null) this._driver.terminate(this._socket)
    this._stopHeartbeat()
    if (this._state !== WebSocketState.CLOSED) {
      this._state = WebSocketState.CLOSED
      this._closeCode = code
      this._closeReason = reason
      // The socket's own close event will find the peer CLOSED and stop there: tell the owner now.
      this._sink?.onClose(this, code, reason)
    }
  }

  protected _startHeartbeat(): void {
    this._stopHeartbeat()
    if (this._settings._heartbeat <= 0 || this._socket === null) return
    const driver = this._driver
    if (!driver.startHeartbeat) {
      this._warnOnce('heartbeatInterval is ignored: browsers cannot send pings')
      return
    }
    this._heartbeatTimer = driver.startHeartbeat(this._socket, this._settings._heartbeat, this)
  }

  private _stopHeartbeat(): void {
    if (this._heartbeatTimer !== null) this._driver.stopHeartbeat?.(this._heartbeatTimer)
    this._heartbeatTimer = null
  }
}
