import type { TLSOptions } from '@wsmp/core'

/**
 * The seam between a {@link WebSocketPeer} and the platform's WebSocket. One stateless driver
 * object serves every socket of its kind; the peer holds the driver and the platform's socket
 * (`ws`'s WebSocket in Node, the browser's `WebSocket`), so a connection costs no wrapper object.
 *
 * Which driver a build gets is decided by package export conditions, never at run time: the
 * client package imports `#socket`, which resolves to `socket.browser.ts` for browsers (and any
 * runtime without a `node` condition) and to `socket.node.ts` for Node. `@wsmp/server` extends
 * the Node driver with its write batching and shared frames.
 *
 * A capability a platform lacks is a missing optional method: browsers cannot send pings, pause a
 * socket, watch it drain, tell the remote address or set TCP options.
 *
 * @internal
 */
export interface SocketDriver<S = unknown> {
  /**
   * Opens a client connection to `url` (already checked to be ws:// or wss://). Events then reach
   * `handler` on the event loop. Throws for a URL or options the platform refuses.
   */
  connect(url: string, options: ConnectOptions, handler: SocketHandler): S
  /** Sends one message; `binary` false sends `data` (a string) as a text message. */
  send(socket: S, data: Uint8Array | string, binary: boolean): void
  /**
   * Writes binary messages already framed as WebSocket frames (`wire`), in one write, where the
   * socket can take such bytes now; else sends each of `payloads()` as a message.
   */
  sendWire?(socket: S, wire: Uint8Array, payloads: () => Uint8Array[]): void
  /**
   * Whether `size` more bytes fit under `limit` bytes waiting to be sent. A driver that batches
   * writes hands its batch to the system before it answers no, so batching never changes what
   * the limit allows.
   */
  hasRoom(socket: S, size: number, limit: number): boolean
  /** Bytes accepted but not yet handed to the system. */
  bufferedAmount(socket: S): number
  /** The subprotocol the handshake selected, or ''. */
  protocol(socket: S): string
  /** Starts the close handshake. May throw when the socket is already going away. */
  close(socket: S, code: number, reason: string): void
  /** Drops the connection at once, without a close handshake. */
  terminate(socket: S): void
  /** Whether this side may send `code` in a close frame. */
  isValidCloseCode(code: number): boolean
  /** The remote address and port (absent where the platform hides them). */
  remoteAddress?(socket: S): string
  remotePort?(socket: S): number
  /** Turns Nagle's algorithm off (true) or on. */
  setNoDelay?(socket: S, enabled: boolean): void
  /** Stops reading the socket (TCP backpressure reaches the sender) / reads again. */
  pause?(socket: S): void
  resume?(socket: S): void
  /**
   * Starts pinging every `seconds`: a ping still unanswered when the next is due closes the
   * connection (a close frame with 4001 "heartbeat timeout" is written and the socket dropped),
   * with `handler._error` saying so. Returns what `stopHeartbeat` takes.
   */
  startHeartbeat?(socket: S, seconds: number, handler: SocketHandler): unknown
  stopHeartbeat?(heartbeat: unknown): void
  /** Calls `done` once the socket may take more: it drained, or a recheck is due. */
  watchDrain?(socket: S, done: () => void): void
  /** Bytes read from the socket so far, control frames included: how a server tells a silent peer. */
  bytesRead?(socket: S): number
  /** Bytes the system has taken from the socket's buffers so far: how a server tells a receiver that drains. */
  bytesTaken?(socket: S): number
  /** Sends a ping (answered by a pong that `bytesRead` counts). */
  ping?(socket: S): void
}

/** What a client connection is opened with. @internal */
export interface ConnectOptions {
  /** Subprotocols to offer, in order. */
  protocols: string[]
  /** `Name: value` lines to send with the upgrade request (where the platform can). */
  headers: string[]
  /** The largest message accepted, in bytes. */
  maxPayload: number
  /** Client TLS options, or null for the platform's defaults. */
  tls: TLSOptions | null
}

/**
 * What a socket reports to its peer, as the I/O happens. A {@link WebSocketPeer} implements it.
 * @internal
 */
export interface SocketHandler {
  /** The handshake completed (client connections; accepted ones start open). */
  _opened(): void
  /** A whole message arrived. */
  _message(data: Uint8Array, isString: boolean): void
  /** The connection closed: the code the other side sent, or −1 when the close was not clean. */
  _closed(code: number, reason: string): void
  /** Something failed; `reason` is what `getLastError()` should say. */
  _error(reason: string): void
  /**
   * A message over the inbound limit arrived (`size` bytes, or −1 when unknown). With `closeCode`
   * the peer must close with it (browsers, where the platform does not); null: the socket already
   * closes (Node's `ws`, with 1009).
   */
  _tooBig(size: number, closeCode: number | null): void
  /** The server answered the upgrade with an HTTP status instead of 101; `reason` says which. */
  _refused(reason: string): void
  /** Writes a warning once per process (the same text is not repeated). */
  _warnOnce(message: string): void
}
