import type { IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import { CloseCode } from '@wsmp/core'
import type { ConnectOptions, SocketDriver, SocketHandler } from './socket.js'

/**
 * Node's WebSocket: `ws`. Every socket shares the same listener functions (`ws` calls them with
 * the socket as `this`, which points back to its handler), so a connection holds no closures.
 * `ws` enforces the inbound limit itself (`maxPayload`: it closes with 1009), answers pings and
 * sets TCP_NODELAY on every socket it opens or accepts.
 */

/** Where a socket keeps its handler, for the shared listeners. */
const kHandler = Symbol('wsmp.handler')
/** Set while a heartbeat ping waits for its pong. */
const kAwaitingPong = Symbol('wsmp.awaitingPong')
type Socket = WebSocket & { [kHandler]: SocketHandler; [kAwaitingPong]?: boolean; _socket?: TcpSocket | null }

/**
 * The part of a `ws` WebSocket the drivers use, as the drivers' signatures name it: the published
 * declarations then need no `@types/ws`.
 */
export interface WsSocket {
  readonly readyState: number
  readonly protocol: string
  readonly bufferedAmount: number
  /** Whether `pause()` stopped reading it. */
  readonly isPaused: boolean
  /** A string goes as a text message, bytes as a binary one. */
  send(data: Uint8Array | string): void
  close(code?: number, reason?: string): void
  terminate(): void
  ping(): void
  pause(): void
  resume(): void
  on(event: string, listener: (...args: never[]) => void): unknown
  off(event: string, listener: (...args: never[]) => void): unknown
  /** The TCP socket under it (`ws`'s own field). */
  _socket?: TcpSocket | null
}

/** The Node TCP socket under a `ws` WebSocket (the part wsmp uses). */
export interface TcpSocket {
  remoteAddress?: string
  remotePort?: number
  writableLength: number
  writableCorked: number
  writableNeedDrain?: boolean
  bytesRead?: number
  bytesWritten?: number
  destroyed: boolean
  setNoDelay(enabled?: boolean): unknown
  once(event: 'drain', listener: () => void): unknown
  cork(): void
  uncork(): void
  write(chunk: Uint8Array): boolean
}

const decoder = new TextDecoder()

/** A readable reason for a socket error, naming TLS failures as such. */
export function describeSocketError(err: Error & { code?: string }): string {
  const code = err.code ?? ''
  // Node's certificate codes: …_CERT…, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_… (the self-signed
  // ones and ERR_TLS_CERT_ALTNAME_INVALID all contain CERT).
  if (/CERT|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `TLS certificate rejected (${code}): ${err.message}`
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message
}

/** `ws`'s options for a client connection. */
function clientOptions(options: ConnectOptions): WebSocket.ClientOptions & { servername?: string } {
  const headers: Record<string, string> = {}
  for (const line of options.headers) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
  }
  const out: WebSocket.ClientOptions & { servername?: string } = { headers, maxPayload: options.maxPayload, perMessageDeflate: false, followRedirects: false }
  const tls = options.tls
  if (tls) {
    const ca = tls.getTrustedCaChain()
    if (ca !== null) out.ca = typeof ca === 'string' ? ca : decoder.decode(ca)
    if (tls.isUnsafeClient()) out.rejectUnauthorized = false
    if (tls.getCommonNameOverride() !== '') out.servername = tls.getCommonNameOverride()
  }
  return out
}

/**
 * The server answered the upgrade with an HTTP status instead of 101: reads a little of the body
 * (the server's reason) for `getLastError()`, then drops the connection.
 */
function refused(socket: Socket, res: IncomingMessage): void {
  const status = res.statusCode ?? 0
  const chunks: Buffer[] = []
  let size = 0
  let done = false
  const finish = (): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    const body = Buffer.concat(chunks).subarray(0, 1024).toString('utf8').trim().slice(0, 200)
    socket[kHandler]._refused(`the server refused the WebSocket upgrade: HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${body ? ` (${body})` : ''}`)
    socket.terminate()
  }
  const timer = setTimeout(finish, 1000)
  timer.unref()
  res.on('data', (chunk: Buffer) => {
    if (size >= 1024) return finish()
    chunks.push(chunk)
    size += chunk.length
  })
  res.on('end', finish)
  res.on('error', finish)
}

// The shared listeners: `ws` calls them with the socket as `this`.

function onOpen(this: WebSocket): void {
  ;(this as Socket)[kHandler]._opened()
}

/** @internal `ws`'s 'message' listener: hands the message to the socket's handler. */
export function onMessage(this: WsSocket, data: Uint8Array, isBinary: boolean): void {
  ;(this as Socket)[kHandler]._message(data, !isBinary)
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  ;(this as Socket)[kHandler]._closed(code === 1006 ? -1 : code, reason.length === 0 ? '' : decoder.decode(reason))
}

function onError(this: WebSocket, err: Error & { code?: string }): void {
  const handler = (this as Socket)[kHandler]
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') handler._tooBig(-1, null)
  else handler._error(describeSocketError(err))
}

function onUnexpectedResponse(this: WebSocket, _req: unknown, res: IncomingMessage): void {
  refused(this as Socket, res)
}

