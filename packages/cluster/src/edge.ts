import * as http from 'node:http'
import * as https from 'node:https'
import { hostname } from 'node:os'
import type { Redis } from 'ioredis'
import { createNanoEvents, type Emitter } from 'nanoevents'
import type { WsSocket } from '@wsmp/client/node'
import {
  Acceptor,
  CloseCode,
  DEFAULT_PEER_TIMEOUT,
  LISTEN_BACKLOG,
  SILENT_SWEEPS,
  SWEEPS_PER_TIMEOUT,
  ServerSocketDriver,
  TLSOptions,
  WebSocketMultiplayerPeer,
  consoleLogger,
  sweepSilence,
  type HandshakeHook,
  type SilenceMarks,
  type SocketHandler,
} from '@wsmp/server'
import { StreamReader, Warnings, connectRedis, runId, sessionKeys, timing, type RedisClusterOptions, type SessionKeys } from './redis.js'
import { AuthorityRecord, BatchReader, BatchWriter, EdgeRecord, hexId, randomId, type EdgeHello, type Welcome } from './wire.js'

/** Options of {@link RedisCluster.edge}: where it listens, and the limits a server takes. */
export interface EdgeOptions extends RedisClusterOptions {
  /** The port to listen on; 0 (the default) picks a free one (read it with `getLocalPort()`). */
  port?: number
  /** The address to listen on: `'*'` (the default) is every interface, IPv4 and IPv6. */
  bindAddress?: string
  /** Serve `wss://` with this key and certificate (`TLSOptions.server(key, certificate)`). */
  tlsServerOptions?: TLSOptions | null
  /**
   * Serve WebSocket upgrades on this existing `http`/`https` server (an application's, sharing its
   * port) instead of listening: only those to {@link path}. `port`, `bindAddress` and
   * `tlsServerOptions` are then not used; `close()` detaches without closing it.
   */
  server?: http.Server | https.Server
  /** With {@link server}: the path served (default `'/'`). */
  path?: string
  /** Seconds from TCP accept to the completed upgrade (default 3); slower clients are cut. Godot: `handshake_timeout`. */
  handshakeTimeout?: number
  /** Extra `Name: value` header lines for the upgrade's 101 response. */
  handshakeHeaders?: string[]
  /** The largest message a client may send, in bytes (default 65535); larger closes it with 1009. Godot: `inbound_buffer_size`. */
  inboundBufferSize?: number
  /**
   * Bytes that may wait to be written to a client (default 65535): a frame that would pass it is
   * not written and the client is closed with 4000 "outbound buffer full" (counted and logged).
   * The authority applies its own `outboundBufferSize` first, to the sizes this edge reports for
   * congested clients (one Redis hop late), so give the edges at least the authority's value.
   * 0 disables the check. Godot: `outbound_buffer_size`.
   */
  outboundBufferSize?: number
  /** Subprotocols accepted, the first in the client's order wins. Godot: `supported_protocols`. */
  supportedProtocols?: string[]
  /** The handshake hook (see `@wsmp/server`'s `onHandshake`): runs here, on the edge, for every upgrade request. */
  onHandshake?: HandshakeHook | null
  /** Seconds between pings to each client; a client that has not answered by the next one is dropped. 0 (default) = off. */
  heartbeatInterval?: number
  /** Answer every upgrade with 503 (also done on its own while there is no authority). */
  refuseNewConnections?: boolean
  /** Clients this edge serves at once; past it upgrades get 503 (see `@wsmp/server`'s `maxPeers`; default 10,000). */
  maxPeers?: number
  /** Page origins whose browsers may connect; others get 403 (see `@wsmp/server`'s `allowedOrigins`; default null, any). */
  allowedOrigins?: string[] | null
  /**
   * Seconds after which a client nothing was heard from (no message, no pong; it is pinged first)
   * is dropped as gone, as `@wsmp/server`'s `peerTimeout` does; default 15, 0 = off. Watched here,
   * where the socket is.
   */
  peerTimeout?: number
}

