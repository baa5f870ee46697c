import { NodeSocketDriver, onMessage, type TcpSocket, type WsSocket } from '@wsmp/client/node'

/**
 * The sockets a server accepted: `ws`, plus write batching and shared frames.
 *
 * Write batching: the first send of a callback corks the connection's TCP socket; every corked
 * socket is uncorked together as soon as that callback returns. So the many small frames a relay
 * or a broadcast writes while handling one socket read leave in one `writev` per connection
 * instead of one system call each, and nothing waits for a later turn. Sends made while `ws`
 * emits the messages of one socket read are flushed when the read's last message has been
 * handled, in that same call (see onServerMessage); the last message's own sends to connections
 * not corked yet are written at once, uncorked, since nothing could join their batch — so a lone
 * packet relayed from a lone read is one write with nothing scheduled, as in a bare `ws` relay.
 * Any other send (timers, poll, application code) flushes at `process.nextTick`. A connection
 * hands its batch to the system early once {@link FLUSH_AT} bytes are corked, and before it
 * reports a full outbound buffer, so `outboundBufferSize` means what it meant without batching.
 *
 * Shared frames: a broadcast (or relay to many) is framed once as a WebSocket frame and the same
 * bytes are written to every receiver that can take them (see {@link canWriteFrame}).
 */

/** Corked bytes past which a connection's batch is handed to the system at once. */
const FLUSH_AT = 16 * 1024

type Socket = WsSocket & {
  _socket?: TcpSocket | null
  // ws internals read by the pre-framed write (see canWriteFrame):
  _isServer?: boolean
  _extensions?: Record<string, unknown>
  _sender?: { _state: number; _queue: unknown[]; _firstFragment: boolean } | null
  // ws's frame parser: bytes of the socket's reads not parsed yet (read by onServerMessage).
  _receiver?: { _bufferedBytes?: number } | null
}

/**
 * TCP sockets corked until the current callback returns: corked[0 … corkedCount-1]. The array is
 * reused, never shortened (`length = 0` per flush is a store through V8's runtime, and the next
 * push grows it again); flushed slots are set to null so that no socket is retained.
 */
const corked: (TcpSocket | null)[] = []
let corkedCount = 0
let flushScheduled = false
/** `ws` 'message' events being handled (nested ones included): their sends are flushed at their end. */
let dispatching = 0
/** Whether the message being handled is the last of its socket read (its sends are written at once). */
let lastOfRead = false

/** A broadcast's packet, shared by all its receivers, and its WebSocket frame (built at the first receiver that takes it). */
let sharedFrame: Uint8Array | null = null
let sharedWire: Buffer | null = null

function flushCorked(): void {
  flushScheduled = false
  sharedFrame = null
  sharedWire = null
  // A flush may cork again (an error handler that sends): the loop picks those up too.
  for (let i = 0; i < corkedCount; i++) {
    const tcp = corked[i] as TcpSocket
    corked[i] = null
    if (tcp.writableCorked > 0) tcp.uncork()
  }
  corkedCount = 0
}

function scheduleFlush(): void {
  if (flushScheduled) return
  flushScheduled = true
  process.nextTick(flushCorked)
}

/**
 * The 'message' listener of accepted sockets. `ws` emits every message of a socket read in one
 * call, one after another; what handling them sends is corked and leaves when the last one has
 * been handled: at once, in this very call, when `ws` has no byte of the read left to parse
 * (its receiver's `_bufferedBytes`, ws 8.x), else (more frames buffered, maybe part of one) at the
 * next tick. Without that field (another `ws`) every batch waits for the tick, as before.
 */
function onServerMessage(this: WsSocket, data: Uint8Array, isBinary: boolean): void {
  const last = (this as Socket)._receiver?._bufferedBytes === 0
  const outer = lastOfRead
  lastOfRead = last
  dispatching++
  try {
    onMessage.call(this, data, isBinary)
  } finally {
    // (In finally: a throw must not leave sockets corked with no flush to come.)
    lastOfRead = outer
    if (--dispatching === 0 && corkedCount > 0) {
      if (last) flushCorked()
      else scheduleFlush()
    }
  }
}

/** `frame` as one unmasked, final, binary WebSocket frame (RFC 6455 §5.2): what `ws` would write for it. */
function wireFrame(frame: Uint8Array): Buffer {
  const length = frame.length
  const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10
  const out = Buffer.allocUnsafe(header + length)
  out[0] = 0x82
  if (header === 2) {
    out[1] = length
  } else if (header === 4) {
    out[1] = 126
    out.writeUInt16BE(length, 2)
  } else {
    out[1] = 127
    out.writeUInt32BE(Math.floor(length / 0x100000000), 2)
    out.writeUInt32BE(length >>> 0, 6)
  }
  out.set(frame, header)
  return out
}

