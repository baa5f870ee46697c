import * as http from 'node:http'
import * as https from 'node:https'
import {
  ConnectionStatus,
  ErrorCode,
  TARGET_PEER_SERVER,
  TLSOptions,
  WebSocketMultiplayerPeer as ClientMultiplayerPeer,
  type WebSocketMultiplayerPeerOptions,
} from '@wsmp/client'
import { normalizeOrigin } from './acceptor.js'
import { LogLimiter } from './log-limiter.js'
import { ServerRole } from './server-role.js'

/**
 * The queue of TCP connections the system accepts before the server takes them (the system caps
 * it: Linux's `net.core.somaxconn`, 4096 today). Node's default, 511, overflows in a join storm,
 * and a client whose SYN was dropped retries only after 1, 3, 7 … s.
 */
export const LISTEN_BACKLOG = 4096

/** Default {@link WebSocketMultiplayerPeer.maxPeers}: connections served at once. */
export const DEFAULT_MAX_PEERS = 10_000
/** Default {@link WebSocketMultiplayerPeer.peerTimeout}, in seconds. */
export const DEFAULT_PEER_TIMEOUT = 15
/** Default {@link WebSocketMultiplayerPeer.maxPacketsPerSecond}, per client. */
export const DEFAULT_MAX_PACKETS_PER_SECOND = 10_000
/** Default {@link WebSocketMultiplayerPeer.maxBytesPerSecond}, per client (16 MiB). */
export const DEFAULT_MAX_BYTES_PER_SECOND = 16 * 1024 * 1024

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
  /** See {@link WebSocketMultiplayerPeer.maxPeers}. */
  maxPeers?: number
  /** See {@link WebSocketMultiplayerPeer.allowedOrigins}. */
  allowedOrigins?: string[] | null
  /** See {@link WebSocketMultiplayerPeer.maxPacketsPerSecond}. */
  maxPacketsPerSecond?: number
  /** See {@link WebSocketMultiplayerPeer.maxBytesPerSecond}. */
  maxBytesPerSecond?: number
  /** See {@link WebSocketMultiplayerPeer.peerTimeout}. */
  peerTimeout?: number
}

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

function pem(value: string | Uint8Array | null): string | Buffer {
  if (value === null) throw new TypeError('missing PEM')
  return typeof value === 'string' ? value : Buffer.from(value)
}