/** Counters of an edge, since it started. */
export interface EdgeStats {
  /** Clients connected now. */
  clients: number
  /** Clients accepted so far. */
  accepted: number
  /** Client messages forwarded to the authority. */
  messagesIn: number
  /** Frames written to clients. */
  framesOut: number
  /** Batches written to Redis: at most one per event-loop turn. */
  batchesOut: number
  /** Batches read from Redis (stream entries from the authority). */
  batchesIn: number
  /** Batches Redis delivered twice (after a reconnect) and that were dropped as duplicates. */
  duplicates: number
  /**
   * Frames for a client that could not be written: it had closed or was closing. Each is also
   * logged (rate-limited).
   */
  undeliverable: number
  /** Clients closed with 4000 because a frame would have passed `outboundBufferSize`. */
  outboundFull: number
  /** Client messages that arrived while there was no authority to take them (the client was being closed). */
  unforwarded: number
  /** Times the edge lost its authority (or Redis) and closed its clients. */
  authorityLost: number
  /** Redis commands that failed (each also logged). */
  redisErrors: number
}

/** The edge's events (`on(event, listener)`). */
export interface EdgeEvents {
  /** The edge serves the session's authority `authority` (its instance id): clients are accepted. */
  serving: (authority: string) => void
  /**
   * The edge lost its authority (or Redis) and closed its clients with `code`
   * (`CloseCode.AUTHORITY_LOST`, `CloseCode.REDIS_UNAVAILABLE`, or the authority's own when it
   * closed); `detail` says what happened. It waits for an authority again.
   */
  authority_lost: (code: number, detail: string) => void
  /** The edge closed. */
  closed: () => void
}

type EdgeState = 'waiting' | 'serving' | 'closed'

/** One client connection on this edge: the handler of its `ws` socket. */
class EdgeClient implements SocketHandler, SilenceMarks {
  heartbeat: unknown = null
  _readMark = 0
  _silentSweeps = 0
  /** Bytes waiting to be written that the authority was last told of. */
  reported = 0
  /** Written to in the current batch from the authority (its buffer is checked afterwards). */
  touched = false
  rechecking = false
  /** Closed by the edge itself (its authority is gone): its close is not reported. */
  detached = false

  constructor(
    readonly edge: RedisEdge,
    readonly id: number,
    readonly ws: WsSocket,
  ) {}

  _opened(): void {}
  _message(data: Uint8Array, isString: boolean): void {
    this.edge._fromClient(this, data, isString)
  }
  _closed(code: number, reason: string): void {
    this.edge._clientClosed(this, code, reason)
  }
  _error(reason: string): void {
    this.edge._clientError(this, reason)
  }
  _tooBig(size: number): void {
    this.edge._clientTooBig(this, size)
  }
  _refused(): void {}
  _warnOnce(message: string): void {
    this.edge._warn(message, message)
  }
}

const driver = new ServerSocketDriver()
const AUTHORITY_LOST_REASON = 'cluster: authority lost'
const REDIS_UNAVAILABLE_REASON = 'cluster: Redis unavailable'

function listenError(err: NodeJS.ErrnoException, bind: string, port: number): Error {
  return new Error(`cannot listen on ${bind}:${port}: ${err.message}`)
}

function pem(value: string | Uint8Array | null): string | Buffer {
  if (value === null) throw new TypeError('tlsServerOptions has no key or certificate')
  return typeof value === 'string' ? value : Buffer.from(value)
}

/**
 * An edge of a cluster session, made by {@link RedisCluster.edge}: it accepts clients (plain
 * WebSocket, Godot 4 or wsmp clients) and is a pipe between them and the authority. Each client
 * message goes to the authority verbatim, and what the authority sends is written verbatim; the
 * edge assigns no ids and reads no framing. It enforces the limits where the socket is: the
 * handshake (refusing, subprotocols, the hook, the timeout, TLS), `inboundBufferSize` (1009),
 * `outboundBufferSize` (4000), pings, and pauses a client's socket when the authority's queue for
 * it is full.
 */