/**
 * Whether `ws` would write a binary message to this socket right now as one plain frame: a server
 * socket (unmasked frames), OPEN, no permessage-deflate, its sender idle (not compressing or
 * reading a blob, nothing queued, not inside a fragmented message). Only then may a pre-framed
 * message go straight to the TCP socket without breaking `ws`'s ordering or state (ws 8.x).
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

/**
 * Corks `tcp` until the current callback returns (see flushCorked). Also how an upgrade's 101
 * response and the id that follows it leave in one write (Acceptor).
 */
export function corkForTurn(tcp: TcpSocket): void {
  if (tcp.writableCorked !== 0) return
  tcp.cork()
  corked[corkedCount++] = tcp
  // Inside a 'message' event the event's end flushes (or schedules); elsewhere, a tick.
  if (dispatching === 0) scheduleFlush()
}

/** Hands what `tcp` has corked so far to the system, keeping the batch open. */
function offerBatch(tcp: TcpSocket): void {
  if (tcp.writableCorked === 0) return
  tcp.uncork()
  tcp.cork()
}

/** @internal The driver of the sockets a server accepted. */
export class ServerSocketDriver extends NodeSocketDriver {
  /**
   * A server is about to send `frame`, unchanged, to many connections: framed once, those bytes go
   * to every socket that can take them. Call again with null right after the loop.
   */
  static share(frame: Uint8Array | null): void {
    sharedFrame = frame
    sharedWire = null
  }

  /**
   * The frame a broadcast loop is sending right now (marked with {@link share}), or null. A driver
   * whose sockets stand for connections elsewhere (`@wsmp/cluster`) sends such a frame once per
   * destination with its list of receivers instead of once per receiver.
   */
  static shared(): Uint8Array | null {
    return sharedFrame
  }

  override send(socket: WsSocket, data: Uint8Array | string, binary: boolean): void {
    const s = socket as Socket
    const tcp = s._socket
    if (!tcp) {
      super.send(socket, data, binary)
      return
    }
    // The last message of a read writes to a connection not corked yet at once (see onServerMessage).
    if (!lastOfRead || dispatching === 0) corkForTurn(tcp)
    if (data === sharedFrame && canWriteFrame(s)) tcp.write((sharedWire ??= wireFrame(data)))
    else super.send(socket, data, binary)
    if (tcp.writableLength >= FLUSH_AT) offerBatch(tcp)
  }

  /** Announcement batches and the like: written as they are when `ws` would write plain frames now. */
  sendWire(socket: WsSocket, wire: Uint8Array, payloads: () => Uint8Array[]): void {
    const s = socket as Socket
    const tcp = s._socket
    if (!tcp || !canWriteFrame(s)) {
      for (const payload of payloads()) this.send(socket, payload, true)
      return
    }
    corkForTurn(tcp)
    tcp.write(wire)
    if (tcp.writableLength >= FLUSH_AT) offerBatch(tcp)
  }

  protected override get messageListener(): (this: WsSocket, data: Uint8Array, isBinary: boolean) => void {
    return onServerMessage
  }

  override hasRoom(socket: WsSocket, size: number, limit: number): boolean {
    if (socket.bufferedAmount + size <= limit) return true
    const tcp = (socket as Socket)._socket
    if (!tcp || tcp.writableCorked === 0) return false
    offerBatch(tcp)
    return socket.bufferedAmount + size <= limit
  }

  bytesRead(socket: WsSocket): number {
    return (socket as Socket)._socket?.bytesRead ?? 0
  }

  bytesTaken(socket: WsSocket): number {
    const tcp = (socket as Socket)._socket
    // Node's bytesWritten counts what is still in the socket's own buffer too.
    return tcp ? (tcp.bytesWritten ?? 0) - tcp.writableLength : 0
  }

  ping(socket: WsSocket): void {
    if (socket.readyState === 1) socket.ping()
  }

  override bufferedAmount(socket: WsSocket): number {
    const tcp = (socket as Socket)._socket
    if (tcp) offerBatch(tcp)
    return socket.bufferedAmount
  }
}

/** @internal */
export const serverSocketDriver = new ServerSocketDriver()
