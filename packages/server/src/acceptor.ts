import * as http from 'node:http'
import * as https from 'node:https'
import type { Duplex } from 'node:stream'
import type { TcpSocket, WsSocket } from '@wsmp/client/node'
import { WebSocketServer } from 'ws'
import { corkForTurn } from './server-socket.js'
import type { HandshakeRequest, WebSocketMultiplayerPeer } from './websocket-multiplayer-peer.js'


const kAdmitted = Symbol('wsmp.admitted')
const kProtocol = Symbol('wsmp.protocol')

type TrackedSocket = Duplex & { [kAdmitted]?: boolean; _parent?: TrackedSocket; remoteAddress?: string; remotePort?: number }
type TrackedRequest = http.IncomingMessage & { [kProtocol]?: string }

/** Answers an upgrade request with an HTTP error and closes the connection. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.destroyed) return
  const body = `${reason}\n`
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  const timer = setTimeout(() => socket.destroy(), 1000)
  timer.unref()
}

/**
 * The path and query of an upgrade's request target, or null when it is not one a URL parser
 * accepts (`//a:99999/x`, …): client input, so it is parsed inside a guard.
 */
function requestTarget(url: string | undefined): { path: string; query: URLSearchParams } | null {
  try {
    const parsed = new URL(url ?? '/', 'http://localhost')
    return { path: parsed.pathname, query: parsed.searchParams }
  } catch {
    return null
  }
}

function offeredProtocols(req: http.IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol']
  if (!header) return []
  return header.split(',').map((p) => p.trim()).filter((p) => p.length > 0)
}

function ignoreError(): void {}

/** An origin as browsers send it (`https://game.example.com`, lower case, no path), or null when it is not one. */
export function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin)
    return url.origin === 'null' ? null : url.origin
  } catch {
    return null
  }
}

/**
 * The HTTP side of a server: upgrade requests from an `http`/`https` server (all of them when it
 * is ours, those to `path` when attached) checked — refusing, subprotocols, the handshake hook,
 * `handshakeTimeout` from TCP accept — and upgraded with `ws`. Every completed upgrade goes to
 * `accepted`; what happens to the connection next (ids, routing; a cluster edge's forwarding) is
 * the caller's. Settings are read from `owner` when each request arrives.
 * @internal
 */
export class Acceptor {
  /** The HTTP(S) server upgrades come from; null once closed. */
  _http: http.Server | https.Server | null
  /** Whether `_http` is ours (createServer) or the application's (attach). */
  private readonly _ownsHttp: boolean
  /** The path served when attached; null: every path (createServer). */
  private readonly _path: string | null
  private _wss: WebSocketServer | null = null
  private _wssMaxPayload = 0
  /** TCP connections of our own server that have not finished their handshake, with the function that ends their handshake watch. */
  readonly _handshaking = new Map<TrackedSocket, () => void>()
  private _closed = false
  /** Upgrades handed to `ws` that have not completed (or failed) yet: they count toward `maxPeers`. */
  private _upgrading = 0