function onPong(this: WebSocket): void {
  ;(this as Socket)[kAwaitingPong] = false
}

/** One heartbeat: a ping, or — when the last one is still unanswered — the end of the connection. */
function beat(socket: Socket, seconds: number): void {
  if (socket.readyState !== WebSocket.OPEN) return
  if (socket[kAwaitingPong]) {
    socket[kHandler]._error(`heartbeat timeout: no pong within ${seconds} s`)
    try {
      // Tell the other side if it still reads, but do not wait for its answer.
      socket.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout')
    } catch {
      // Already closing.
    }
    socket.terminate()
    return
  }
  socket[kAwaitingPong] = true
  try {
    socket.ping()
  } catch {
    // The socket is going away; its close event reports it.
  }
}

/**
 * @internal The driver of `ws` sockets: client connections here, accepted ones in `@wsmp/server`
 * (which extends it with write batching).
 */
export class NodeSocketDriver implements SocketDriver<WsSocket> {
  connect(url: string, options: ConnectOptions, handler: SocketHandler): WsSocket {
    const socket = new WebSocket(url, options.protocols, clientOptions(options)) as Socket
    socket.on('open', onOpen)
    socket.on('unexpected-response', onUnexpectedResponse)
    this.adopt(socket as unknown as WsSocket, handler)
    return socket as unknown as WsSocket
  }

  /**
   * Sends `socket`'s events to `handler` (a client socket, or one a server accepted). 'pong' is
   * listened to only while a heartbeat runs (see startHeartbeat): a fourth listener grows `ws`'s
   * listener table by ~90 bytes, which an idle connection without a heartbeat does not need.
   */
  adopt(socket: WsSocket, handler: SocketHandler): void {
    const s = socket as unknown as Socket
    s[kHandler] = handler
    s.on('message', this.messageListener)
    s.on('close', onClose)
    s.on('error', onError)
  }

  /** The 'message' listener `adopt` gives every socket (one function shared by all of them). */
  protected get messageListener(): (this: WsSocket, data: Uint8Array, isBinary: boolean) => void {
    return onMessage
  }

  /**
   * `binary` is what `data`'s type says already (callers send text as a string, binary as bytes),
   * and `ws` frames them so without options: an options object would be copied on every send.
   */
  send(socket: WsSocket, data: Uint8Array | string, _binary: boolean): void {
    socket.send(data)
  }

  hasRoom(socket: WsSocket, size: number, limit: number): boolean {
    return socket.bufferedAmount + size <= limit
  }

  bufferedAmount(socket: WsSocket): number {
    return socket.bufferedAmount
  }

  protocol(socket: WsSocket): string {
    return socket.protocol
  }

  close(socket: WsSocket, code: number, reason: string): void {
    socket.close(code, reason)
  }

  terminate(socket: WsSocket): void {
    socket.terminate()
  }

  isValidCloseCode(code: number): boolean {
    return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  }

  remoteAddress(socket: WsSocket): string {
    return (socket as unknown as Socket)._socket?.remoteAddress ?? ''
  }

  remotePort(socket: WsSocket): number {
    return (socket as unknown as Socket)._socket?.remotePort ?? 0
  }

  setNoDelay(socket: WsSocket, enabled: boolean): void {
    ;(socket as unknown as Socket)._socket?.setNoDelay(enabled)
  }

  pause(socket: WsSocket): void {
    socket.pause()
  }

  resume(socket: WsSocket): void {
    socket.resume()
  }

  startHeartbeat(socket: WsSocket, seconds: number): unknown {
    const s = socket as unknown as Socket
    s[kAwaitingPong] = false
    // off() first, so that a restarted heartbeat listens once.
    s.off('pong', onPong)
    s.on('pong', onPong)
    const timer = setInterval(() => beat(s, seconds), seconds * 1000)
    timer.unref()
    return timer
  }

  stopHeartbeat(heartbeat: unknown): void {
    clearInterval(heartbeat as ReturnType<typeof setInterval>)
  }

  /**
   * A TCP socket drains with an event only once its buffer passed Node's high-water mark; below
   * it (full only by the peer's own `outboundBufferSize`), `done` runs after a recheck delay.
   */
  watchDrain(socket: WsSocket, done: () => void): void {
    const tcp = (socket as unknown as Socket)._socket
    if (tcp?.writableNeedDrain) tcp.once('drain', done)
    else drainRechecks.later(socket, done)
  }
}

/**
 * @internal When a socket that has no 'drain' event to wait for may take more: after 5 ms, the
 * delay doubling up to 160 ms while its sender asks again from `done` (still full), and back to
 * 5 ms once it does not.
 */
export class DrainRechecks<S extends object> {
  private readonly _asked = new WeakMap<S, number>()

  later(socket: S, done: () => void): void {
    const asked = (this._asked.get(socket) ?? 0) + 1
    this._asked.set(socket, asked)
    const timer = setTimeout(
      () => {
        done()
        if (this._asked.get(socket) === asked) this._asked.delete(socket)
      },
      asked > 5 ? 160 : 5 << (asked - 1),
    )
    timer.unref()
  }
}

const drainRechecks = new DrainRechecks<WsSocket>()

/** @internal The driver of this build: `ws`. */
export const socketDriver = new NodeSocketDriver()
