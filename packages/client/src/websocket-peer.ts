import WebSocket from 'isomorphic-ws'
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

/** A fresh, zeroed {@link PeerStats}. */
export function createPeerStats(): PeerStats {
  return { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, protocolErrors: 0, dropped: {} }
}

/** @internal Counts a dropped message in `stats.dropped`; true when it is the first of its reason. */
export function countDrop(stats: PeerStats, reason: DropReason): boolean {
  const before = stats.dropped[reason] ?? 0
  stats.dropped[reason] = before + 1
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
}

/** The part of `ws`'s WebSocket (Node) and the browser's WebSocket that wsmp uses. */
interface Socket {
  readyState: number
  protocol: string
  bufferedAmount: number
  binaryType: string
  send(data: unknown, options?: unknown): void
  close(code?: number, reason?: string): void
  // Node (`ws`) only:
  on?(event: string, listener: (...args: any[]) => void): void
  terminate?(): void
  ping?(): void
  pause?(): void
  resume?(): void
  _socket?: TcpSocket | null
  // ws internals read by the server's pre-framed write (see canWriteFrame):
  _isServer?: boolean
  _extensions?: Record<string, unknown>
  _sender?: { _state: number; _queue: unknown[]; _firstFragment: boolean } | null
  // Browser only:
  onopen?: ((event: unknown) => void) | null
  onmessage?: ((event: { data: unknown }) => void) | null
  onclose?: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null
  onerror?: ((event: unknown) => void) | null
}

/** The Node TCP socket under a `ws` WebSocket (the part wsmp uses). */
interface TcpSocket {
  remoteAddress?: string
  remotePort?: number
  writableLength: number
  writableNeedDrain?: boolean
  setNoDelay(enabled?: boolean): void
  once(event: 'drain', listener: () => void): void
  cork(): void
  uncork(): void
  write(chunk: Uint8Array): boolean
}

/** `ws.send` options, made once so that a send allocates none. */
const BINARY = { binary: true }
const TEXT = { binary: false }

/**
 * Write batching (Node). The first send of a callback corks the connection's TCP socket; every
 * corked socket is uncorked together as soon as that callback returns (process.nextTick). So the
 * many small frames a relay or a broadcast writes while handling one socket read leave in one
 * `writev` per connection instead of one system call each, and nothing waits for a later turn. A connection hands its batch to the system early
 * once FLUSH_AT bytes are corked, and before `_fits` reports a full outbound buffer, so
 * `outboundBufferSize` means what it meant without batching.
 */
const FLUSH_AT = 16 * 1024
const corked: WebSocketPeer[] = []
let flushScheduled = false
const nodeProcess = (globalThis as { process?: { nextTick?: (run: () => void) => void } }).process
const scheduleFlush = typeof nodeProcess?.nextTick === 'function' ? (run: () => void): void => nodeProcess.nextTick?.(run) : null
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafe(size: number): Uint8Array } }).Buffer

function flushCorked(): void {
  flushScheduled = false
  sharedFrame = null
  sharedWire = null
  // A flush may cork again (an error handler that sends): the loop picks those up too.
  for (let i = 0; i < corked.length; i++) (corked[i] as WebSocketPeer)._uncork()
  corked.length = 0
}

/**
 * A broadcast's packet, shared by all its receivers (see `WebSocketPeer._shareFrame`), and the
 * same packet framed once as an unmasked binary WebSocket frame (built at the first receiver
 * that can take it).
 */
let sharedFrame: Uint8Array | null = null
let sharedWire: Uint8Array | null = null

/** `frame` as one unmasked, final, binary WebSocket frame (RFC 6455 §5.2): what ws would write for it. */
function wireFrame(frame: Uint8Array): Uint8Array {
  const length = frame.length
  const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10
  const out = NodeBuffer ? NodeBuffer.allocUnsafe(header + length) : new Uint8Array(header + length)
  out[0] = 0x82
  if (header === 2) {
    out[1] = length
  } else if (header === 4) {
    out[1] = 126
    out[2] = length >>> 8
    out[3] = length & 0xff
  } else {
    out[1] = 127
    const high = Math.floor(length / 0x100000000)
    out[2] = 0
    out[3] = 0
    out[4] = (high >>> 8) & 0xff
    out[5] = high & 0xff
    out[6] = (length >>> 24) & 0xff
    out[7] = (length >>> 16) & 0xff
    out[8] = (length >>> 8) & 0xff
    out[9] = length & 0xff
  }
  out.set(frame, header)
  return out
}

