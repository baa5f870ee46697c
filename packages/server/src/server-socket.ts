import { NodeSocketDriver, type TcpSocket, type WsSocket } from '@wsmp/client/node'

/**
 * The sockets a server accepted: `ws`, plus write batching and shared frames.
 *
 * Write batching: the first send of a callback corks the connection's TCP socket; every corked
 * socket is uncorked together as soon as that callback returns (`process.nextTick`). So the many
 * small frames a relay or a broadcast writes while handling one socket read leave in one `writev`
 * per connection instead of one system call each, and nothing waits for a later turn. A
 * connection hands its batch to the system early once {@link FLUSH_AT} bytes are corked, and
 * before it reports a full outbound buffer, so `outboundBufferSize` means what it meant without
 * batching.
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
}

/** TCP sockets corked until the current callback returns. */
const corked: TcpSocket[] = []
let flushScheduled = false

/** A broadcast's packet, shared by all its receivers, and its WebSocket frame (built at the first receiver that takes it). */
let sharedFrame: Uint8Array | null = null
let sharedWire: Buffer | null = null

function flushCorked(): void {
  flushScheduled = false
  sharedFrame = null
  sharedWire = null
  // A flush may cork again (an error handler that sends): the loop picks those up too.
  for (let i = 0; i < corked.length; i++) {
    const tcp = corked[i] as TcpSocket
    if (tcp.writableCorked > 0) tcp.uncork()
  }
  corked.length = 0
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

/** Hands what `tcp` has corked so far to the system, keeping the batch open. */
/**
 * Corks `tcp` until the current callback returns (see flushCorked). Also how an upgrade's 101
 * response and the id that follows it leave in one write (Acceptor).
 */
export function corkForTurn(tcp: TcpSocket): void {
  if (tcp.writableCorked !== 0) return
  tcp.cork()
  corked.push(tcp)
  if (!flushScheduled) {
    flushScheduled = true
    process.nextTick(flushCorked)
  }
}

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
    corkForTurn(tcp)
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