/**
 * Godot 4's `WebSocketMultiplayerPeer` for Node, whole: everything of the `@wsmp/client` class
 * (`createClient`) plus the server side — `createServer`, attaching to an existing `http`/`https`
 * server, `getPeerAddress`/`getPeerPort`, relay and peer announcements. Serving is a role the
 * peer takes on (as a client is): this class only adds the calls that start it.
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
  // Declared, not initialised: the base constructor applies the options (onHandshake included)
  // before this class's field initialisers would run, and an initialiser would wipe the hook.
  private declare _onHandshake: HandshakeHook | null | undefined
  private declare _maxPeers: number | undefined
  private declare _allowedOrigins: string[] | null | undefined
  private declare _maxPacketsPerSecond: number | undefined
  private declare _maxBytesPerSecond: number | undefined
  private declare _peerTimeout: number | undefined
  private declare _logs: LogLimiter | undefined

  constructor(options: ServerPeerOptions = {}) {
    super(options)
  }

  /**
   * How many clients the server serves at once, those in their handshake included; past it an
   * upgrade request is answered HTTP 503 "the server is full". Default 10,000
   * ({@link DEFAULT_MAX_PEERS}); at least 1.
   */
  get maxPeers(): number {
    return this._maxPeers ?? DEFAULT_MAX_PEERS
  }
  /** Sets `maxPeers`; the getter says which values are accepted. */
  set maxPeers(value: number) {
    if (this._valid('maxPeers', value, 1, Infinity, true)) this._maxPeers = value
  }

  /**
   * The page origins (`https://game.example.com`) whose browsers may connect; an upgrade request
   * with another `Origin` header is answered HTTP 403. `null` (the default) admits any. Requests
   * without an `Origin` header (Node, Godot and other non-browser clients send none) are admitted:
   * Origin protects browser users from other sites' pages, it does not authenticate clients (check
   * a token in `onHandshake` for that).
   */
  get allowedOrigins(): string[] | null {
    return this._allowedOrigins ? [...this._allowedOrigins] : null
  }
  /** Sets `allowedOrigins`; the getter says which values are accepted. */
  set allowedOrigins(value: string[] | null) {
    if (value === null) {
      this._allowedOrigins = null
      return
    }
    if (!Array.isArray(value)) throw new TypeError('allowedOrigins must be an array of origins or null')
    this._allowedOrigins = value.map((origin) => {
      const normal = typeof origin === 'string' ? normalizeOrigin(origin) : null
      if (normal === null) throw new TypeError(`allowedOrigins: '${String(origin)}' is not an origin such as 'https://game.example.com'`)
      return normal
    })
  }

  /**
   * The packets a client may send per second (a token bucket holding one second's worth, so bursts
   * up to it pass); a client over it is disconnected with `CloseCode.RATE_LIMITED` (4008,
   * "rate limit"). Default 10,000 ({@link DEFAULT_MAX_PACKETS_PER_SECOND}): far above any game's
   * tick rate, it stops floods that would take the server's CPU. 0 turns the limit off.
   */
  get maxPacketsPerSecond(): number {
    return this._maxPacketsPerSecond ?? DEFAULT_MAX_PACKETS_PER_SECOND
  }
  /** Sets `maxPacketsPerSecond`; the getter says which values are accepted. */
  set maxPacketsPerSecond(value: number) {
    if (this._valid('maxPacketsPerSecond', value, 0)) this._maxPacketsPerSecond = value
  }

  /**
   * The bytes a client may send per second (message payloads; a token bucket holding one second's
   * worth); a client over it is disconnected with `CloseCode.RATE_LIMITED`. Default 16 MiB
   * ({@link DEFAULT_MAX_BYTES_PER_SECOND}). 0 turns the limit off.
   */
  get maxBytesPerSecond(): number {
    return this._maxBytesPerSecond ?? DEFAULT_MAX_BYTES_PER_SECOND
  }
  /** Sets `maxBytesPerSecond`; the getter says which values are accepted. */
  set maxBytesPerSecond(value: number) {
    if (this._valid('maxBytesPerSecond', value, 0)) this._maxBytesPerSecond = value
  }

  /**
   * Seconds after which a client the server has heard nothing from (no message, no pong) is taken
   * for gone — a frozen process or a pulled cable leaves no FIN — and dropped: `peer_disconnected`,
   * DEL_PEER to the others (⅗–⅘ of it after it went silent). A client silent for a fifth of it is
   * pinged (browsers, Godot and wsmp answer pings by themselves), so a live one is never dropped
   * for being quiet. Default 15
   * ({@link DEFAULT_PEER_TIMEOUT}); 0 turns it off. Independent of `heartbeatInterval` (Godot's
   * client-side ping, off by default).
   */
  get peerTimeout(): number {
    return this._peerTimeout ?? DEFAULT_PEER_TIMEOUT
  }
  /** Sets `peerTimeout`; the getter says which values are accepted. */
  set peerTimeout(value: number) {
    if (!this._valid('peerTimeout', value, 0)) return
    this._peerTimeout = value
    if (this._role instanceof ServerRole) this._role.watchSilence()
  }

  /** @internal A server's warnings are rate-limited per kind (see LogLimiter): no client can flood the log. */
  override _log(message: string): void {
    // (Options applied by the base constructor come before the field could be set.)
    this._logs ??= new LogLimiter(() => this.logger)
    this._logs.warn(message)
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
    if (typeof port !== 'number') {
      throw new TypeError(`createServer: port must be a number, got ${typeof port === 'string' ? `the string '${port}' (use Number(…))` : typeof port}`)
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
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
    const role = new ServerRole(this, server, true, null)
    this._role = role
    this._uniqueId = TARGET_PEER_SERVER
    this._status = ConnectionStatus.CONNECTING
    return new Promise<ErrorCode>((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening)
        server.off('close', onClose)
        if (this._role === role) this.close()
        resolve(this._fail(listenError(err), `createServer: cannot listen on ${bindAddress}:${port}: ${err.message}`))
      }
      const onListening = (): void => {
        server.off('error', onError)
        server.off('close', onClose)
        server.on('error', (err) => this._warn(`server error: ${err.message}`))
        if (this._role !== role) {
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
        server.listen({ port, host: bindAddress === '*' ? undefined : bindAddress, backlog: LISTEN_BACKLOG })
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
    this._role = new ServerRole(this, server, false, path)
    this._uniqueId = TARGET_PEER_SERVER
    this._status = ConnectionStatus.CONNECTED
    return ErrorCode.OK
  }

  /**
   * @internal Serves with no listener of its own: CONNECTED at once as the server (id 1), with
   * peers that join through `ServerRole.acceptRemote` (how `@wsmp/cluster`'s authority runs the
   * game). Returns the role, or null (with `ERR_ALREADY_IN_USE` recorded) when in use.
   */
  _serveRemotePeers(): ServerRole | null {
    if (this._status !== ConnectionStatus.DISCONNECTED) {
      this._fail(ErrorCode.ERR_ALREADY_IN_USE, 'the peer is already in use; close() it first')
      return null
    }
    this._startSession()
    const role = new ServerRole(this, null, false, null)
    this._role = role
    this._uniqueId = TARGET_PEER_SERVER
    this._status = ConnectionStatus.CONNECTED
    return role
  }

  /** The port the server listens on (0 when not serving). */
  getLocalPort(): number {
    return this._role instanceof ServerRole ? this._role.localPort() : 0
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
}