/**
 * Whether `ws` would write a binary message to this socket right now as one plain frame: a server
 * socket (unmasked frames), OPEN, no permessage-deflate, its sender idle (not compressing or
 * reading a blob, nothing queued, not inside a fragmented message). Only then may a pre-framed
 * message go straight to the TCP socket without breaking ws's ordering or state (ws 8.x).
 */
function canWriteFrame(socket: Socket): boolean {
  const sender = socket._sender
  return (
    socket._isServer === true &&
    socket.readyState === 1 &&
    sender != null &&
    sender._state === 0 &&
    sender._queue.length === 0 &&
    sender._firstFragment === true &&
    socket._extensions?.['permessage-deflate'] === undefined
  )
}

/** The shared empty inbox and queue of accepted connections that have not used theirs (never written to). */
const NO_ENTRIES = Object.freeze([]) as unknown as (Packet | Deferred)[]
const NO_PACKETS = new Queue<Packet>()

/** Where a Node socket keeps its peer, for the shared listeners. */
const kPeer = Symbol('wsmp.peer')
type NodeSocket = Socket & { [kPeer]: WebSocketPeer }

const SocketClass = WebSocket as unknown as new (url: string, protocols?: string[], options?: object) => Socket

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
const warnedOnce = new Set<string>()

/** Cuts a close reason to the 123 bytes of UTF-8 a close frame can carry. */
function closeReason(reason: string): string {
  let out = reason
  while (utf8.encode(out).length > 123) out = out.slice(0, -1)
  return out
}

function validCloseCode(code: number, browser: boolean): boolean {
  if (browser) return code === 1000 || (code >= 3000 && code <= 4999)
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
}

