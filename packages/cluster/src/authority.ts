import type { Redis } from 'ioredis'
import { createNanoEvents, type Emitter } from 'nanoevents'
import { CloseCode, ConnectionStatus, DrainRechecks, ServerRole, ServerSocketDriver, type SocketDriver, type WebSocketMultiplayerPeer, type WebSocketPeer } from '@wsmp/server'
import {
  LOCK_REFRESH,
  LOCK_RELEASE,
  StreamReader,
  Warnings,
  connectRedis,
  runId,
  sessionKeys,
  timing,
  type RedisClusterOptions,
  type SessionKeys,
} from './redis.js'
import { AuthorityRecord, BatchReader, BatchWriter, EdgeRecord, hexId, randomId, type EdgeHello, type Welcome } from './wire.js'

/** Options of {@link RedisCluster.authority}. */
export type AuthorityOptions = RedisClusterOptions

/** One edge as the authority sees it. */
export interface EdgeInfo {
  /** The edge's id (8 hex digits). */
  id: string
  /** Its host name, as it reported it. */
  host: string
  /** The port it listens on (0 when it is attached to an application's server). */
  port: number
  /** Its process id. */
  pid: number
  /** Clients connected through it. */
  clients: number
  /** Milliseconds since the authority last heard from it. */
  silentMs: number
}

/** Counters of an authority, since it started. */
export interface AuthorityStats {
  /** Edges serving now. */
  edges: number
  /** Clients connected through edges now. */
  remotePeers: number
  /** Batches read from Redis (stream entries from edges). */
  batchesIn: number
  /** Batches written to Redis: at most one per edge per event-loop turn. */
  batchesOut: number
  /** Bytes of the batches read. */
  bytesIn: number
  /** Bytes of the batches written. */
  bytesOut: number
  /** Batches Redis delivered twice (after a reconnect) and that were dropped as duplicates. */
  duplicates: number
  /**
   * Frames for a client that could not be delivered: its edge was gone or the client had left.
   * Each is also logged (rate-limited).
   */
  undeliverable: number
  /** Messages from a client the authority no longer knows (it had left): dropped, counted. */
  lateMessages: number
  /** Edges lost: silent past `timeoutMs`, their traffic broken, or Redis gone. */
  edgesLost: number
  /** Redis commands that failed (each also logged). */
  redisErrors: number
}

/** The authority's events (`on(event, listener)`). */
export interface AuthorityEvents {
  /** An edge joined the session. */
  edge_joined: (edge: string) => void
  /** An edge left: `reason` says why ('edge closed', 'silent for 3000 ms', …); its clients have left. */
  edge_lost: (edge: string, reason: string) => void
  /** Redis was unreachable past `timeoutMs`: every remote client has left. */
  redis_down: (reason: string) => void
  /** Redis is back after an outage (or restarted); edges rejoin on their own. */
  redis_up: () => void
  /** The authority stopped: `close()`, the game stopped serving, or another authority took the session. */
  closed: (reason: string) => void
}

/** A client on an edge, as a socket the authority's `WebSocketPeer` drives. */
class RemoteSocket {
  /** The authority's peer for it, once accepted. */
  peer: WebSocketPeer | null = null
  /** Bytes the edge last reported as waiting to be written to the client. */
  buffered = 0
  /** Set once it closed or its edge is gone: nothing more is sent. */
  closed = false

  constructor(
    readonly link: EdgeLink,
    readonly client: number,
    readonly address: string,
    readonly port: number,
    readonly protocol: string,
  ) {}
}

/** One edge's link: its clients, what goes to it this turn, the sequence numbers both ways. */
class EdgeLink {
  readonly clients = new Map<number, RemoteSocket>()
  readonly out = new BatchWriter()
  /** The next batch number expected from the edge. */
  inSeq = 1
  /** The last batch number sent to it. */
  outSeq = 0
  lastSeen = Date.now()
  queued = false
  dead = false

  constructor(
    readonly owner: RedisAuthority,
    readonly edge: number,
    readonly link: number,
    readonly key: string,
    readonly hello: EdgeHello,
  ) {}
}