export class RedisEdge {
  /** The session's name. */
  readonly session: string
  /** This edge's id (8 hex digits, new at every start). */
  readonly id: string
  private readonly _edge: number
  private readonly _keys: SessionKeys
  private readonly _streamKey: string
  private readonly _owner: WebSocketMultiplayerPeer
  private readonly _acceptor: Acceptor
  private readonly _http: http.Server | https.Server
  private readonly _ownsHttp: boolean
  private readonly _clients = new Map<number, EdgeClient>()
  private _nextClient = 0
  private _state: EdgeState = 'waiting'
  private _userRefuse: boolean
  private _authority = 0
  private _link = randomId()
  private _outSeq = 0
  private _inSeq = 1
  private _lastAuthority = 0
  private _heartbeatMs: number
  private _timeoutMs: number
  private _lastBeat = 0
  private _runId = ''
  private readonly _out = new BatchWriter()
  private _flushScheduled = false
  private _touched: EdgeClient[] = []
  private _checkScheduled = false
  private readonly _reader: StreamReader
  private readonly _timer: ReturnType<typeof setInterval>
  /** The silence watch over this edge's clients (see EdgeOptions.peerTimeout). */
  private readonly _sweep: ReturnType<typeof setInterval> | null
  private readonly _events: Emitter<EdgeEvents> = createNanoEvents<EdgeEvents>()
  private readonly _warnings: Warnings
  private readonly _stats: EdgeStats = {
    clients: 0,
    accepted: 0,
    messagesIn: 0,
    framesOut: 0,
    batchesOut: 0,
    batchesIn: 0,
    duplicates: 0,
    undeliverable: 0,
    outboundFull: 0,
    unforwarded: 0,
    authorityLost: 0,
    redisErrors: 0,
  }
  private _closing: Promise<void> | null = null
  private readonly _hello: EdgeHello

  private constructor(
    options: EdgeOptions,
    private readonly _cmd: Redis,
    private readonly _read: Redis,
    server: http.Server | https.Server,
    owns: boolean,
    edge: number,
    runIdAtStart: string,
  ) {
    this._keys = sessionKeys(options)
    const t = timing(options)
    this._heartbeatMs = t.heartbeatMs
    this._timeoutMs = t.timeoutMs
    this.session = options.session
    this._edge = edge
    this.id = hexId(edge)
    this._streamKey = this._keys.edge(this.id)
    this._runId = runIdAtStart
    const logger = options.logger === undefined ? consoleLogger : options.logger
    this._warnings = new Warnings(() => logger, `cluster ${options.session} (edge ${this.id}): `)
    this._owner = new WebSocketMultiplayerPeer({
      logger,
      handshakeTimeout: options.handshakeTimeout,
      handshakeHeaders: options.handshakeHeaders,
      inboundBufferSize: options.inboundBufferSize,
      outboundBufferSize: options.outboundBufferSize,
      supportedProtocols: options.supportedProtocols,
      onHandshake: options.onHandshake ?? null,
      heartbeatInterval: options.heartbeatInterval,
      maxPeers: options.maxPeers,
      allowedOrigins: options.allowedOrigins,
      refuseNewConnections: true,
    })
    this._userRefuse = options.refuseNewConnections === true
    this._http = server
    this._ownsHttp = owns
    this._acceptor = new Acceptor(
      this._owner,
      server,
      owns,
      owns ? null : (options.path ?? '/'),
      (ws, url) => this._accepted(ws, url),
      () => this._clients.size,
    )
    this._hello = { edge: this.id, port: 0, host: hostname(), pid: process.pid }
    this._cmd.on('error', () => {})
    this._cmd.on('ready', () => void this._redisReady())
    this._read.on('error', () => {})
    this._reader = new StreamReader(_read, this._streamKey, this._heartbeatMs, (batch) => this._onBatch(batch), (err) => this._redisError('read', err))
    this._timer = setInterval(() => this._tick(), Math.max(10, Math.floor(this._heartbeatMs / 2)))
    this._timer.unref()
    const peerTimeout = options.peerTimeout ?? DEFAULT_PEER_TIMEOUT
    if (!(typeof peerTimeout === 'number' && peerTimeout >= 0)) throw new TypeError(`peerTimeout must be a number of seconds ≥ 0, got ${String(peerTimeout)}`)
    this._sweep = peerTimeout > 0 ? setInterval(() => this._sweepSilent(peerTimeout), (peerTimeout * 1000) / SWEEPS_PER_TIMEOUT) : null
    this._sweep?.unref()
  }

