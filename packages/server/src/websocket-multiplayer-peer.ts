import * as http from 'node:http'
import * as https from 'node:https'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import {
  CloseCode,
  ConnectionStatus,
  Deferred,
  DropReason,
  ErrorCode,
  FrameKind,
  RAW_OVERHEAD,
  SysCommand,
  TARGET_PEER_SERVER,
  TLSOptions,
  TransferMode,
  WebSocketMultiplayerPeer as ClientMultiplayerPeer,
  WebSocketPeer,
  createPeerStats,
  decodeRelayedPacket,
  decodeSceneFrame,
  encodeIdMessage,
  encodeRawPacket,
  encodeSysCommand,
  rewriteSysPeer,
  toBytes,
  type BinaryData,
  type PeerStats,
  type WebSocketMultiplayerPeerOptions,
} from '@wsmp/client'

/** What a server's handshake hook sees of an upgrade request. */
export interface HandshakeRequest {
  /** The request target, path and query (`/play?token=…`). */
  url: string
  /** The path alone. */
  path: string
  /** The parsed query. */
  query: URLSearchParams
  /** Request headers, names lower-cased. */
  headers: http.IncomingHttpHeaders
  /** The subprotocols the client offered, in its order. */
  protocols: string[]
  /** The client's IP address. */
  remoteAddress: string
  /** The client's TCP port. */
  remotePort: number
}

/** A handshake verdict that rejects: the HTTP status (400 … 599) and a reason sent as the body. */
export interface HandshakeRejection {
  /** The HTTP status to answer with, 400 … 599 (anything else is 403). */
  status: number
  /** The response's text; 'rejected by the server' when absent. */
  reason?: string
}

/**
 * A handshake verdict that admits the client and answers with `protocol`, which must be one of
 * the subprotocols the client offered (it need not be in `supportedProtocols`). This is how a
 * browser's token-in-subprotocol works: the page offers `['wsmp', 'token.abc']`, the hook checks
 * the token and selects `'wsmp'`; a browser fails a connection whose answer names no offered
 * protocol.
 */
export interface HandshakeAcceptance {
  /** The subprotocol to answer with: one the client offered. */
  protocol: string
}

/**
 * What a handshake hook answers: `true` (or nothing) admits the client with the negotiated
 * subprotocol; `{ protocol }` admits it with that one; `false` rejects it with 403;
 * `{ status, reason }` rejects it with that HTTP status (4xx/5xx) and reason text, which a Node
 * client reports in `connection_failed` (browsers give pages no detail).
 */
export type HandshakeVerdict = boolean | void | undefined | HandshakeRejection | HandshakeAcceptance

/** A server's handshake hook; it may be async. */
export type HandshakeHook = (request: HandshakeRequest) => HandshakeVerdict | Promise<HandshakeVerdict>

/** Options of the server-capable {@link WebSocketMultiplayerPeer}. */
export interface ServerPeerOptions extends WebSocketMultiplayerPeerOptions {
  /**
   * Called for every upgrade request before the client is admitted, with its URL and query,
   * headers, offered subprotocols and remote address; may be async. Admit with `true`, nothing,
   * or `{ protocol }` (select one of the offered subprotocols); reject with `false` (403) or
   * `{ status, reason }`. A hook that throws rejects with 500. The time it takes counts against
   * `handshakeTimeout`. Not called while `refuseNewConnections` is set (503).
   */
  onHandshake?: HandshakeHook | null
}

/** How long a slow peer closed for "outbound buffer full" gets to finish the close handshake. */
const SLOW_PEER_CLOSE_GRACE_MS = 1000

const kAdmitted = Symbol('wsmp.admitted')
const kProtocol = Symbol('wsmp.protocol')

type TrackedSocket = Duplex & { [kAdmitted]?: boolean; _parent?: TrackedSocket; remoteAddress?: string; remotePort?: number }
type TrackedRequest = http.IncomingMessage & { [kProtocol]?: string }

function listenError(err: NodeJS.ErrnoException): ErrorCode {
  switch (err.code) {
    case 'EADDRINUSE':
      return ErrorCode.ERR_ALREADY_IN_USE
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EINVAL':
      return ErrorCode.ERR_INVALID_PARAMETER
    case 'EACCES':
    case 'EPERM':
      return ErrorCode.ERR_UNAUTHORIZED
    default:
      return ErrorCode.FAILED
  }
}