/** The socket driver of clients on edges: every call becomes a record for the client's edge. */
class ClusterSocketDriver implements SocketDriver<RemoteSocket> {
  connect(): RemoteSocket {
    throw new Error('a cluster authority does not open client connections')
  }
  send(socket: RemoteSocket, data: Uint8Array | string, binary: boolean): void {
    socket.link.owner._send(socket, data, !binary)
  }
  hasRoom(socket: RemoteSocket, size: number, limit: number): boolean {
    return socket.buffered + size <= limit
  }
  bufferedAmount(socket: RemoteSocket): number {
    return socket.buffered
  }
  protocol(socket: RemoteSocket): string {
    return socket.protocol
  }
  close(socket: RemoteSocket, code: number, reason: string): void {
    socket.link.owner._closeRemote(socket, code, reason)
  }
  terminate(socket: RemoteSocket): void {
    socket.link.owner._closeRemote(socket, -1, '')
  }
  isValidCloseCode(code: number): boolean {
    return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  }
  remoteAddress(socket: RemoteSocket): string {
    return socket.address
  }
  remotePort(socket: RemoteSocket): number {
    return socket.port
  }
  setNoDelay(): void {
    // The edge's sockets have Nagle's algorithm off already (ws sets it).
  }
  pause(socket: RemoteSocket): void {
    socket.link.owner._control(socket, AuthorityRecord.PAUSE)
  }
  resume(socket: RemoteSocket): void {
    socket.link.owner._control(socket, AuthorityRecord.RESUME)
  }
  startHeartbeat(): unknown {
    // Pings run where the socket is: the edge's `heartbeatInterval` option.
    return null
  }
  stopHeartbeat(): void {}
  watchDrain(socket: RemoteSocket, done: () => void): void {
    // The edge reports a congested client's buffer as it changes; check again after a while.
    drainRechecks.later(socket, done)
  }
}

const drainRechecks = new DrainRechecks<RemoteSocket>()
const clusterDriver = new ClusterSocketDriver()

/**
 * The authority of a cluster session: the game's `WebSocketMultiplayerPeer` (peer 1) serving the
 * clients of every edge, made by {@link RedisCluster.authority}. The game keeps its whole API;
 * this object only runs the link to Redis.
 *
 * How it works: each edge forwards its clients' connections and messages into the authority's
 * stream; each becomes a `WebSocketPeer` of the game's server role, driven by a socket driver
 * whose sends become records for the client's edge. Records for one edge are gathered over an
 * event-loop turn and written as one stream entry (a broadcast is one record per edge with the
 * list of receivers). Heartbeats both ways tell a lost process within `timeoutMs`.
 */
export class RedisAuthority {
  /** The session's name. */
  readonly session: string
  /** This authority's instance id (8 hex digits, new at every start). */
  readonly instanceId: string
  private readonly _instance: number
  private readonly _keys: SessionKeys
  private readonly _heartbeatMs: number
  private readonly _timeoutMs: number
  private readonly _links = new Map<number, EdgeLink>()
  private readonly _byEdge = new Map<number, EdgeLink>()
  private _dirty: EdgeLink[] = []
  private _flushScheduled = false
  private readonly _events: Emitter<AuthorityEvents> = createNanoEvents<AuthorityEvents>()
  private readonly _warnings: Warnings
  private readonly _stats: AuthorityStats = {
    edges: 0,
    remotePeers: 0,
    batchesIn: 0,
    batchesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    duplicates: 0,
    undeliverable: 0,
    lateMessages: 0,
    edgesLost: 0,
    redisErrors: 0,
  }
  private readonly _reader: StreamReader
  private readonly _timer: ReturnType<typeof setInterval>
  private _lastBeat = 0
  private _redisDown = false
  private _runId: string
  private _closed = false
  private _closing: Promise<void> | null = null
  private readonly _evicted = new Map<number, number>()

  private constructor(
    private readonly _game: WebSocketMultiplayerPeer,
    private readonly _role: ServerRole,
    private readonly _ownsRole: boolean,
    private readonly _cmd: Redis,
    private readonly _read: Redis,
    options: AuthorityOptions,
    instance: number,
    runIdAtStart: string,
  ) {
    this._keys = sessionKeys(options)
    const t = timing(options)
    this._heartbeatMs = t.heartbeatMs
    this._timeoutMs = t.timeoutMs
    this.session = options.session
    this._instance = instance
    this.instanceId = hexId(instance)
    this._runId = runIdAtStart
    const logger = options.logger
    this._warnings = new Warnings(() => (logger === undefined ? _game.logger : logger), `cluster ${options.session} (authority): `)
    this._cmd.on('error', () => {})
    this._cmd.on('ready', () => void this._redisReady())
    this._read.on('error', () => {})
    this._reader = new StreamReader(_read, this._keys.authority, this._heartbeatMs, (batch) => this._onBatch(batch), (err) => this._redisError('read', err))
    this._timer = setInterval(() => this._tick(), Math.max(10, Math.floor(this._heartbeatMs / 2)))
    this._timer.unref()
  }