  /** One sweep of the silence watch: silent clients are pinged, gone ones dropped (and leave for everyone). */
  private _sweepSilent(seconds: number): void {
    for (const client of this._clients.values()) {
      const verdict = sweepSilence(client, driver.bytesRead(client.ws), client.ws.isPaused)
      if (verdict === 'silent') driver.ping(client.ws)
      else if (verdict === 'gone') {
        this._warn('peerTimeout', `client ${client.id}: nothing heard at ${SILENT_SWEEPS} sweeps in a row, one every ${seconds / SWEEPS_PER_TIMEOUT} s (peerTimeout ${seconds} s), not even a pong; dropping it`)
        client.ws.terminate()
      }
    }
  }

  /** @internal Use {@link RedisCluster.edge}. */
  static async _start(options: EdgeOptions): Promise<RedisEdge> {
    const keys = sessionKeys(options)
    const t = timing(options)
    void keys
    const port = options.port ?? 0
    const bind = options.bindAddress ?? '*'
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be an integer in 0 … 65535, got ${String(port)}`)
    const tls = options.tlsServerOptions ?? null
    if (tls !== null && !(tls instanceof TLSOptions && tls.isServer())) throw new TypeError('tlsServerOptions must be TLSOptions.server(key, certificate)')
    const url = options.url ?? 'redis://127.0.0.1:6379'
    const edge = randomId()
    const cmd = await connectRedis(url, options.redisOptions, `wsmp-edge-${hexId(edge)}`, t.connectTimeoutMs)
    let read: Redis | null = null
    let server: http.Server | https.Server | null = null
    let instance: RedisEdge | null = null
    try {
      read = await connectRedis(url, options.redisOptions, `wsmp-edge-${hexId(edge)}-read`, t.connectTimeoutMs)
      const id = await runId(cmd)
      const owns = !options.server
      server = options.server ?? (tls ? https.createServer({ key: pem(tls.getPrivateKey()), cert: pem(tls.getOwnCertificate()) }) : http.createServer())
      instance = new RedisEdge(options, cmd, read, server, owns, edge, id)
      if (owns) {
        const http = server
        await new Promise<void>((resolve, reject) => {
          const onError = (err: NodeJS.ErrnoException): void => reject(listenError(err, bind, port))
          http.once('error', onError)
          http.listen({ port, host: bind === '*' ? undefined : bind, backlog: LISTEN_BACKLOG }, () => {
            http.off('error', onError)
            http.on('error', (err) => instance?._warn('http', `server error: ${err.message}`))
            resolve()
          })
        })
      }
      instance._hello.port = instance.getLocalPort()
      instance._reader.start()
      instance._tick()
      return instance
    } catch (err) {
      if (instance) {
        instance._state = 'closed'
        clearInterval(instance._timer)
        if (instance._sweep) clearInterval(instance._sweep)
        instance._reader.stop()
        instance._acceptor.close()
      } else if (server && !options.server) {
        server.close()
      }
      cmd.disconnect()
      read?.disconnect()
      throw err
    }
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof EdgeEvents>(event: E, listener: EdgeEvents[E]): () => void {
    return this._events.on(event, listener)
  }

  /** The port this edge listens on (0 once closed; the application's when attached). */
  getLocalPort(): number {
    return this._acceptor.localPort()
  }

  /** Whether the edge serves an authority now (clients are accepted). */
  isServing(): boolean {
    return this._state === 'serving'
  }

  /** The instance id of the authority served, or null while waiting for one. */
  getAuthority(): string | null {
    return this._state === 'serving' ? hexId(this._authority) : null
  }

  /** Resolves once the edge serves an authority (at once when it does); rejects after `timeoutMs` or when it closes. */
  whenServing(timeoutMs = 10_000): Promise<void> {
    if (this._state === 'serving') return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop()
        reject(new Error(`edge ${this.id}: no authority for session '${this.session}' within ${timeoutMs} ms`))
      }, timeoutMs)
      const offServing = this.on('serving', () => {
        stop()
        resolve()
      })
      const offClosed = this.on('closed', () => {
        stop()
        reject(new Error(`edge ${this.id} closed`))
      })
      const stop = (): void => {
        clearTimeout(timer)
        offServing()
        offClosed()
      }
    })
  }

  /** Clients connected now. */
  getClientCount(): number {
    return this._clients.size
  }

  /** Counters since the start (a copy). */
  getStats(): EdgeStats {
    return { ...this._stats, clients: this._clients.size }
  }

  /** Answers every upgrade with 503 while true (the edge also does on its own while it has no authority). */
  get refuseNewConnections(): boolean {
    return this._userRefuse
  }
  /** Sets `refuseNewConnections`. */
  set refuseNewConnections(value: boolean) {
    this._userRefuse = Boolean(value)
    this._applyRefuse()
  }

  /**
   * Closes the edge: stops accepting, tells the authority (its clients leave the game), closes
   * every client with 1001 "edge closed" (dropped if it has not closed within 1 s) and leaves
   * Redis. Resolves once done.
   */
  close(): Promise<void> {
    if (this._closing) return this._closing
    this._closing = (async () => {
      const serving = this._state === 'serving'
      this._state = 'closed'
      clearInterval(this._timer)
      if (this._sweep) clearInterval(this._sweep)
      this._reader.stop()
      this._acceptor.close()
      if (serving) {
        this._out.plain(EdgeRecord.BYE)
        await this._flush()
      }
      const closed: Promise<void>[] = []
      for (const client of this._clients.values()) closed.push(this._detach(client, 1001, 'edge closed'))
      this._clients.clear()
      await Promise.all(closed)
      try {
        await Promise.race([this._cmd.del(this._streamKey), new Promise((resolve) => setTimeout(resolve, 1000))])
      } catch {
        // Redis unreachable: the stream expires by itself.
      }
      this._cmd.disconnect()
      this._read.disconnect()
      if (this._ownsHttp) this._http.closeAllConnections?.()
      this._events.emit('closed')
    })()
    return this._closing
  }

  /** @internal Writes a rate-limited warning. */
  _warn(key: string, message: string): void {
    this._warnings.warn(key, message)
  }

  // ---- clients --------------------------------------------------------------------------------

  private _accepted(ws: WsSocket, url: string): void {
    if (this._state !== 'serving') {
      ws.close(1013, 'no authority')
      return
    }
    // Client numbers are the edge's own (u32, never 0), never reused while the edge runs long enough to matter.
    this._nextClient = this._nextClient >= 0xffffffff ? 1 : this._nextClient + 1
    const client = new EdgeClient(this, this._nextClient, ws)
    driver.adopt(ws, client)
    this._clients.set(client.id, client)
    this._stats.accepted++
    const interval = this._owner.heartbeatInterval
    if (interval > 0) client.heartbeat = driver.startHeartbeat(ws, interval)
    this._out.open(client.id, driver.remotePort(ws), driver.remoteAddress(ws), driver.protocol(ws), url)
    this._schedule()
  }

  /** @internal A client's message: to the authority, verbatim. */
  _fromClient(client: EdgeClient, data: Uint8Array, isString: boolean): void {
    if (client.detached || this._state !== 'serving') {
      this._stats.unforwarded++
      return
    }
    this._stats.messagesIn++
    this._out.message(EdgeRecord.MSG, client.id, data, isString)
    this._schedule()
  }

  /** @internal A client's socket closed. */
  _clientClosed(client: EdgeClient, code: number, reason: string): void {
    if (client.heartbeat !== null) driver.stopHeartbeat(client.heartbeat)
    client.heartbeat = null
    if (this._clients.get(client.id) === client) this._clients.delete(client.id)
    if (client.detached || this._state !== 'serving') return
    this._out.close(EdgeRecord.CLOSED, client.id, code, reason)
    this._schedule()
  }

  /** @internal Something failed on a client's socket (a heartbeat timeout, a reset): the authority's peer records it. */
  _clientError(client: EdgeClient, reason: string): void {
    if (client.detached || this._state !== 'serving') return
    this._out.clientText(EdgeRecord.ERROR, client.id, reason)
    this._schedule()
  }

  /** @internal A client sent a message over `inboundBufferSize` (ws closes it with 1009). */
  _clientTooBig(client: EdgeClient, size: number): void {
    if (client.detached || this._state !== 'serving') return
    this._out.clientInt(EdgeRecord.TOOBIG, client.id, size)
    this._schedule()
  }

  /** Closes a client on the edge's own account; resolves once it closed (dropped after 1 s). */
  private _detach(client: EdgeClient, code: number, reason: string): Promise<void> {
    client.detached = true
    const ws = client.ws
    if (ws.readyState === 3) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate()
        resolve()
      }, 1000)
      timer.unref()
      ws.on('close', () => {
        clearTimeout(timer)
        resolve()
      })
      try {
        ws.close(code, reason)
      } catch {
        ws.terminate()
      }
    })
  }

  /** Writes a frame from the authority to a client, within `outboundBufferSize`. */
  private _write(id: number, data: Buffer, isText: boolean): void {
    const client = this._clients.get(id)
    if (!client || client.detached || client.ws.readyState !== 1) {
      this._stats.undeliverable++
      this._warnings.warn('undeliverable', `a frame for client ${id} was not delivered: ${client ? 'it is closing' : 'it has left'}`)
      return
    }
    const limit = this._owner.outboundBufferSize
    if (limit > 0 && !driver.hasRoom(client.ws, data.length, limit)) {
      this._stats.outboundFull++
      this._stats.undeliverable++
      this._warnings.warn('outbound', `client ${id}: outbound buffer full (outboundBufferSize = ${limit}); disconnecting the slow client`)
      try {
        client.ws.close(CloseCode.OUTBOUND_BUFFER_FULL, 'outbound buffer full')
      } catch {
        client.ws.terminate()
      }
      const timer = setTimeout(() => client.ws.terminate(), 1000)
      timer.unref()
      return
    }
    driver.send(client.ws, isText ? data.toString('utf8') : data, !isText)
    this._stats.framesOut++
    if (!client.touched) {
      client.touched = true
      this._touched.push(client)
    }
  }

  /**
   * After a batch was written: the clients whose socket has bytes waiting (or no longer has) are
   * reported, so the authority's `outboundBufferSize` and congestion rules see them. Checked a
   * turn later, once the write batch went to the system; a congested client is checked again
   * every 20 ms until it drained.
   */
  private _checkCongestion(): void {
    this._checkScheduled = false
    const touched = this._touched
    this._touched = []
    for (const client of touched) {
      client.touched = false
      this._report(client)
    }
  }

  private _report(client: EdgeClient): void {
    if (client.detached || this._state !== 'serving' || this._clients.get(client.id) !== client) return
    const buffered = client.ws.bufferedAmount
    if (buffered !== client.reported) {
      client.reported = buffered
      this._out.clientInt(EdgeRecord.BUFFERED, client.id, Math.min(buffered, 0x7fffffff))
      this._schedule()
    }
    if (buffered > 0 && !client.rechecking) {
      client.rechecking = true
      const timer = setTimeout(() => {
        client.rechecking = false
        this._report(client)
      }, 20)
      timer.unref()
    }
  }

  // ---- Redis ----------------------------------------------------------------------------------

  private _schedule(): void {
    if (this._flushScheduled) return
    this._flushScheduled = true
    setImmediate(() => void this._flush())
  }

  /** This turn's records for the authority: one XADD. */
  private _flush(): Promise<void> {
    this._flushScheduled = false
    if (this._out.records === 0) return Promise.resolve()
    const batch = this._out.take(this._edge, this._link, ++this._outSeq)
    this._stats.batchesOut++
    return this._cmd.xadd(this._keys.authority, '*', 'd', batch).then(
      () => {},
      (err: Error) => this._redisError('write', err),
    )
  }

  private _onBatch(batch: Buffer): void {
    const header = BatchReader.header(batch)
    if (header === null || this._state === 'closed') return
    // Batches of an older link (before the edge last started over) are stale.
    if (header.link !== this._link) return
    this._stats.batchesIn++
    const reader = new BatchReader(batch)
    if (this._state === 'waiting') {
      if (batch[17] !== AuthorityRecord.WELCOME) return
      reader.u8()
      let welcome: Welcome
      try {
        welcome = JSON.parse(reader.str()) as Welcome
      } catch {
        return
      }
      this._authority = header.sender
      this._inSeq = header.seq + 1
      this._lastAuthority = Date.now()
      if (welcome.heartbeatMs >= 10 && welcome.timeoutMs >= 2 * welcome.heartbeatMs) {
        this._heartbeatMs = welcome.heartbeatMs
        this._timeoutMs = welcome.timeoutMs
      }
      this._state = 'serving'
      this._applyRefuse()
      this._events.emit('serving', welcome.authority)
    } else if (header.seq === 0) {
      // Unsequenced: only EVICT, from an authority that does not know this link.
      if (batch[17] === AuthorityRecord.EVICT) {
        reader.u8()
        this._lose(CloseCode.AUTHORITY_LOST, AUTHORITY_LOST_REASON, `the authority ${hexId(header.sender)} dropped this edge (${reader.str()})`)
      }
      return
    } else if (header.sender !== this._authority) {
      return
    } else if (header.seq < this._inSeq) {
      this._stats.duplicates++
      return
    } else if (header.seq > this._inSeq) {
      this._lose(CloseCode.REDIS_UNAVAILABLE, REDIS_UNAVAILABLE_REASON, `traffic from the authority has a gap (batch ${this._inSeq} never arrived)`)
      return
    } else {
      this._inSeq++
    }
    this._lastAuthority = Date.now()
    try {
      while (reader.more() && this._state === 'serving') this._record(reader)
    } catch (err) {
      this._lose(CloseCode.REDIS_UNAVAILABLE, REDIS_UNAVAILABLE_REASON, `a corrupt batch from the authority (${(err as Error).message})`)
    }
    if (this._touched.length > 0 && !this._checkScheduled) {
      this._checkScheduled = true
      setImmediate(() => this._checkCongestion())
    }
  }

  private _record(r: BatchReader): void {
    const type = r.u8()
    switch (type) {
      case AuthorityRecord.SEND: {
        const client = r.u32()
        const isText = r.u8() === 1
        this._write(client, r.bytes(r.u32()), isText)
        return
      }
      case AuthorityRecord.SEND_MANY: {
        const isText = r.u8() === 1
        const frame = r.bytes(r.u32())
        const count = r.u16()
        ServerSocketDriver.share(frame)
        try {
          for (let i = 0; i < count; i++) this._write(r.u32(), frame, isText)
        } finally {
          ServerSocketDriver.share(null)
        }
        return
      }
      case AuthorityRecord.CLOSE: {
        const client = this._clients.get(r.u32())
        const code = r.i32()
        const reason = r.str()
        if (!client) return
        if (code < 0) {
          client.ws.terminate()
          return
        }
        try {
          client.ws.close(code, reason)
        } catch {
          client.ws.terminate()
        }
        return
      }
      case AuthorityRecord.PAUSE:
        this._clients.get(r.u32())?.ws.pause()
        return
      case AuthorityRecord.RESUME:
        this._clients.get(r.u32())?.ws.resume()
        return
      case AuthorityRecord.HB:
        return
      case AuthorityRecord.WELCOME:
        r.str()
        return
      case AuthorityRecord.BYE: {
        const code = r.i32()
        const reason = r.str()
        this._lose(code, reason, 'the authority closed')
        return
      }
      case AuthorityRecord.EVICT:
        this._lose(CloseCode.AUTHORITY_LOST, AUTHORITY_LOST_REASON, `the authority dropped this edge (${r.str()})`)
        return
      default:
        throw new RangeError(`unknown record type ${type}`)
    }
  }

  /**
   * The authority (or Redis) is gone: every client is closed with `code` and `reason`, and the
   * edge waits for an authority again, on a new link.
   */
  private _lose(code: number, reason: string, detail: string): void {
    if (this._state !== 'serving') return
    this._state = 'waiting'
    this._authority = 0
    this._link = randomId()
    this._outSeq = 0
    this._out.clear()
    this._stats.authorityLost++
    const clients = [...this._clients.values()]
    this._clients.clear()
    this._touched = []
    for (const client of clients) void this._detach(client, code, reason)
    this._applyRefuse()
    if (code !== 1001) this._warnings.warn('lost', `${detail}: closed ${clients.length} client(s) with ${code}`)
    this._events.emit('authority_lost', code, detail)
  }

  private _applyRefuse(): void {
    this._owner.refuseNewConnections = this._userRefuse || this._state !== 'serving'
  }

  private _redisError(what: string, err: Error): void {
    if (this._state === 'closed') return
    this._stats.redisErrors++
    this._warnings.warn(`redis ${what}`, `Redis ${what} failed: ${err.message}`)
  }

  private async _redisReady(): Promise<void> {
    if (this._state === 'closed') return
    let id: string
    try {
      id = await runId(this._cmd)
    } catch {
      return
    }
    if (id === this._runId) return
    this._runId = id
    this._lose(CloseCode.REDIS_UNAVAILABLE, REDIS_UNAVAILABLE_REASON, 'Redis restarted (its streams are gone)')
  }

  /** Heartbeats, HELLO while waiting, liveness of the authority and of Redis. */
  private _tick(): void {
    if (this._state === 'closed') return
    const now = Date.now()
    const silence = now - this._reader.lastReadAt
    if (this._state === 'serving') {
      if (silence > this._timeoutMs + this._heartbeatMs) {
        this._lose(CloseCode.REDIS_UNAVAILABLE, REDIS_UNAVAILABLE_REASON, `Redis unreachable for ${silence} ms`)
        return
      }
      const quiet = now - this._lastAuthority
      if (silence <= 2 * this._heartbeatMs && quiet > this._timeoutMs) {
        this._lose(CloseCode.AUTHORITY_LOST, AUTHORITY_LOST_REASON, `the authority has been silent for ${quiet} ms`)
        return
      }
    }
    if (now - this._lastBeat < this._heartbeatMs) return
    this._lastBeat = now
    const key = this._streamKey
    this._cmd
      .multi()
      .xtrim(key, 'MINID', this._reader.lastId)
      .pexpire(key, this._timeoutMs * 10)
      .exec()
      .catch((err: Error) => this._redisError('trim', err))
    if (this._state === 'serving') {
      this._out.plain(EdgeRecord.HB)
      this._schedule()
      return
    }
    // Waiting: say HELLO when an authority holds the session's lock.
    this._cmd.get(this._keys.lock).then(
      (holder) => {
        if (holder === null || this._state !== 'waiting') return
        this._out.clear()
        this._out.text(EdgeRecord.HELLO, JSON.stringify(this._hello))
        void this._flush()
      },
      (err: Error) => this._redisError('read', err),
    )
  }
}