/** Answers an upgrade request with an HTTP error and closes the connection. */
function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
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
 * accepts (`//a:99999/x`, a bare `*`, …): client input, so it is parsed inside a guard.
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

/**
 * Godot 4's `WebSocketMultiplayerPeer` for Node, whole: everything of the `@wsmp/client` class
 * (`createClient`) plus the server side — `createServer`, attaching to an existing `http`/`https`
 * server, `getPeerAddress`/`getPeerPort`, relay and peer announcements.
 *
 * ```ts
 * const server = new WebSocketMultiplayerPeer({ autoPoll: true })
 * server.on('peer_connected', (id) => console.log('joined', id))
 * server.on('packet', (data, from) => { server.setTargetPeer(-from); server.putPacket(data) })
 * await server.createServer(9080)
 * ```
 *
 * Godot: `WebSocketMultiplayerPeer`.
 */
export class WebSocketMultiplayerPeer extends ClientMultiplayerPeer {
  private _server = false
  private _http: http.Server | https.Server | null = null
  private _ownsHttp = false
  private _path: string | null = null
  private _wss: WebSocketServer | null = null
  private _wssMaxPayload = 0
  private readonly _peers = new Map<number, WebSocketPeer>()
  /** Ids whose `peer_disconnected` has not been polled yet: not reused until then. */
  private readonly _retiring = new Set<number>()
  /** TCP connections of our own server that have not finished their handshake, with the function that ends their handshake watch. */
  private readonly _handshaking = new Map<TrackedSocket, () => void>()
  private _departed: PeerStats = createPeerStats()
  // Declared, not initialised: the base constructor applies the options (onHandshake included)
  // before this class's field initialisers would run, and an initialiser would wipe the hook.
  private declare _onHandshake: HandshakeHook | null | undefined

  constructor(options: ServerPeerOptions = {}) {
    super(options)
  }

  /** The server's handshake hook (see {@link ServerPeerOptions.onHandshake}). */
  get onHandshake(): HandshakeHook | null {
    return this._onHandshake ?? null
  }
  /** Sets `onHandshake`; the getter says which values are accepted. */
  set onHandshake(value: HandshakeHook | null) {
    if (value !== null && typeof value !== 'function') throw new TypeError('onHandshake must be a function or null')
    this._onHandshake = value
  }