function positiveInteger(name: string, value: number, min: number): boolean {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name} must be an integer, got ${String(value)}`)
  return value >= min
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
export class WebSocketPeer extends PacketPeer implements PacketSource {
  /** Godot: `WebSocketPeer.State`. */
  static readonly State = WebSocketState
  /** Godot: `WebSocketPeer.WriteMode`. */
  static readonly WriteMode = WriteMode

  private _socket: Socket | null = null
  private _node = false
  private _state: WebSocketState = WebSocketState.CLOSED
  private _requestedUrl = ''
  private _protocol = ''
  private _closeCode = -1
  private _closeReason = ''
  private _host = ''
  private _port = 0
  private _inbox: (Packet | Deferred)[] = []
  private _queue = new Queue<Packet>()
  private _lastWasString = false
  private _unread = 0
  private _paused = false
  private _heartbeatTimer: ReturnType<typeof setInterval> | null = null
  private _awaitingPong = false
  private _closingLocally = false
  /** UNRELIABLE_ORDERED frames held under congestion: the newest per channel. */
  private _held: Map<number, Uint8Array> | null = null
  private _drainWatched = false
  private _recheckDelay = 5
  /** Set when the server refused the upgrade with an HTTP status (its reason is in `_lastError`). */
  private _refused = false
  private _handshakeHeaders: string[] = []
  private _heartbeatInterval = 0
  private _inboundBufferSize = DEFAULT_INBOUND_BUFFER_SIZE
  private _maxQueuedPackets = DEFAULT_MAX_QUEUED_PACKETS
  private _outboundBufferSize = DEFAULT_OUTBOUND_BUFFER_SIZE
  private _supportedProtocols: string[] = []
  /** @internal Receives events instead of the inbox when a multiplayer peer owns this socket. */
  _sink: PeerSink | null = null
  /** @internal The peer id the owning multiplayer peer gave this connection (0 standalone). */
  _id = 0
  /** @internal This connection's counters. */
  _stats: PeerStats = createPeerStats()
  /** The TCP socket corked until the current callback returns (see flushCorked), or null. */
  private _corkedTcp: TcpSocket | null = null
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
    return [...this._handshakeHeaders]
  }
  /** Sets `handshakeHeaders`; the getter says which values are accepted. */
  set handshakeHeaders(value: string[]) {
    const lines = stringList('handshakeHeaders', value)
    const bad = lines.find((line) => !/^[\w!#$%&'*+.^`|~-]+:/.test(line))
    if (bad !== undefined) {
      this._warn(`handshakeHeaders: '${bad}' is not a 'Name: value' line; keeping the old ones`)
      return
    }
    this._handshakeHeaders = lines
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
    return this._heartbeatInterval
  }
  /** Sets `heartbeatInterval`; the getter says which values are accepted. */
  set heartbeatInterval(value: number) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError('heartbeatInterval must be a number of seconds')
    if (value < 0) {
      this._warn(`heartbeatInterval must not be negative; keeping ${this._heartbeatInterval}`)
      return
    }
    this._heartbeatInterval = value
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
    return this._inboundBufferSize
  }
  /** Sets `inboundBufferSize`; the getter says which values are accepted. */
  set inboundBufferSize(value: number) {
    if (!positiveInteger('inboundBufferSize', value, 1)) {
      this._warn(`inboundBufferSize must be at least 1; keeping ${this._inboundBufferSize}`)
      return
    }
    this._inboundBufferSize = value
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
    return this._maxQueuedPackets
  }
  /** Sets `maxQueuedPackets`; the getter says which values are accepted. */
  set maxQueuedPackets(value: number) {
    if (!positiveInteger('maxQueuedPackets', value, 1)) {
      this._warn(`maxQueuedPackets must be at least 1; keeping ${this._maxQueuedPackets}`)
      return
    }
    this._maxQueuedPackets = value
    this._checkResume()
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
    return this._outboundBufferSize
  }
  /** Sets `outboundBufferSize`; the getter says which values are accepted. */
  set outboundBufferSize(value: number) {
    if (!positiveInteger('outboundBufferSize', value, 0)) {
      this._warn(`outboundBufferSize must not be negative; keeping ${this._outboundBufferSize}`)
      return
    }
    this._outboundBufferSize = value
  }

  /**
   * Subprotocols offered (client) or accepted (server); entries are trimmed. A server picks the
   * first one in the client's order that it supports. The getter returns a copy. Godot:
   * `supported_protocols`.
   */
  get supportedProtocols(): string[] {
    return [...this._supportedProtocols]
  }
  /** Sets `supportedProtocols`; the getter says which values are accepted. */
  set supportedProtocols(value: string[]) {
    this._supportedProtocols = stringList('supportedProtocols', value).map((p) => p.trim()).filter((p) => p.length > 0)
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
    if (typeof url !== 'string') throw new TypeError('url must be a string')
    if (this._state !== WebSocketState.CLOSED && this._state !== WebSocketState.CLOSING) {
      return this._fail(ErrorCode.ERR_ALREADY_IN_USE, 'connectToUrl: already connecting or open')
    }
    if (tlsClientOptions !== null && !(tlsClientOptions instanceof TLSOptions)) throw new TypeError('tlsClientOptions must be a TLSOptions')
    if (tlsClientOptions?.isServer()) {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, 'connectToUrl: server TLS options given to a client')
    }
    const trimmed = url.trim()
    if (trimmed === '') return this._fail(ErrorCode.ERR_INVALID_PARAMETER, 'connectToUrl: the URL is empty')
    const full = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `ws://${trimmed}`
    let parsed: URL
    try {
      parsed = new URL(full)
    } catch {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `connectToUrl: '${url}' is not a valid URL`)
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `connectToUrl: the scheme must be ws:// or wss://, got '${parsed.protocol}//'`)
    }
    let socket: Socket
    try {
      socket = new SocketClass(full, this._supportedProtocols, this._nodeOptions(tlsClientOptions))
    } catch (err) {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `connectToUrl: ${(err as Error).message}`)
    }
    this._reset()
    this._requestedUrl = url
    this._state = WebSocketState.CONNECTING
    this._bind(socket)
    if (!this._node) {
      if (this._handshakeHeaders.length > 0) this._warnOnce('handshakeHeaders are ignored: browsers cannot send them (pass a token in the URL or a subprotocol)')
      if (tlsClientOptions && (tlsClientOptions.isUnsafeClient() || tlsClientOptions.getTrustedCaChain() !== null || tlsClientOptions.getCommonNameOverride() !== '')) {
        this._warnOnce('TLS client options are ignored: browsers use their own trust store')
      }
    }
    return ErrorCode.OK
  }

  /**
   * @internal Wraps a socket a server accepted: the peer starts OPEN.
   */
  static _accept(socket: unknown, requestedUrl: string, host: string, port: number, template: WebSocketPeer, sink: PeerSink): WebSocketPeer {
    const peer = new WebSocketPeer()
    peer._logger = template._logger
    peer._handshakeHeaders = template._handshakeHeaders
    peer._heartbeatInterval = template._heartbeatInterval
    peer._inboundBufferSize = template._inboundBufferSize
    peer._maxQueuedPackets = template._maxQueuedPackets
    peer._outboundBufferSize = template._outboundBufferSize
    peer._supportedProtocols = template._supportedProtocols
    peer.encodeBufferMaxSize = template.encodeBufferMaxSize
    peer._sink = sink
    // A server's connections use neither (their events go to the sink): shared empty placeholders
    // until first use (see _entries, _packets), so an idle connection holds none.
    peer._inbox = NO_ENTRIES
    peer._queue = NO_PACKETS
    peer._requestedUrl = requestedUrl
    peer._host = host
    peer._port = port
    peer._state = WebSocketState.OPEN
    peer._bind(socket as Socket)
    peer._protocol = peer._socket?.protocol ?? ''
    peer._startHeartbeat()
    return peer
  }

  /**
   * @internal Copies this peer's settings into another (how a multiplayer peer's template
   * becomes a new connection's settings).
   */
  _copySettingsTo(peer: WebSocketPeer): void {
    peer._logger = this._logger
    peer._handshakeHeaders = this._handshakeHeaders
    peer._heartbeatInterval = this._heartbeatInterval
    peer._inboundBufferSize = this._inboundBufferSize
    peer._maxQueuedPackets = this._maxQueuedPackets
    peer._outboundBufferSize = this._outboundBufferSize
    peer._supportedProtocols = this._supportedProtocols
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
    const socket = this._socket
    if (!socket || this._state === WebSocketState.CLOSED) return
    this._stopHeartbeat()
    this._held = null
    this._closingLocally = true
    if (code < 0 || this._state === WebSocketState.CONNECTING) {
      this._drop(code < 0 ? -1 : code, reason)
      return
    }
    if (this._state === WebSocketState.CLOSING) return
    if (!validCloseCode(code, !this._node)) {
      this._warn(`close: ${code} is not a close code this side may send; closing with 1000`)
      code = 1000
    }
    this._state = WebSocketState.CLOSING
    try {
      socket.close(code, closeReason(reason))
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
    if (this._host !== '') return this._host
    if (this._socket && !this._node) this._fail(ErrorCode.ERR_UNAVAILABLE, 'getConnectedHost: browsers do not expose the remote address')
    return this._socket?._socket?.remoteAddress ?? ''
  }

  /** The remote port (0 in browsers). Godot: `get_connected_port()`. */
  getConnectedPort(): number {
    if (this._port !== 0) return this._port
    if (this._socket && !this._node) this._fail(ErrorCode.ERR_UNAVAILABLE, 'getConnectedPort: browsers do not expose the remote port')
    return this._socket?._socket?.remotePort ?? 0
  }

  /** Bytes queued but not yet sent. Godot: `get_current_outbound_buffered_amount()`. */
  getCurrentOutboundBufferedAmount(): number {
    if (this._node) this._offerBatch()
    return this._socket?.bufferedAmount ?? 0
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
    for (const entry of batch) {
      if (entry instanceof Deferred) entry.run()
      else (this._node ? this._packets() : this._queue).push(entry)
    }
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
    const tcp = this._socket?._socket
    if (!this._node) {
      this._warn('setNoDelay: browsers do not expose the TCP socket')
      return
    }
    tcp?.setNoDelay(Boolean(enabled))
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
    this.releasePacket()
    return plainBytes(packet.data)
  }

  /** @internal One queued packet was read: resume reading when below the limit again. */
  releasePacket(): void {
    if (this._unread > 0) this._unread--
    this._checkResume()
  }

  /**
   * @internal Sends a framed packet for a multiplayer peer. RELIABLE: `ERR_OUT_OF_MEMORY` (nothing
   * sent) when it would pass `outboundBufferSize`. When congested (see `outboundBufferSize`) an
   * UNRELIABLE packet is dropped and an UNRELIABLE_ORDERED one held as the newest of `channel`;
   * both return OK and count `dropped.congestion`.
   */
  _sendPacket(frame: Uint8Array, mode: TransferMode, channel = 0): ErrorCode {
    if (this._held !== null) this._flushHeld()
    if (mode === TransferMode.RELIABLE || !this._socket || this._state !== WebSocketState.OPEN) {
      return this._send(frame, frame.length, true, TransferMode.RELIABLE)
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

  /** @internal The number of UNRELIABLE_ORDERED packets held under congestion (one per channel at most). */
  get _heldCount(): number {
    return this._held?.size ?? 0
  }

  private _countCongestion(): void {
    countDrop(this._stats, DropReason.CONGESTION)
  }

  /**
   * Node: flush held packets when the TCP socket drains. A socket drains with an event only once
   * its buffer passed Node's high-water mark; below it, check again after a short delay that
   * doubles (5 ms … 160 ms) while the packets stay held. Browsers have no such event: `poll()`
   * flushes there.
   */
  private _watchDrain(): void {
    const tcp = this._socket?._socket
    if (!this._node || !tcp || this._drainWatched) return
    this._drainWatched = true
    const flush = (): void => {
      this._drainWatched = false
      this._flushHeld()
      if (this._held === null) this._recheckDelay = 5
    }
    if (tcp.writableNeedDrain) {
      tcp.once('drain', flush)
    } else {
      const timer = setTimeout(flush, this._recheckDelay)
      ;(timer as { unref?: () => void }).unref?.()
      this._recheckDelay = Math.min(this._recheckDelay * 2, 160)
    }
  }

  /**
   * @internal A server is about to send `frame`, unchanged, to many connections (a broadcast or a
   * relay): it is framed once as a WebSocket frame and those bytes are written to every socket
   * that can take them (see canWriteFrame). Call again with null right after the loop.
   */
  static _shareFrame(frame: Uint8Array | null): void {
    sharedFrame = frame
    sharedWire = null
  }

  /** @internal Whether a frame of `size` bytes fits in the outbound buffer now. */
  _fits(size: number): boolean {
    const limit = this._outboundBufferSize
    if (limit === 0 || (this._socket?.bufferedAmount ?? 0) + size <= limit) return true
    if (!this._node || this._corkedTcp === null) return false
    this._offerBatch()
    return (this._socket?.bufferedAmount ?? 0) + size <= limit
  }

  /**
   * Hands the bytes batched so far (see flushCorked) to the system, keeping the batch open: what
   * the system does not take is then what is really queued. Done before the outbound buffer is
   * reported or found full, so batching never changes what `outboundBufferSize` allows.
   */
  private _offerBatch(): void {
    const tcp = this._corkedTcp
    if (tcp === null) return
    tcp.uncork()
    tcp.cork()
  }

  /** @internal Counts a packet handed to the owner; pauses reading (or closes, in browsers) at the limit. */
  _countUnread(): void {
    this._unread++
    if (this._unread < this._maxQueuedPackets || this._paused) return
    if (this._node) {
      this._paused = true
      this._socket?.pause?.()
    } else {
      const reason = `inbound queue full (maxQueuedPackets = ${this._maxQueuedPackets}): browsers cannot pause a socket; closing with ${CloseCode.INBOUND_QUEUE_FULL}`
      this._warn(reason)
      this._lastError = this._limitClose = reason
      this.close(CloseCode.INBOUND_QUEUE_FULL, 'inbound queue full')
    }
  }

  /** @internal Whether reading is paused for backpressure. */
  get _isPaused(): boolean {
    return this._paused
  }

  private _checkResume(): void {
    if (this._paused && this._unread < this._maxQueuedPackets) {
      this._paused = false
      if (this._state === WebSocketState.OPEN || this._state === WebSocketState.CLOSING) this._socket?.resume?.()
    }
  }

  /** @internal Number of unread packets counted against `maxQueuedPackets`. */
  get _unreadCount(): number {
    return this._unread
  }

  /** @internal Whether this peer runs over Node's `ws` (false in browsers). */
  get _isNode(): boolean {
    return this._node
  }

  private _send(data: Uint8Array | string, size: number, binary: boolean, mode: TransferMode): ErrorCode {
    const socket = this._socket
    if (!socket || this._state !== WebSocketState.OPEN) return this._fail(ErrorCode.FAILED, 'send: the connection is not open')
    if (size === 0) return ErrorCode.OK
    if (!this._fits(size)) {
      if (mode !== TransferMode.RELIABLE) return ErrorCode.OK
      return this._fail(
        ErrorCode.ERR_OUT_OF_MEMORY,
        `send: ${size} bytes would pass outboundBufferSize (${this._outboundBufferSize}; ${socket.bufferedAmount} already queued)`,
      )
    }
    if (this._node) {
      const tcp = socket._socket
      if (tcp && this._corkedTcp !== tcp && scheduleFlush) this._cork(tcp)
      if (data === sharedFrame && tcp && canWriteFrame(socket)) tcp.write((sharedWire ??= wireFrame(data)))
      else socket.send(data, binary ? BINARY : TEXT)
      if (tcp && this._corkedTcp === tcp && tcp.writableLength >= FLUSH_AT) this._offerBatch()
    } else {
      socket.send(data)
    }
    this._stats.packetsOut++
    this._stats.bytesOut += size
    return ErrorCode.OK
  }

  /** Corks `tcp` until the current callback returns (see flushCorked). */
  private _cork(tcp: TcpSocket): void {
    this._uncork()
    tcp.cork()
    this._corkedTcp = tcp
    corked.push(this)
    if (!flushScheduled) {
      flushScheduled = true
      ;(scheduleFlush as (run: () => void) => void)(flushCorked)
    }
  }

  /** @internal Hands what was corked to the system. */
  _uncork(): void {
    const tcp = this._corkedTcp
    if (tcp === null) return
    this._corkedTcp = null
    tcp.uncork()
  }

  private _nodeOptions(tls: TLSOptions | null): object {
    const headers: Record<string, string> = {}
    for (const line of this._handshakeHeaders) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
    }
    const options: Record<string, unknown> = {
      headers,
      maxPayload: this._inboundBufferSize,
      perMessageDeflate: false,
      followRedirects: false,
    }
    if (tls) {
      const ca = tls.getTrustedCaChain()
      if (ca !== null) options['ca'] = typeof ca === 'string' ? ca : plainBytesToString(ca)
      if (tls.isUnsafeClient()) options['rejectUnauthorized'] = false
      if (tls.getCommonNameOverride() !== '') options['servername'] = tls.getCommonNameOverride()
    }
    return options
  }

  private _reset(): void {
    this._stats = createPeerStats()
    this._inbox = []
    this._queue.clear()
    this._unread = 0
    this._paused = false
    this._protocol = ''
    this._closeCode = -1
    this._closeReason = ''
    this._host = ''
    this._port = 0
    this._closingLocally = false
    this._awaitingPong = false
    this._held = null
    this._refused = false
    this._limitClose = ''
    this._lastError = ''
  }

  private _bind(socket: Socket): void {
    this._socket = socket
    if (typeof socket.on === 'function') {
      this._node = true
      // The same listener functions serve every connection (ws calls them with the socket as
      // `this`, which points back here): no closures per connection.
      ;(socket as NodeSocket)[kPeer] = this
      // A socket a server accepted is already open (and has no upgrade response to refuse).
      if (this._state === WebSocketState.CONNECTING) {
        socket.on('open', WebSocketPeer._onSocketOpen)
        socket.on('unexpected-response', WebSocketPeer._onSocketUnexpectedResponse)
      }
      socket.on('message', WebSocketPeer._onSocketMessage)
      socket.on('close', WebSocketPeer._onSocketClose)
      socket.on('error', WebSocketPeer._onSocketError)
      socket.on('pong', WebSocketPeer._onSocketPong)
    } else {
      this._node = false
      socket.binaryType = 'arraybuffer'
      socket.onopen = () => this._event(() => this._opened())
      socket.onmessage = (event) => {
        const data = event.data
        if (typeof data === 'string') this._message(utf8.encode(data), true)
        else if (data instanceof ArrayBuffer) this._message(new Uint8Array(data), false)
      }
      socket.onclose = (event) => this._event(() => this._closed(event.wasClean ? event.code : -1, event.reason))
      socket.onerror = () => {
        if (this._lastError === '') this._lastError = 'WebSocket error (browsers give no detail)'
      }
    }
  }

  private static _onSocketOpen(this: NodeSocket): void {
    const peer = this[kPeer]
    peer._event(() => peer._opened())
  }

  private static _onSocketMessage(this: NodeSocket, data: Uint8Array, isBinary: boolean): void {
    this[kPeer]._message(data, !isBinary)
  }

  private static _onSocketClose(this: NodeSocket, code: number, reason: Uint8Array): void {
    const peer = this[kPeer]
    const text = new TextDecoder().decode(reason)
    peer._event(() => peer._closed(code === 1006 ? -1 : code, text))
  }

  private static _onSocketError(this: NodeSocket, err: Error & { code?: string }): void {
    const peer = this[kPeer]
    if (peer._refused) return
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      peer._oversize(`a message over inboundBufferSize (${peer._inboundBufferSize} bytes) arrived; closed with ${CloseCode.MESSAGE_TOO_BIG}`)
      return
    }
    peer._lastError = describeSocketError(err)
  }

  private static _onSocketUnexpectedResponse(this: NodeSocket, _req: unknown, res: HttpResponse): void {
    this[kPeer]._refusedUpgrade(res)
  }

  private static _onSocketPong(this: NodeSocket): void {
    this[kPeer]._awaitingPong = false
  }

  /** The inbox (Node), made on first use for a connection a server accepted (see _accept). */
  private _entries(): (Packet | Deferred)[] {
    if (this._inbox === NO_ENTRIES) this._inbox = []
    return this._inbox
  }

  /** The packet queue (Node), made on first use for a connection a server accepted (see _accept). */
  private _packets(): Queue<Packet> {
    if (this._queue === NO_PACKETS) this._queue = new Queue<Packet>()
    return this._queue
  }

  /** Runs a state change now (owned by a multiplayer peer) or at the next poll (standalone). */
  private _event(apply: () => void): void {
    if (this._sink) apply()
    else (this._node ? this._entries() : this._inbox).push(new Deferred(apply))
  }

  private _opened(): void {
    if (this._state !== WebSocketState.CONNECTING) return
    this._state = WebSocketState.OPEN
    this._protocol = this._socket?.protocol ?? ''
    this._startHeartbeat()
    this._sink?.onOpen(this)
  }

  private _message(data: Uint8Array, isString: boolean): void {
    this._stats.packetsIn++
    this._stats.bytesIn += data.length
    if (!this._node && data.length > this._inboundBufferSize) {
      const reason = `a message of ${data.length} bytes is over inboundBufferSize (${this._inboundBufferSize}); closing with ${CloseCode.MESSAGE_TOO_BIG_BROWSER}`
      this._warn(reason)
      this._oversize(reason)
      this._limitClose = reason
      this.close(CloseCode.MESSAGE_TOO_BIG_BROWSER, 'message too big')
      return
    }
    if (this._sink) {
      this._sink.onMessage(this, data, isString)
      return
    }
    if (this._closingLocally) {
      // Closed by this side (or detached by its multiplayer peer): nothing more is delivered.
      const dropped = this._stats.dropped
      dropped.not_connected = (dropped.not_connected ?? 0) + 1
      return
    }
    this._countUnread()
    ;(this._node ? this._entries() : this._inbox).push({ data, from: 1, channel: 0, mode: TransferMode.RELIABLE, wasString: isString, source: null })
  }

  private _oversize(reason: string): void {
    this._lastError = reason
    countDrop(this._stats, DropReason.OVERSIZE)
  }

  /**
   * Node: the server answered the upgrade with an HTTP status instead of 101. Reads a little of
   * the body (the server's reason) for `getLastError()`, then drops the connection.
   */
  private _refusedUpgrade(res: HttpResponse): void {
    const status = res.statusCode ?? 0
    const chunks: Uint8Array[] = []
    let size = 0
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      const all = new Uint8Array(size)
      let at = 0
      for (const chunk of chunks) {
        const n = Math.min(chunk.length, size - at)
        if (n <= 0) break
        all.set(chunk.subarray(0, n), at)
        at += n
      }
      const body = new TextDecoder().decode(all).trim().slice(0, 200)
      this._lastError = `the server refused the WebSocket upgrade: HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${body ? ` (${body})` : ''}`
      this._refused = true
      this._socket?.terminate?.()
    }
    const timer = setTimeout(finish, 1000)
    ;(timer as { unref?: () => void }).unref?.()
    res.on('data', (chunk: Uint8Array) => {
      if (size >= 1024) return finish()
      chunks.push(chunk)
      size += Math.min(chunk.length, 1024 - size)
    })
    res.on('end', finish)
    res.on('error', finish)
  }

  private _closed(code: number, reason: string): void {
    if (this._state === WebSocketState.CLOSED) return
    this._stopHeartbeat()
    this._held = null
    this._state = WebSocketState.CLOSED
    this._closeCode = code
    this._closeReason = reason
    if (code === -1 && this._lastError === '') this._lastError = 'the connection closed without a close frame'
    this._sink?.onClose(this, code, reason)
  }

  /** Drops the connection without a close handshake; CLOSED at once. */
  private _drop(code: number, reason: string): void {
    const socket = this._socket
    if (socket) {
      if (socket.terminate) socket.terminate()
      else socket.close()
    }
    this._stopHeartbeat()
    if (this._state !== WebSocketState.CLOSED) {
      this._state = WebSocketState.CLOSED
      this._closeCode = code
      this._closeReason = reason
      // The socket's own close event will find the peer CLOSED and stop there: tell the owner now.
      this._sink?.onClose(this, code, reason)
    }
  }

  private _startHeartbeat(): void {
    this._stopHeartbeat()
    if (this._heartbeatInterval <= 0) return
    if (!this._node) {
      this._warnOnce('heartbeatInterval is ignored: browsers cannot send pings')
      return
    }
    this._awaitingPong = false
    const timer = setInterval(() => this._heartbeat(), this._heartbeatInterval * 1000)
    ;(timer as { unref?: () => void }).unref?.()
    this._heartbeatTimer = timer
  }

  private _stopHeartbeat(): void {
    if (this._heartbeatTimer !== null) clearInterval(this._heartbeatTimer)
    this._heartbeatTimer = null
  }

  private _heartbeat(): void {
    if (this._state !== WebSocketState.OPEN) return
    if (this._awaitingPong) {
      const reason = `heartbeat timeout: no pong within ${this._heartbeatInterval} s`
      this._lastError = reason
      this._stopHeartbeat()
      const socket = this._socket
      try {
        // Tell the other side if it still reads, but do not wait for its answer.
        socket?.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout')
      } catch {
        // Already closing.
      }
      socket?.terminate?.()
      return
    }
    this._awaitingPong = true
    try {
      this._socket?.ping?.()
    } catch {
      // The socket is going away; its close event reports it.
    }
  }

  private _warnOnce(message: string): void {
    if (warnedOnce.has(message)) return
    warnedOnce.add(message)
    this._warn(message)
  }
}

/** The part of Node's `http.IncomingMessage` read from a refused upgrade. */
interface HttpResponse {
  statusCode?: number
  statusMessage?: string
  on(event: 'data', listener: (chunk: Uint8Array) => void): void
  on(event: 'end' | 'error', listener: () => void): void
}

function plainBytesToString(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes)
}

/** A readable reason for a socket error (Node's `ws`), naming TLS failures as such. */
function describeSocketError(err: Error & { code?: string }): string {
  const code = err.code ?? ''
  // Node's certificate codes: …_CERT…, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_… (the self-signed
  // ones, DEPTH_ZERO_SELF_SIGNED_CERT and SELF_SIGNED_CERT_IN_CHAIN, and ERR_TLS_CERT_ALTNAME_INVALID
  // all contain CERT).
  if (/CERT|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return `TLS certificate rejected (${code}): ${err.message}`
  }
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message
}