  /** @internal Use {@link RedisCluster.authority}. */
  static async _start(game: WebSocketMultiplayerPeer, options: AuthorityOptions): Promise<RedisAuthority> {
    if (!game || typeof (game as { _serveRemotePeers?: unknown })._serveRemotePeers !== 'function') {
      throw new TypeError('RedisCluster.authority takes a WebSocketMultiplayerPeer from @wsmp/server')
    }
    const keys = sessionKeys(options)
    const t = timing(options)
    const url = options.url ?? 'redis://127.0.0.1:6379'
    if (game.getConnectionStatus() === ConnectionStatus.CONNECTING) throw new Error('the game is still starting (createServer pending): await it first')
    if (game.getConnectionStatus() === ConnectionStatus.CONNECTED && !game.isServer()) throw new Error('the game is a client; an authority must be a server or unused')
    const instance = randomId()
    const cmd = await connectRedis(url, options.redisOptions, `wsmp-authority-${hexId(instance)}`, t.connectTimeoutMs)
    let read: Redis | null = null
    try {
      read = await connectRedis(url, options.redisOptions, `wsmp-authority-${hexId(instance)}-read`, t.connectTimeoutMs)
      const id = await runId(cmd)
      // One authority per session: wait for a crashed predecessor's lock to expire.
      const deadline = Date.now() + t.timeoutMs + t.heartbeatMs
      for (;;) {
        const ok = await cmd.set(keys.lock, hexId(instance), 'PX', t.timeoutMs, 'NX')
        if (ok === 'OK') break
        if (Date.now() > deadline) {
          const holder = await cmd.get(keys.lock)
          throw new Error(`another authority (${holder ?? '?'}) serves session '${options.session}'`)
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      // What edges wrote to a previous authority is not ours.
      await cmd.del(keys.authority)
      let role: ServerRole | null
      let owns = false
      if (game.isServer()) {
        role = (game as unknown as { _role: ServerRole })._role
      } else {
        role = game._serveRemotePeers()
        owns = true
      }
      if (!(role instanceof ServerRole)) {
        await cmd.eval(LOCK_RELEASE, 1, keys.lock, hexId(instance))
        throw new Error(`the game cannot serve: ${game.getLastError()}`)
      }
      const authority = new RedisAuthority(game, role, owns, cmd, read, options, instance, id)
      authority._reader.start()
      return authority
    } catch (err) {
      cmd.disconnect()
      read?.disconnect()
      throw err
    }
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof AuthorityEvents>(event: E, listener: AuthorityEvents[E]): () => void {
    return this._events.on(event, listener)
  }

  /** The edges serving now. */
  getEdges(): EdgeInfo[] {
    const now = Date.now()
    return [...this._links.values()].map((link) => ({
      id: hexId(link.edge),
      host: link.hello.host,
      port: link.hello.port,
      pid: link.hello.pid,
      clients: link.clients.size,
      silentMs: now - link.lastSeen,
    }))
  }

  /** Counters since the start (a copy). */
  getStats(): AuthorityStats {
    let remote = 0
    for (const link of this._links.values()) remote += link.clients.size
    return { ...this._stats, edges: this._links.size, remotePeers: remote }
  }

  /** Whether this authority still serves the session. */
  isServing(): boolean {
    return !this._closed
  }

  /**
   * Stops serving the session: every client on an edge is closed (1001 "server closed", as a
   * server's `close()` does) and leaves; the edges wait for a new authority. When the cluster
   * made the game serve (it had no listener of its own), the game is closed too; a game that
   * also serves clients itself goes on serving them. Resolves once Redis has the last word.
   */
  close(): Promise<void> {
    return this._stop('closed', true)
  }

  // ---- from the game's peers (the driver) -----------------------------------------------------

  /** @internal A frame for a client: a record for its edge (a broadcast's frame once per edge). */
  _send(socket: RemoteSocket, data: Uint8Array | string, isText: boolean): void {
    const link = socket.link
    if (socket.closed || link.dead) {
      if (!this._closed) this._undeliverable(socket, 'its connection is gone')
      return
    }
    const out = link.out
    if (typeof data !== 'string' && data === ServerSocketDriver.shared()) {
      if (out._manyFrame !== data || !out.addReceiver(socket.client)) out.many(data, isText, socket.client)
    } else {
      out.message(AuthorityRecord.SEND, socket.client, data, isText)
    }
    this._queue(link)
  }

  /** @internal Closes (code ≥ 0) or drops (code < 0) a client on its edge. */
  _closeRemote(socket: RemoteSocket, code: number, reason: string): void {
    if (socket.closed || socket.link.dead) return
    socket.link.out.close(AuthorityRecord.CLOSE, socket.client, code, reason)
    this._queue(socket.link)
  }

  /** @internal Pauses or resumes reading a client on its edge. */
  _control(socket: RemoteSocket, type: number): void {
    if (socket.closed || socket.link.dead) return
    socket.link.out.client(type, socket.client)
    this._queue(socket.link)
  }

  private _undeliverable(socket: RemoteSocket, why: string): void {
    this._stats.undeliverable++
    this._warnings.warn('undeliverable', `a frame for peer ${socket.peer?._id ?? '?'} (edge ${hexId(socket.link.edge)}) was not delivered: ${why}`)
  }

  private _queue(link: EdgeLink): void {
    if (!link.queued) {
      link.queued = true
      this._dirty.push(link)
    }
    if (!this._flushScheduled) {
      this._flushScheduled = true
      setImmediate(() => void this._flush())
    }
  }

  /** Writes every edge's batch of this turn: one XADD per edge, in one pipeline. */
  private _flush(): Promise<void> {
    this._flushScheduled = false
    const dirty = this._dirty
    this._dirty = []
    if (dirty.length === 0) return Promise.resolve()
    const pipeline = this._cmd.pipeline()
    let n = 0
    for (const link of dirty) {
      link.queued = false
      if (link.dead || link.out.records === 0) continue
      const batch = link.out.take(this._instance, link.link, ++link.outSeq)
      this._stats.batchesOut++
      this._stats.bytesOut += batch.length
      pipeline.xadd(link.key, '*', 'd', batch)
      n++
    }
    if (n === 0) return Promise.resolve()
    return pipeline.exec().then(
      (results) => {
        for (const [err] of results ?? []) if (err) this._redisError('write', err)
      },
      (err: Error) => this._redisError('write', err),
    )
  }

  // ---- from Redis ----------------------------------------------------------------------------

  private _onBatch(batch: Buffer): void {
    const header = BatchReader.header(batch)
    if (header === null) {
      this._warnings.warn('corrupt', 'dropped an entry that is not a batch of this version')
      return
    }
    this._stats.batchesIn++
    this._stats.bytesIn += batch.length
    const reader = new BatchReader(batch)
    let link = this._links.get(header.link)
    if (!link) {
      if (!reader.more() || batch[17] !== EdgeRecord.HELLO) {
        this._evict(header.sender, header.link, 'unknown link')
        return
      }
      reader.u8()
      let hello: EdgeHello
      try {
        hello = JSON.parse(reader.str()) as EdgeHello
      } catch {
        this._warnings.warn('corrupt', `dropped a HELLO that does not parse from edge ${hexId(header.sender)}`)
        return
      }
      const old = this._byEdge.get(header.sender)
      if (old) this._dropLink(old, 'it started over', -1)
      link = new EdgeLink(this, header.sender, header.link, this._keys.edge(hexId(header.sender)), hello)
      link.inSeq = header.seq + 1
      this._links.set(link.link, link)
      this._byEdge.set(link.edge, link)
      this._welcome(link)
      this._events.emit('edge_joined', hexId(link.edge))
    } else if (header.seq < link.inSeq) {
      this._stats.duplicates++
      return
    } else if (header.seq > link.inSeq) {
      this._dropLink(link, `its traffic has a gap (batch ${link.inSeq} never arrived)`, -1)
      this._evict(header.sender, header.link, 'lost traffic')
      return
    } else {
      link.inSeq++
    }
    link.lastSeen = Date.now()
    try {
      while (reader.more()) this._record(link, reader)
    } catch (err) {
      this._dropLink(link, `a corrupt batch (${(err as Error).message})`, -1)
      this._evict(header.sender, header.link, 'corrupt batch')
    }
  }

  private _record(link: EdgeLink, r: BatchReader): void {
    const type = r.u8()
    switch (type) {
      case EdgeRecord.MSG: {
        const client = r.u32()
        const isText = r.u8() === 1
        const data = r.bytes(r.u32())
        const socket = link.clients.get(client)
        if (socket?.peer && !socket.closed) socket.peer._message(data, isText)
        else this._stats.lateMessages++
        return
      }
      case EdgeRecord.HB:
        return
      case EdgeRecord.OPEN: {
        const client = r.u32()
        const port = r.u16()
        const address = r.str()
        const protocol = r.str()
        const url = r.str()
        const socket = new RemoteSocket(link, client, address, port, protocol)
        link.clients.set(client, socket)
        // The game's maxPeers bounds the whole session (each edge's, its own clients).
        const full = !this._closed && this._role.connections() >= this._game.maxPeers
        const peer = this._closed || full ? null : this._role.acceptRemote(socket, clusterDriver, url)
        if (peer === null) {
          if (full) this._closeRemote(socket, CloseCode.TRY_AGAIN_LATER, 'server full')
          else this._closeRemote(socket, 1001, 'server closed')
          socket.closed = true
          link.clients.delete(client)
          return
        }
        socket.peer = peer
        return
      }
      case EdgeRecord.CLOSED: {
        const client = r.u32()
        const code = r.i32()
        const reason = r.str()
        const socket = link.clients.get(client)
        if (!socket) return
        link.clients.delete(client)
        socket.closed = true
        socket.peer?._closed(code, reason)
        return
      }
      case EdgeRecord.TOOBIG: {
        const socket = link.clients.get(r.u32())
        const size = r.i32()
        socket?.peer?._tooBig(size, null)
        return
      }
      case EdgeRecord.BUFFERED: {
        const socket = link.clients.get(r.u32())
        const bytes = r.i32()
        if (socket) socket.buffered = Math.max(0, bytes)
        return
      }
      case EdgeRecord.ERROR: {
        const socket = link.clients.get(r.u32())
        const reason = r.str()
        socket?.peer?._error(reason)
        return
      }
      case EdgeRecord.HELLO:
        r.str()
        // A HELLO sent again before our WELCOME reached the edge: answer it again.
        this._welcome(link)
        return
      case EdgeRecord.BYE:
        this._dropLink(link, 'edge closed', 1001, 'edge closed')
        return
      default:
        throw new RangeError(`unknown record type ${type}`)
    }
  }

  private _welcome(link: EdgeLink): void {
    const welcome: Welcome = { authority: this.instanceId, heartbeatMs: this._heartbeatMs, timeoutMs: this._timeoutMs }
    link.out.text(AuthorityRecord.WELCOME, JSON.stringify(welcome))
    this._queue(link)
  }

  /** Tells an edge whose link the authority does not know to start over (at most once a second per edge). */
  private _evict(edge: number, linkId: number, reason: string): void {
    const now = Date.now()
    if ((this._evicted.get(edge) ?? 0) > now - 1000) return
    this._evicted.set(edge, now)
    if (this._evicted.size > 10_000) this._evicted.clear()
    const out = new BatchWriter(64)
    out.text(AuthorityRecord.EVICT, reason)
    const key = this._keys.edge(hexId(edge))
    this._cmd
      .multi()
      .xadd(key, '*', 'd', out.take(this._instance, linkId, 0))
      .pexpire(key, this._timeoutMs * 10)
      .exec()
      .catch((err: Error) => this._redisError('write', err))
  }

  /**
   * An edge is gone: its clients leave the game at once (DEL_PEER to everyone else,
   * `peer_disconnected`), with `code` as their close code (−1: not clean) and the reason recorded.
   */
  private _dropLink(link: EdgeLink, why: string, code: number, reason = ''): void {
    if (link.dead) return
    link.dead = true
    this._links.delete(link.link)
    if (this._byEdge.get(link.edge) === link) this._byEdge.delete(link.edge)
    const sockets = [...link.clients.values()]
    link.clients.clear()
    for (const socket of sockets) socket.closed = true
    for (const socket of sockets) {
      const peer = socket.peer
      if (!peer) continue
      peer._error(`cluster: edge ${hexId(link.edge)} lost: ${why}`)
      peer._closed(code, reason)
    }
    if (code !== 1001) {
      this._stats.edgesLost++
      this._warnings.warn(`lost ${link.edge}`, `edge ${hexId(link.edge)} lost (${why}); its ${sockets.length} client(s) left`)
    }
    this._cmd.del(link.key).catch(() => {})
    this._events.emit('edge_lost', hexId(link.edge), why)
  }

  private _redisError(what: string, err: Error): void {
    if (this._closed) return
    this._stats.redisErrors++
    this._warnings.warn(`redis ${what}`, `Redis ${what} failed: ${err.message}`)
  }

  /** The command connection is (again) ready: a new run_id means Redis restarted and lost the streams. */
  private async _redisReady(): Promise<void> {
    if (this._closed) return
    let id: string
    try {
      id = await runId(this._cmd)
    } catch {
      return
    }
    if (id === this._runId || this._closed) return
    this._runId = id
    this._warnings.warn('restart', 'Redis restarted: its streams are gone; every remote client leaves and the edges rejoin')
    this._dropAll('Redis restarted')
    try {
      await this._cmd.del(this._keys.authority)
    } catch {
      // The next tick tries the lock again.
    }
    this._events.emit('redis_up')
  }

  private _dropAll(why: string): void {
    for (const link of [...this._links.values()]) this._dropLink(link, why, -1)
  }

  /** Heartbeats, the lock, liveness of the edges and of Redis. */
  private _tick(): void {
    if (this._closed) return
    if (this._game._role !== this._role) {
      void this._stop('the game stopped serving', false)
      return
    }
    const now = Date.now()
    const silence = now - this._reader.lastReadAt
    if (silence > this._timeoutMs + this._heartbeatMs) {
      if (!this._redisDown) {
        this._redisDown = true
        const why = `Redis unreachable for ${silence} ms`
        this._warnings.warn('down', `${why}: every remote client leaves`)
        this._dropAll(why)
        this._events.emit('redis_down', why)
      }
      return
    }
    if (this._redisDown) {
      this._redisDown = false
      this._warnings.warn('up', 'Redis is back: edges rejoin')
      this._events.emit('redis_up')
    }
    if (now - this._lastBeat >= this._heartbeatMs) {
      this._lastBeat = now
      for (const link of this._links.values()) {
        link.out.plain(AuthorityRecord.HB)
        this._queue(link)
      }
      this._cmd
        .eval(LOCK_REFRESH, 1, this._keys.lock, this.instanceId, String(this._timeoutMs))
        .then((result) => {
          if (result === 0 && !this._closed) {
            this._warnings.warn('lock', 'another authority took the session')
            void this._stop('another authority took the session', false)
          }
        })
        .catch((err: Error) => this._redisError('lock', err))
      // The reader trims what it has read; an abandoned stream expires.
      const key = this._keys.authority
      this._cmd
        .multi()
        .xtrim(key, 'MINID', this._reader.lastId)
        .pexpire(key, this._timeoutMs * 10)
        .exec()
        .catch((err: Error) => this._redisError('trim', err))
    }
    // An edge is lost when it has been silent while Redis answered us.
    if (silence <= 2 * this._heartbeatMs) {
      for (const link of [...this._links.values()]) {
        const quiet = now - link.lastSeen
        if (quiet > this._timeoutMs) this._dropLink(link, `silent for ${quiet} ms`, -1)
      }
    }
  }

  private _stop(reason: string, graceful: boolean): Promise<void> {
    if (this._closing) return this._closing
    this._closing = (async () => {
      this._closed = true
      clearInterval(this._timer)
      this._reader.stop()
      const links = [...this._links.values()]
      // Edges close what is left of their clients with the game's own close code and go waiting.
      for (const link of links) {
        link.out.bye(1001, 'server closed')
        this._queue(link)
      }
      await this._flush()
      for (const link of links) for (const socket of link.clients.values()) socket.closed = true
      if (graceful && this._game._role === this._role) {
        if (this._ownsRole) {
          this._game.close()
        } else {
          for (const link of links) this._dropLink(link, 'the authority closed', 1001, 'server closed')
        }
      }
      for (const link of links) {
        link.dead = true
        link.clients.clear()
      }
      this._links.clear()
      this._byEdge.clear()
      try {
        await Promise.race([
          Promise.all([this._cmd.eval(LOCK_RELEASE, 1, this._keys.lock, this.instanceId), this._cmd.del(this._keys.authority)]),
          new Promise((resolve) => setTimeout(resolve, 1000)),
        ])
      } catch {
        // Redis unreachable: the lock expires by itself.
      }
      this._cmd.disconnect()
      this._read.disconnect()
      this._events.emit('closed', reason)
    })()
    return this._closing
  }
}