  /**
   * Starts a server on `port` (0 picks a free one; read it with `getLocalPort()`) and
   * `bindAddress` (`'*'`, the default, is every interface, IPv4 and IPv6). With server TLS options
   * it serves `wss://`. The status is CONNECTING until the promise resolves: OK (CONNECTED, id 1)
   * or an error (DISCONNECTED): `ERR_ALREADY_IN_USE` when the peer is in use or the port taken,
   * `ERR_INVALID_PARAMETER` for a bad port, address or TLS options, `ERR_UNAUTHORIZED` when the
   * port needs privileges.
   *
   * Godot: `create_server(port, bind_address = "*", tls_server_options = null)`.
   */
  createServer(port: number, bindAddress = '*', tlsServerOptions: TLSOptions | null = null): Promise<ErrorCode> {
    if (this._status !== ConnectionStatus.DISCONNECTED) {
      return Promise.resolve(this._fail(ErrorCode.ERR_ALREADY_IN_USE, 'createServer: the peer is already in use; close() it first'))
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      return Promise.resolve(this._fail(ErrorCode.ERR_INVALID_PARAMETER, `createServer: port must be an integer in 0 … 65535, got ${String(port)}`))
    }
    if (typeof bindAddress !== 'string' || bindAddress === '') {
      return Promise.resolve(this._fail(ErrorCode.ERR_INVALID_PARAMETER, 'createServer: bindAddress must be "*" or an address'))
    }
    if (tlsServerOptions !== null && !(tlsServerOptions instanceof TLSOptions)) throw new TypeError('tlsServerOptions must be a TLSOptions')
    if (tlsServerOptions && !tlsServerOptions.isServer()) {
      return Promise.resolve(this._fail(ErrorCode.ERR_INVALID_PARAMETER, 'createServer: client TLS options given to a server; use TLSOptions.server(key, certificate)'))
    }
    let server: http.Server | https.Server
    try {
      server = tlsServerOptions
        ? https.createServer({ key: pem(tlsServerOptions.getPrivateKey()), cert: pem(tlsServerOptions.getOwnCertificate()) })
        : http.createServer()
    } catch (err) {
      return Promise.resolve(this._fail(ErrorCode.ERR_INVALID_PARAMETER, `createServer: bad TLS key or certificate: ${(err as Error).message}`))
    }
    this._startSession()
    this._status = ConnectionStatus.CONNECTING
    this._http = server
    this._ownsHttp = true
    this._path = null
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' })
      res.end('This is a WebSocket server (wsmp): connect with ws:// or wss://\n')
    })
    server.on('connection', this._onTcpConnection)
    server.on('upgrade', this._onUpgrade)
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
    const epoch = this._epoch
    return new Promise<ErrorCode>((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening)
        server.off('close', onClose)
        if (this._http === server) this._stopServer()
        if (this._epoch === epoch) {
          this._status = ConnectionStatus.DISCONNECTED
          this._uniqueId = 0
        }
        resolve(this._fail(listenError(err), `createServer: cannot listen on ${bindAddress}:${port}: ${err.message}`))
      }
      const onListening = (): void => {
        server.off('error', onError)
        server.off('close', onClose)
        server.on('error', (err) => this._warn(`server error: ${err.message}`))
        if (this._epoch !== epoch || this._http !== server) {
          server.close()
          resolve(this._fail(ErrorCode.FAILED, 'createServer: close() was called before the server was listening'))
          return
        }
        this._status = ConnectionStatus.CONNECTED
        resolve(ErrorCode.OK)
      }
      // close() before 'listening': Node then emits neither 'listening' nor 'error', only 'close'.
      // (Removed once settled: a later close must not overwrite getLastError().)
      const onClose = (): void => {
        server.off('error', onError)
        server.off('listening', onListening)
        resolve(this._fail(ErrorCode.FAILED, 'createServer: close() was called before the server was listening'))
      }
      server.once('error', onError)
      server.once('listening', onListening)
      server.once('close', onClose)
      try {
        if (bindAddress === '*') server.listen(port)
        else server.listen(port, bindAddress)
      } catch (err) {
        onError(err as NodeJS.ErrnoException)
      }
    })
  }

  /**
   * Serves WebSocket upgrades on an existing Node `http`/`https` server (an Express or Fastify
   * app's), sharing its port, for requests to `path` (default `'/'`). Other upgrade requests are
   * left to the server's other listeners (answered 404 when there are none). Returns OK and is
   * CONNECTED at once (id 1); `close()` detaches without closing the server. `handshakeTimeout`
   * counts from the upgrade request, as the server owns the TCP accept.
   */
  attach(server: http.Server | https.Server, path = '/'): ErrorCode {
    if (!((server as unknown) instanceof http.Server) && !((server as unknown) instanceof https.Server)) throw new TypeError('attach takes a Node http.Server or https.Server')
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError("path must be a string starting with '/'")
    if (this._status !== ConnectionStatus.DISCONNECTED) {
      return this._fail(ErrorCode.ERR_ALREADY_IN_USE, 'attach: the peer is already in use; close() it first')
    }
    this._startSession()
    this._http = server
    this._ownsHttp = false
    this._path = path
    server.on('upgrade', this._onUpgrade)
    this._status = ConnectionStatus.CONNECTED
    return ErrorCode.OK
  }

  /** The port the server listens on (0 when not serving). */
  getLocalPort(): number {
    const address = this._http?.address()
    return address && typeof address === 'object' ? address.port : 0
  }

  /** The remote IP of a connected peer ('' with an error recorded when unknown). Godot: `get_peer_address(id)`. */
  getPeerAddress(id: number): string {
    const peer = this.getPeer(id)
    return peer ? peer.getConnectedHost() : ''
  }

  /** The remote port of a connected peer (0 with an error recorded when unknown). Godot: `get_peer_port(id)`. */
  getPeerPort(id: number): number {
    const peer = this.getPeer(id)
    return peer ? peer.getConnectedPort() : 0
  }

  override getPeer(id: number): WebSocketPeer | null {
    if (!this._server) return super.getPeer(id)
    const peer = this._peers.get(id)
    if (peer) return peer
    this._fail(ErrorCode.ERR_DOES_NOT_EXIST, `getPeer: peer ${id} is not connected`)
    return null
  }

  override isServer(): boolean {
    return this._server
  }

  /**
   * Sends a packet to the target set with `setTargetPeer`. On a server: n > 1 that peer (unknown
   * ids and 1 give `ERR_INVALID_PARAMETER`; a full outbound buffer `ERR_OUT_OF_MEMORY`), 0
   * everyone, −n everyone but n. A broadcast returns OK and disconnects a peer that cannot take a
   * reliable packet ("outbound buffer full", close code 4000).
   */
  override putPacket(data: BinaryData): ErrorCode {
    if (!this._server) return super.putPacket(data)
    const payload = toBytes(data)
    if (this._status !== ConnectionStatus.CONNECTED) return this._fail(ErrorCode.ERR_UNCONFIGURED, 'putPacket: the server is not running')
    if (payload.length === 0) return ErrorCode.OK
    const target = this._targetPeer
    const mode = this.transferMode
    if (target > 0) {
      const peer = target === TARGET_PEER_SERVER ? undefined : this._peers.get(target)
      if (!peer) {
        return this._fail(ErrorCode.ERR_INVALID_PARAMETER, target === TARGET_PEER_SERVER ? 'putPacket: the server cannot send to itself (target 1)' : `putPacket: peer ${target} is not connected`)
      }
      const frame = this.framing === 'raw' ? payload : encodeRawPacket(payload)
      return this._sendFrame(peer, frame, mode)
    }
    const frame = this.framing === 'raw' ? payload : encodeRawPacket(payload)
    const excluded = -target
    const channel = this.transferChannel
    WebSocketPeer._shareFrame(frame) // framed once for every receiver
    try {
      for (const peer of this._peers.values()) {
        if (peer._id !== excluded) this._deliverTo(peer, frame, mode, channel)
      }
    } finally {
      WebSocketPeer._shareFrame(null)
    }
    return ErrorCode.OK
  }

  /**
   * Server: disconnects a client with close code 1000. Without `force`, `peer_disconnected(id)`
   * follows in a later poll once the connection has closed; with it, the peer is removed at once
   * and no local signal is emitted. Either way the other clients get DEL_PEER.
   * Godot: `disconnect_peer(id, force)`.
   */
  override disconnectPeer(id: number, force = false): void {
    if (!this._server) {
      super.disconnectPeer(id, force)
      return
    }
    const peer = this._peers.get(id)
    if (!peer) {
      this._warn(`disconnectPeer: peer ${id} is not connected`)
      return
    }
    if (force) this._remove(peer, false)
    peer.close(CloseCode.NORMAL, '')
  }

  /**
   * Closes everything at once: stops listening (or detaches), closes every connection with 1001,
   * empties the queues, DISCONNECTED with id 0. Emits no signal. Godot: `close()`.
   */
  override close(): void {
    const wasServer = this._server
    super.close()
    if (wasServer) this._stopServer()
  }

  override getStats(): PeerStats {
    if (!this._server) return super.getStats()
    const total: PeerStats = { ...this._departed, dropped: { ...this._departed.dropped } }
    for (const peer of this._peers.values()) addStats(total, peer._stats)
    return total
  }

  override onMessage(peer: WebSocketPeer, data: Uint8Array, isString: boolean): void {
    if (!this._server) {
      super.onMessage(peer, data, isString)
      return
    }
    const from = peer._id
    if (this.framing === 'raw') {
      this._queuePacket(peer, data, from, isString)
      return
    }
    const frame = this._frame
    switch (decodeSceneFrame(data, frame)) {
      case FrameKind.PACKET:
        this._queuePacket(peer, data.subarray(frame.offset), from, isString)
        return
      case FrameKind.RELAY:
        this._relay(peer, data, frame.peer, isString)
        return
      case FrameKind.ADD_PEER:
      case FrameKind.DEL_PEER:
        frame.reason = DropReason.NOT_INTERPRETED
        break
    }
    this._dropped(peer._stats, frame.reason ?? DropReason.MALFORMED, from)
  }

  override onClose(peer: WebSocketPeer, code: number, reason: string): void {
    if (!this._server) {
      super.onClose(peer, code, reason)
      return
    }
    this._remove(peer, true)
  }

  protected override _overhead(target: number): number {
    if (!this._server) return super._overhead(target)
    return this.framing === 'raw' ? 0 : RAW_OVERHEAD
  }

  protected override _isIdTaken(id: number): boolean {
    return this._peers.has(id) || this._retiring.has(id)
  }

  // ---- routing ------------------------------------------------------------------------------

  /** A client's RELAY: forward to its target(s) with the source stamped, keep the server's share. */
  private _relay(peer: WebSocketPeer, data: Uint8Array, target: number, isString: boolean): void {
    const from = peer._id
    const frame = this._frame
    // An inner packet of one byte carries nothing (`[0x03]` with no payload): drop it here rather
    // than forward it for every receiver to drop.
    if (data.length - frame.offset < 2) return this._dropped(peer._stats, DropReason.MALFORMED, from)
    if (target > TARGET_PEER_SERVER) {
      if (target === from) return this._dropped(peer._stats, DropReason.SELF_TARGET, from)
      if (!this.serverRelay) return this._dropped(peer._stats, DropReason.RELAY_DISABLED, from)
      const dest = this._peers.get(target)
      if (!dest) return this._dropped(peer._stats, DropReason.ABSENT_TARGET, from)
      rewriteSysPeer(data, from)
      this._deliverTo(dest, data, TransferMode.RELIABLE)
      return
    }
    if (target <= 0) {
      if (this.serverRelay) {
        const excluded = -target
        let stamped = false
        WebSocketPeer._shareFrame(data) // stamped at the first receiver, then framed once for all
        try {
          for (const dest of this._peers.values()) {
            if (dest === peer || dest._id === excluded) continue
            if (!stamped) {
              rewriteSysPeer(data, from)
              stamped = true
            }
            this._deliverTo(dest, data, TransferMode.RELIABLE)
          }
        } finally {
          WebSocketPeer._shareFrame(null)
        }
      } else if (this._peers.size > 1) {
        this._count(peer._stats, DropReason.RELAY_DISABLED)
      }
      // The server processes a broadcast, and an exclusion of anyone but itself.
      if (target === -TARGET_PEER_SERVER) return
    }
    const at = decodeRelayedPacket(data, frame.offset, frame)
    if (at < 0) return this._dropped(peer._stats, frame.reason ?? DropReason.MALFORMED, from)
    this._queuePacket(peer, data.subarray(at), from, isString)
  }

  /**
   * Sends a frame the application did not address to one peer alone (a broadcast, a relay, an
   * announcement). Unreliable frames follow the congestion rules (`WebSocketPeer._sendPacket`).
   * A reliable frame that does not fit disconnects the slow peer rather than drop a packet
   * silently: counted as `dropped.outbound_full`, closed with 4000 "outbound buffer full", and
   * taken out of the routing table at once (DEL_PEER to the others, `peer_disconnected` at the
   * next poll). The close frame waits behind what the peer has not read yet; the socket is
   * dropped if the peer has not closed within 1 s (rather than `ws`'s 30 s).
   */
  private _deliverTo(peer: WebSocketPeer, frame: Uint8Array, mode: TransferMode, channel = 0): void {
    if (mode !== TransferMode.RELIABLE) {
      peer._sendPacket(frame, mode, channel)
      return
    }
    // One check of the outbound buffer, in the send itself: only a full buffer comes back as
    // ERR_OUT_OF_MEMORY (FAILED means the connection is already closing, and is left to close).
    if (peer._sendPacket(frame, TransferMode.RELIABLE) !== ErrorCode.ERR_OUT_OF_MEMORY) return
    if (this._peers.get(peer._id) !== peer) return
    this._count(peer._stats, DropReason.OUTBOUND_FULL)
    this._warn(`peer ${peer._id}: outbound buffer full (outboundBufferSize = ${peer.outboundBufferSize}); disconnecting the slow peer`)
    peer.close(CloseCode.OUTBOUND_BUFFER_FULL, 'outbound buffer full')
    this._remove(peer, true)
    // The peer is out of the table; its socket need not linger for ws's 30 s close timeout
    // holding what it did not read: drop it if it has not closed within the grace period.
    const timer = setTimeout(() => peer.close(-1), SLOW_PEER_CLOSE_GRACE_MS)
    timer.unref()
  }

  // ---- connections --------------------------------------------------------------------------

  private readonly _onTcpConnection = (socket: TrackedSocket): void => {
    const timer = setTimeout(() => {
      this._handshaking.delete(socket)
      if (!socket[kAdmitted] && !socket.destroyed) socket.destroy()
    }, this.handshakeTimeout * 1000)
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
  private readonly _onUpgrade = (req: TrackedRequest, socket: TrackedSocket, head: Buffer): void => {
    // Node's HTTP server no longer watches an upgraded socket: a reset must not become an
    // unhandled 'error' event.
    socket.on('error', ignoreError)
    try {
      this._handleUpgrade(req, socket, head)
    } catch (err) {
      this._warn(`upgrade request failed: ${(err as Error)?.message ?? String(err)}; answered 500`)
      rejectUpgrade(socket, 500, 'internal error')
    }
  }

  private _handleUpgrade(req: TrackedRequest, socket: TrackedSocket, head: Buffer): void {
    const target = requestTarget(req.url)
    if (target === null) {
      rejectUpgrade(socket, 400, 'the request target is not a valid URL path')
      return
    }
    if (this._path !== null) {
      const path = target.path
      if (path !== this._path) {
        if (this._http && this._http.listenerCount('upgrade') === 1) rejectUpgrade(socket, 404, `no WebSocket endpoint at ${path}`)
        return
      }
    }
    const epoch = this._epoch
    if (this.refuseNewConnections) {
      rejectUpgrade(socket, 503, 'the server is refusing new connections')
      return
    }
    const offered = offeredProtocols(req)
    const supported = this.supportedProtocols
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
    const hook = this._onHandshake ?? null
    if (mismatch !== null && (!hook || offered.length === 0)) {
      rejectUpgrade(socket, 400, mismatch)
      return
    }
    let timer: ReturnType<typeof setTimeout> | null = null
    if (this._path !== null) {
      timer = setTimeout(() => {
        if (!socket[kAdmitted] && !socket.destroyed) socket.destroy()
      }, this.handshakeTimeout * 1000)
      timer.unref()
    }
    if (!hook) {
      this._upgrade(req, socket, head, epoch, timer)
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
              this._warn(`onHandshake selected the subprotocol '${String(verdict.protocol)}', which the client did not offer; rejecting the client with 500`)
              return rejectUpgrade(socket, 500, 'the server selected a subprotocol the client did not offer')
            }
            req[kProtocol] = verdict.protocol
          } else if (verdict && typeof verdict === 'object') {
            const status = Number.isInteger(verdict.status) && verdict.status >= 400 && verdict.status <= 599 ? verdict.status : 403
            return rejectUpgrade(socket, status, verdict.reason ?? 'rejected by the server')
          } else if (mismatch !== null) {
            return rejectUpgrade(socket, 400, mismatch)
          }
          this._upgrade(req, socket, head, epoch, timer)
        },
        (err: Error) => {
          this._warn(`onHandshake threw: ${err?.message ?? String(err)}; rejecting the client with 500`)
          rejectUpgrade(socket, 500, 'handshake hook failed')
        },
      )
      .catch((err: Error) => {
        this._warn(`upgrade request failed: ${err?.message ?? String(err)}; answered 500`)
        rejectUpgrade(socket, 500, 'internal error')
      })
  }

  private _upgrade(req: TrackedRequest, socket: TrackedSocket, head: Buffer, epoch: number, timer: ReturnType<typeof setTimeout> | null): void {
    if (socket.destroyed || epoch !== this._epoch || this._status !== ConnectionStatus.CONNECTED) {
      if (timer) clearTimeout(timer)
      socket.destroy()
      return
    }
    this._webSocketServer().handleUpgrade(req, socket, head, (ws: WsSocket) => {
      if (timer) clearTimeout(timer)
      socket.off('error', ignoreError)
      this._admit(ws, req, socket)
    })
  }

  private _webSocketServer(): WebSocketServer {
    const maxPayload = this.inboundBufferSize
    if (!this._wss || this._wssMaxPayload !== maxPayload) {
      const wss = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        perMessageDeflate: false,
        maxPayload,
        handleProtocols: (_offered, req) => (req as TrackedRequest)[kProtocol] ?? false,
      })
      wss.on('headers', (headers) => headers.push(...this.handshakeHeaders))
      this._wss = wss
      this._wssMaxPayload = maxPayload
    }
    return this._wss
  }

  private _admit(ws: WsSocket, req: http.IncomingMessage, socket: TrackedSocket): void {
    socket[kAdmitted] = true
    if (socket._parent) socket._parent[kAdmitted] = true
    // No longer handshaking: close() must close it with 1001, not destroy it as a pending handshake.
    this._handshaking.get(socket)?.()
    if (socket._parent) this._handshaking.get(socket._parent)?.()
    if (this._status !== ConnectionStatus.CONNECTED || !this._server) {
      ws.terminate()
      return
    }
    const id = this.generateUniqueId()
    const scheme = this._http instanceof https.Server ? 'wss' : 'ws'
    // join() makes one flat string (a template literal keeps its pieces): memory per connection.
    const url = [scheme, '://', req.headers.host ?? '', req.url ?? '/'].join('')
    const peer = WebSocketPeer._accept(ws, url, '', 0, this._template, this)
    peer._id = id
    peer._sendPacket(encodeIdMessage(id), TransferMode.RELIABLE)
    if (this.framing === 'scene' && this.serverRelay) {
      const added = encodeSysCommand(SysCommand.ADD_PEER, id)
      for (const other of this._peers.values()) {
        this._deliverTo(other, added, TransferMode.RELIABLE)
        // A slow peer cut by this very announcement is not announced to the newcomer.
        if (this._peers.get(other._id) !== other) continue
        this._deliverTo(peer, encodeSysCommand(SysCommand.ADD_PEER, other._id), TransferMode.RELIABLE)
      }
    }
    this._peers.set(id, peer)
    this._enqueue(new Deferred(() => this._events.emit('peer_connected', id)))
  }

  /** Takes a peer out of the routing table, tells the others, and queues its signal. */
  private _remove(peer: WebSocketPeer, signal: boolean): void {
    const id = peer._id
    if (this._peers.get(id) !== peer) return
    this._peers.delete(id)
    // Nothing more from this connection reaches the application (a forced disconnect may still
    // have messages in flight).
    peer._sink = null
    addStats(this._departed, peer._stats)
    if (this.framing === 'scene' && this.serverRelay) {
      const removed = encodeSysCommand(SysCommand.DEL_PEER, id)
      for (const other of this._peers.values()) this._deliverTo(other, removed, TransferMode.RELIABLE)
    }
    if (!signal) return
    this._retiring.add(id)
    this._enqueue(
      new Deferred(() => {
        this._retiring.delete(id)
        this._events.emit('peer_disconnected', id)
      }),
    )
  }

  private _startSession(): void {
    super.close()
    this._server = true
    this._uniqueId = TARGET_PEER_SERVER
    this._departed = createPeerStats()
    this._retiring.clear()
  }

  private _stopServer(): void {
    this._server = false
    const server = this._http
    this._http = null
    if (server) {
      server.off('upgrade', this._onUpgrade)
      server.off('connection', this._onTcpConnection)
      if (this._ownsHttp) server.close()
    }
    for (const socket of this._handshaking.keys()) socket.destroy()
    this._handshaking.clear()
    for (const peer of this._peers.values()) {
      peer._sink = null
      peer.close(CloseCode.GOING_AWAY, 'server closed')
      const timer = setTimeout(() => peer.close(-1), 1000)
      timer.unref()
    }
    this._peers.clear()
    this._retiring.clear()
    this._wss = null
  }
}

function ignoreError(): void {}

function pem(value: string | Uint8Array | null): string | Buffer {
  if (value === null) throw new TypeError('missing PEM')
  return typeof value === 'string' ? value : Buffer.from(value)
}

function addStats(into: PeerStats, from: PeerStats): void {
  into.packetsIn += from.packetsIn
  into.bytesIn += from.bytesIn
  into.packetsOut += from.packetsOut
  into.bytesOut += from.bytesOut
  into.protocolErrors += from.protocolErrors
  for (const [reason, n] of Object.entries(from.dropped)) {
    const key = reason as DropReason
    into.dropped[key] = (into.dropped[key] ?? 0) + (n ?? 0)
  }
}