  constructor(
    private readonly _owner: WebSocketMultiplayerPeer,
    server: http.Server | https.Server,
    owns: boolean,
    path: string | null,
    private readonly _accepted: (ws: WsSocket, url: string) => void,
    /** How many connections are being served now (for `maxPeers`). */
    private readonly _connections: () => number = () => 0,
  ) {
    this._http = server
    this._ownsHttp = owns
    this._path = path
    if (owns) {
      server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' })
        res.end('This is a WebSocket server (wsmp): connect with ws:// or wss://\n')
      })
      server.on('connection', this._onTcpConnection)
      server.on('tlsClientError', (_err: Error, socket: Duplex) => socket.destroy())
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
        if (socket.destroyed) return
        // Answer an unparsable request as Node's default handler does (431 for oversized headers,
        // 400 otherwise) rather than drop it without a word, then close.
        if (socket.writable && !socket.bytesWritten && err.code !== 'ECONNRESET') {
          const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
          socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`)
        }
        socket.destroy()
      })
    }
    server.on('upgrade', this._onUpgrade)
  }

  /** The port the server listens on (0 once closed). */
  localPort(): number {
    const address = this._http?.address()
    return address && typeof address === 'object' ? address.port : 0
  }

  /** Stops listening (or detaches) and drops the connections still in their handshake. */
  close(): void {
    this._closed = true
    const server = this._http
    this._http = null
    if (server) {
      server.off('upgrade', this._onUpgrade)
      server.off('connection', this._onTcpConnection)
      if (this._ownsHttp) server.close()
    }
    for (const socket of this._handshaking.keys()) socket.destroy()
    this._handshaking.clear()
    this._wss = null
  }

  readonly _onTcpConnection = (socket: TrackedSocket): void => {
    const timer = setTimeout(() => {
      this._handshaking.delete(socket)
      if (!socket[kAdmitted] && !socket.destroyed) socket.destroy()
    }, this._owner.handshakeTimeout * 1000)
    timer.unref()
    // Ends the watch at close or admission, so an admitted connection keeps neither the timer
    // nor this listener (memory per idle connection).
    const done = (): void => {
      clearTimeout(timer)
      this._handshaking.delete(socket)
      socket.off('close', done)
    }
    this._handshaking.set(socket, done)
    socket.on('close', done)
  }

  /**
   * Every upgrade request: client input, parsed inside a guard. A request the server cannot read
   * is answered 400; an unexpected failure here is answered 500 and logged, never thrown out of
   * Node's HTTP server (which would end the process).
   */
  readonly _onUpgrade = (req: TrackedRequest, socket: TrackedSocket, head: Buffer): void => {
    // Node's HTTP server no longer watches an upgraded socket: a reset must not become an
    // unhandled 'error' event.
    socket.on('error', ignoreError)
    try {
      this._handleUpgrade(req, socket, head)
    } catch (err) {
      this._owner._warn(`upgrade request failed: ${(err as Error)?.message ?? String(err)}; answered 500`)
      rejectUpgrade(socket, 500, 'internal error')
    }
  }

  private _handleUpgrade(req: TrackedRequest, socket: TrackedSocket, head: Buffer): void {
    const owner = this._owner
    const target = requestTarget(req.url)
    if (target === null) {
      rejectUpgrade(socket, 400, 'the request target is not a valid URL path')
      return
    }
    if (this._path !== null && target.path !== this._path) {
      if (this._http && this._http.listenerCount('upgrade') === 1) rejectUpgrade(socket, 404, `no WebSocket endpoint at ${target.path}`)
      return
    }
    if (owner.refuseNewConnections) {
      rejectUpgrade(socket, 503, 'the server is refusing new connections')
      return
    }
    if (this._full()) return rejectUpgrade(socket, 503, 'the server is full')
    const origin = req.headers.origin
    const allowed = owner.allowedOrigins
    // Origin is what a browser says a page came from; other clients send none (and could send anything).
    if (allowed !== null && origin !== undefined && !allowed.includes(normalizeOrigin(origin) ?? '')) {
      return rejectUpgrade(socket, 403, 'origin not allowed')
    }
    const offered = offeredProtocols(req)
    const supported = owner.supportedProtocols
    // Godot's rule: the first offered protocol the server supports; none fails the handshake, as
    // does offering none to a server that requires one. A hook may still select one (below).
    const chosen = offered.find((p) => supported.includes(p))
    const mismatch =
      (offered.length > 0 || supported.length > 0) && chosen === undefined
        ? supported.length === 0
          ? 'this server supports no subprotocol'
          : `none of the offered subprotocols is supported (supported: ${supported.join(', ')})`
        : null
    if (chosen !== undefined) req[kProtocol] = chosen
    const hook = owner.onHandshake
    if (mismatch !== null && (!hook || offered.length === 0)) {
      rejectUpgrade(socket, 400, mismatch)
      return
    }
    let timer: ReturnType<typeof setTimeout> | null = null
    if (this._path !== null) {
      timer = setTimeout(() => {
        if (!socket[kAdmitted] && !socket.destroyed) socket.destroy()
      }, owner.handshakeTimeout * 1000)
      timer.unref()
    }
    if (!hook) {
      this._upgrade(req, socket, head, timer)
      return
    }
    const request: HandshakeRequest = {
      url: req.url ?? '/',
      path: target.path,
      query: target.query,
      headers: req.headers,
      protocols: offered,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
    }
    Promise.resolve()
      .then(() => hook(request))
      .then(
        (verdict) => {
          if (verdict === false) return rejectUpgrade(socket, 403, 'rejected by the server')
          if (verdict && typeof verdict === 'object' && 'protocol' in verdict) {
            if (!offered.includes(verdict.protocol)) {
              owner._warn(`onHandshake selected the subprotocol '${String(verdict.protocol)}', which the client did not offer; rejecting the client with 500`)
              return rejectUpgrade(socket, 500, 'the server selected a subprotocol the client did not offer')
            }
            req[kProtocol] = verdict.protocol
          } else if (verdict && typeof verdict === 'object') {
            const status = Number.isInteger(verdict.status) && verdict.status >= 400 && verdict.status <= 599 ? verdict.status : 403
            return rejectUpgrade(socket, status, verdict.reason ?? 'rejected by the server')
          } else if (mismatch !== null) {
            return rejectUpgrade(socket, 400, mismatch)
          }
          this._upgrade(req, socket, head, timer)
        },
        (err: Error) => {
          owner._warn(`onHandshake threw: ${err?.message ?? String(err)}; rejecting the client with 500`)
          rejectUpgrade(socket, 500, 'handshake hook failed')
        },
      )
      .catch((err: Error) => {
        owner._warn(`upgrade request failed: ${err?.message ?? String(err)}; answered 500`)
        rejectUpgrade(socket, 500, 'internal error')
      })
  }

  /** Connections that have not completed their upgrade yet: TCP connections of our own server, and upgrades handed to `ws`. */
  pending(): number {
    return this._handshaking.size + this._upgrading
  }

  /** At `maxPeers` (counting those in their upgrade): new upgrades get 503. */
  private _full(): boolean {
    return this._connections() + this._upgrading >= this._owner.maxPeers
  }

  private _upgrade(req: TrackedRequest, socket: TrackedSocket, head: Buffer, timer: ReturnType<typeof setTimeout> | null): void {
    if (socket.destroyed || this._closed) {
      if (timer) clearTimeout(timer)
      socket.destroy()
      return
    }
    // Checked again after an async hook: others may have filled the server meanwhile.
    if (this._full()) {
      if (timer) clearTimeout(timer)
      return rejectUpgrade(socket, 503, 'the server is full')
    }
    this._upgrading++
    let upgrading = true
    const settle = (): void => {
      if (upgrading) this._upgrading--
      upgrading = false
    }
    // ws answers a bad upgrade itself (400) without calling back: the socket's close settles it.
    socket.once('close', settle)
    this._webSocketServer().handleUpgrade(req, socket, head, (ws) => {
      settle()
      socket.off('close', settle)
      if (timer) clearTimeout(timer)
      socket.off('error', ignoreError)
      this._admitted(ws, req, socket)
    })
  }

  private _webSocketServer(): WebSocketServer {
    const owner = this._owner
    const maxPayload = owner.inboundBufferSize
    if (!this._wss || this._wssMaxPayload !== maxPayload) {
      const wss = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        perMessageDeflate: false,
        maxPayload,
        handleProtocols: (_offered, req) => (req as TrackedRequest)[kProtocol] ?? false,
      })
      wss.on('headers', (headers, req) => {
        headers.push(...owner.handshakeHeaders)
        // ws writes the 101 response next, and the id follows at once: one write for both.
        corkForTurn(req.socket as unknown as TcpSocket)
      })
      this._wss = wss
      this._wssMaxPayload = maxPayload
    }
    return this._wss
  }

  /** The upgrade completed: no longer handshaking; the connection goes to `accepted`. */
  private _admitted(ws: WsSocket, req: http.IncomingMessage, socket: TrackedSocket): void {
    socket[kAdmitted] = true
    if (socket._parent) socket._parent[kAdmitted] = true
    // No longer handshaking: close() must close it with 1001, not destroy it as a pending handshake.
    this._handshaking.get(socket)?.()
    if (socket._parent) this._handshaking.get(socket._parent)?.()
    if (this._closed) {
      ws.terminate()
      return
    }
    const scheme = this._http instanceof https.Server ? 'wss' : 'ws'
    // join() makes one flat string (a template literal keeps its pieces): memory per connection.
    this._accepted(ws, [scheme, '://', req.headers.host ?? '', req.url ?? '/'].join(''))
  }
}
