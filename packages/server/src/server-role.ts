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
  SceneAuth,
  SysCommand,
  TARGET_PEER_SERVER,
  TransferMode,
  WebSocketPeer,
  createPeerStats,
  decodeRelayedPacket,
  decodeSceneFrame,
  encodeIdMessage,
  encodeRawPacket,
  encodeSysCommand,
  rewriteSysPeer,
  type PeerRole,
  type PeerSink,
  type PeerStats,
  type SocketDriver,
} from '@wsmp/client'
import { ServerSocketDriver, serverSocketDriver } from './server-socket.js'
import type { HandshakeRequest, WebSocketMultiplayerPeer } from './websocket-multiplayer-peer.js'

/** How long a slow peer closed for "outbound buffer full" gets to finish the close handshake. */
const SLOW_PEER_CLOSE_GRACE_MS = 1000

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

/** Adds one connection's counters into a running total. */
export function addStats(into: PeerStats, from: PeerStats): void {
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

/**
 * The server side of a {@link WebSocketMultiplayerPeer} (`createServer` / `attach`): the HTTP
 * server and its upgrades, admission (ids, announcements), SceneMultiplayer's relay as the
 * server, server-side auth, and the connections it accepted. Relays happen as messages arrive, on
 * the event loop; what the application sees is queued for `poll()`.
 * @internal
 */
export class ServerRole implements PeerRole, PeerSink {
  readonly server = true
  /** The HTTP(S) server upgrades come from; null once closed. */
  _http: http.Server | https.Server | null
  /** Whether `_http` is ours (createServer) or the application's (attach). */
  private readonly _ownsHttp: boolean
  /** The path served when attached; null: every path (createServer). */
  private readonly _path: string | null
  private _wss: WebSocketServer | null = null
  private _wssMaxPayload = 0
  /** Admitted peers: announced, routed to. */
  readonly _peers = new Map<number, WebSocketPeer>()
  /** Connected peers that have not completed SceneMultiplayer auth. */
  readonly _pending = new Map<number, WebSocketPeer>()
  /** Ids whose `peer_disconnected` has not been polled yet: not reused until then. */
  readonly _retiring = new Set<number>()
  /** TCP connections of our own server that have not finished their handshake, with the function that ends their handshake watch. */
  readonly _handshaking = new Map<TrackedSocket, () => void>()
  private readonly _departed: PeerStats = createPeerStats()
  private readonly _auth: SceneAuth
  private _closed = false

  /**
   * Serves upgrades from `server` (all of them when it is ours, those to `path` when attached), or
   * — with no server — only peers that join through {@link acceptRemote} (a cluster authority).
   */
  constructor(
    private readonly _owner: WebSocketMultiplayerPeer,
    server: http.Server | https.Server | null,
    owns: boolean,
    path: string | null,
  ) {
    this._http = server
    this._ownsHttp = owns
    this._path = path
    this._auth = new SceneAuth(_owner, {
      sendAuthFrame: (id, frame) => {
        const peer = this._pending.get(id) ?? this._peers.get(id)
        if (!peer) return _owner._fail(ErrorCode.ERR_INVALID_PARAMETER, `peer ${id} is not connected`)
        return this._sendFrame(peer, frame, TransferMode.RELIABLE, 0)
      },
      admit: (id) => {
        const peer = this._pending.get(id)
        if (peer) this._admit(peer)
      },
      expire: (id) => this._pending.get(id)?.close(CloseCode.NORMAL, ''),
    })
    if (server && owns) {
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
    server?.on('upgrade', this._onUpgrade)
  }

  /** The port the server listens on (0 when not serving). */
  localPort(): number {
    const address = this._http?.address()
    return address && typeof address === 'object' ? address.port : 0
  }

  // ---- PeerRole ------------------------------------------------------------------------------

  putPacket(payload: Uint8Array, target: number, mode: number, channel: number): ErrorCode {
    return this._send(this._owner.framing === 'raw' ? payload : encodeRawPacket(payload), target, mode, channel, 'putPacket')
  }

  sendCommand(target: number, packet: Uint8Array, mode: number, channel: number): ErrorCode {
    return this._send(packet, target, mode, channel, 'sendCommand')
  }

  overhead(): number {
    return this._owner.framing === 'raw' ? 0 : RAW_OVERHEAD
  }

  /**
   * Closes a client's connection with 1000. Without `force`, `peer_disconnected(id)` follows in a
   * later poll once it has closed; with it, the peer is removed at once and no local signal is
   * emitted. Either way the other clients get DEL_PEER.
   */
  disconnectPeer(id: number, force: boolean): void {
    const peer = this._peers.get(id) ?? this._pending.get(id)
    if (!peer) {
      this._owner._warn(`disconnectPeer: peer ${id} is not connected`)
      return
    }
    if (force) this._remove(peer, false)
    peer.close(CloseCode.NORMAL, '')
  }

  getPeer(id: number): WebSocketPeer | null {
    const peer = this._peers.get(id) ?? this._pending.get(id)
    if (peer) return peer
    this._owner._fail(ErrorCode.ERR_DOES_NOT_EXIST, `getPeer: peer ${id} is not connected`)
    return null
  }

  isIdTaken(id: number): boolean {
    return this._peers.has(id) || this._pending.has(id) || this._retiring.has(id)
  }

  getStats(): PeerStats {
    const total: PeerStats = { ...this._departed, dropped: { ...this._departed.dropped } }
    for (const peer of this._peers.values()) addStats(total, peer._stats)
    for (const peer of this._pending.values()) addStats(total, peer._stats)
    return total
  }

  sendAuth(id: number, data: Uint8Array): ErrorCode {
    return this._auth.send(id, data)
  }

  completeAuth(id: number): ErrorCode {
    return this._auth.complete(id)
  }

  beforePoll(): void {}

  /** Stops listening (or detaches), closes every connection with 1001 (dropped after 1 s). */
  close(): void {
    this._closed = true
    this._auth.clear()
    const server = this._http
    this._http = null
    if (server) {
      server.off('upgrade', this._onUpgrade)
      server.off('connection', this._onTcpConnection)
      if (this._ownsHttp) server.close()
    }
    for (const socket of this._handshaking.keys()) socket.destroy()
    this._handshaking.clear()
    for (const peers of [this._peers, this._pending]) {
      for (const peer of peers.values()) {
        peer._sink = null
        peer.close(CloseCode.GOING_AWAY, 'server closed')
        const timer = setTimeout(() => peer.close(-1), 1000)
        timer.unref()
      }
      peers.clear()
    }
    this._retiring.clear()
    this._wss = null
  }

  // ---- PeerSink: every accepted connection ---------------------------------------------------

  onOpen(): void {
    // Accepted connections start open.
  }

  onMessage(peer: WebSocketPeer, data: Uint8Array, isString: boolean): void {
    const owner = this._owner
    const from = peer._id
    if (owner.framing === 'raw') {
      owner._queuePacket(peer, data, from, isString)
      return
    }
    const frame = owner._frame
    const kind = decodeSceneFrame(data, frame)
    if (this._pending.has(from)) {
      // Until both sides completed auth, only AUTH passes (Godot drops the rest with an error).
      if (kind === FrameKind.AUTH) this._auth.received(from, data, frame.offset)
      else owner._dropped(peer._stats, DropReason.UNAUTHENTICATED, from)
      return
    }
    switch (kind) {
      case FrameKind.PACKET:
        owner._queuePacket(peer, data.subarray(frame.offset), from, isString)
        return
      case FrameKind.RELAY:
        this._relay(peer, data, frame.peer, isString)
        return
      case FrameKind.COMMAND:
        owner._sceneCommand(peer, data, 0, from)
        return
      case FrameKind.AUTH:
        // After admission a stray "completed" is ignored, as in Godot; data is not expected.
        if (data.length === frame.offset) return
        frame.reason = DropReason.NOT_INTERPRETED
        break
      case FrameKind.ADD_PEER:
      case FrameKind.DEL_PEER:
        frame.reason = DropReason.NOT_INTERPRETED
        break
    }
    owner._dropped(peer._stats, frame.reason ?? DropReason.MALFORMED, from)
  }

  onClose(peer: WebSocketPeer): void {
    this._remove(peer, true)
  }

  // ---- routing ------------------------------------------------------------------------------

  /** A packet from the application (or the scene layer) to `target`, framed already. */
  private _send(frame: Uint8Array, target: number, mode: number, channel: number, what: string): ErrorCode {
    const owner = this._owner
    if (target > 0) {
      const peer = target === TARGET_PEER_SERVER ? undefined : this._peers.get(target)
      if (!peer) {
        return owner._fail(
          ErrorCode.ERR_INVALID_PARAMETER,
          target === TARGET_PEER_SERVER
            ? `${what}: the server cannot send to itself (target 1)`
            : this._pending.has(target)
              ? `${what}: peer ${target} has not completed authentication`
              : `${what}: peer ${target} is not connected`,
        )
      }
      return this._sendFrame(peer, frame, mode as TransferMode, channel)
    }
    const excluded = -target
    ServerSocketDriver.share(frame) // framed once for every receiver
    try {
      for (const peer of this._peers.values()) {
        if (peer._id !== excluded) this._deliverTo(peer, frame, mode as TransferMode, channel)
      }
    } finally {
      ServerSocketDriver.share(null)
    }
    return ErrorCode.OK
  }

  /**
   * Sends one frame to one peer. RELIABLE that does not fit: `ERR_OUT_OF_MEMORY`, nothing sent.
   * Congested UNRELIABLE frames are dropped and UNRELIABLE_ORDERED ones held (newest per channel),
   * both counted as `dropped.congestion`.
   */
  private _sendFrame(peer: WebSocketPeer, frame: Uint8Array, mode: TransferMode, channel: number): ErrorCode {
    const err = peer._sendPacket(frame, mode, channel)
    return err === ErrorCode.OK ? err : this._owner._fail(err, peer.getLastError())
  }

  /**
   * A client's RELAY, as Godot's server handles it: forwarded to its target(s) with the source
   * stamped (a relay to oneself comes back, as in Godot), and the server's own share (target 0, or
   * −n with n ≠ 1) processed here.
   */
  private _relay(peer: WebSocketPeer, data: Uint8Array, target: number, isString: boolean): void {
    const owner = this._owner
    const from = peer._id
    const frame = owner._frame
    // An inner packet of one byte carries nothing (`[0x03]` with no payload): drop it here rather
    // than forward it for every receiver to drop.
    if (data.length - frame.offset < 2) return owner._dropped(peer._stats, DropReason.MALFORMED, from)
    if (target > TARGET_PEER_SERVER) {
      if (!owner.serverRelay) return owner._dropped(peer._stats, DropReason.RELAY_DISABLED, from)
      const dest = this._peers.get(target)
      if (!dest) return owner._dropped(peer._stats, DropReason.ABSENT_TARGET, from)
      rewriteSysPeer(data, from)
      this._deliverTo(dest, data, TransferMode.RELIABLE)
      return
    }
    if (target <= 0) this._relayToAll(peer, data, -target)
    // The server processes a broadcast, an exclusion of anyone but itself, and (DESIGN; Godot
    // drops it, but no Godot client sends it) a relay addressed to 1.
    // The server processes a broadcast, and an exclusion of anyone but itself.
    if (target === -TARGET_PEER_SERVER) return
    const at = decodeRelayedPacket(data, frame.offset, frame)
    if (at < 0) return owner._dropped(peer._stats, frame.reason ?? DropReason.MALFORMED, from)
    if (frame.kind === FrameKind.COMMAND) owner._sceneCommand(peer, data, at, from)
    else owner._queuePacket(peer, data.subarray(at), from, isString)
  }

  /** A client's relay to everyone but itself and `excluded`, stamped with its id and framed once for all. */
  private _relayToAll(peer: WebSocketPeer, data: Uint8Array, excluded: number): void {
    const owner = this._owner
    if (!owner.serverRelay) {
      if (this._peers.size > 1) owner._dropped(peer._stats, DropReason.RELAY_DISABLED, peer._id)
      return
    }
    let stamped = false
    ServerSocketDriver.share(data) // stamped at the first receiver, then framed once for all
    try {
      for (const dest of this._peers.values()) {
        if (dest === peer || dest._id === excluded) continue
        if (!stamped) {
          rewriteSysPeer(data, peer._id)
          stamped = true
        }
        this._deliverTo(dest, data, TransferMode.RELIABLE)
      }
    } finally {
      ServerSocketDriver.share(null)
    }
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
    const stats = peer._stats
    stats.dropped[DropReason.OUTBOUND_FULL] = (stats.dropped[DropReason.OUTBOUND_FULL] ?? 0) + 1
    this._owner._warn(`peer ${peer._id}: outbound buffer full (outboundBufferSize = ${peer.outboundBufferSize}); disconnecting the slow peer`)
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
  private readonly _onUpgrade = (req: TrackedRequest, socket: TrackedSocket, head: Buffer): void => {
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

  private _upgrade(req: TrackedRequest, socket: TrackedSocket, head: Buffer, timer: ReturnType<typeof setTimeout> | null): void {
    if (socket.destroyed || this._closed) {
      if (timer) clearTimeout(timer)
      socket.destroy()
      return
    }
    this._webSocketServer().handleUpgrade(req, socket, head, (ws: WsSocket) => {
      if (timer) clearTimeout(timer)
      socket.off('error', ignoreError)
      this._accept(ws, req, socket)
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
      wss.on('headers', (headers) => headers.push(...owner.handshakeHeaders))
      this._wss = wss
      this._wssMaxPayload = maxPayload
    }
    return this._wss
  }

  /** The upgrade completed: the connection gets its id, then is admitted or (with auth) pending. */
  private _accept(ws: WsSocket, req: http.IncomingMessage, socket: TrackedSocket): void {
    socket[kAdmitted] = true
    if (socket._parent) socket._parent[kAdmitted] = true
    // No longer handshaking: close() must close it with 1001, not destroy it as a pending handshake.
    this._handshaking.get(socket)?.()
    if (socket._parent) this._handshaking.get(socket._parent)?.()
    const owner = this._owner
    if (this._closed || owner._status !== ConnectionStatus.CONNECTED) {
      ws.terminate()
      return
    }
    const scheme = this._http instanceof https.Server ? 'wss' : 'ws'
    // join() makes one flat string (a template literal keeps its pieces): memory per connection.
    const url = [scheme, '://', req.headers.host ?? '', req.url ?? '/'].join('')
    const peer = WebSocketPeer._accept(ws, serverSocketDriver, url, owner._template, this)
    serverSocketDriver.adopt(ws, peer)
    this._connected(peer)
  }

  /**
   * @internal A connection accepted elsewhere — by a cluster edge — joins this server: it is
   * driven through `driver` (which carries its frames to and from where it lives) and from here
   * on is a peer like any other: it gets its id (sent through the driver), is announced or (with
   * auth) pending, routed to and from. Null when this role no longer serves.
   */
  acceptRemote<S>(socket: S, driver: SocketDriver<S>, url: string): WebSocketPeer | null {
    if (this._closed || this._owner._status !== ConnectionStatus.CONNECTED) return null
    const peer = WebSocketPeer._accept(socket, driver, url, this._owner._template, this)
    this._connected(peer)
    return peer
  }

  /** A new connection: its id, then admitted or (with auth) pending. */
  private _connected(peer: WebSocketPeer): void {
    const owner = this._owner
    const id = owner.generateUniqueId()
    peer._id = id
    peer._sendPacket(encodeIdMessage(id), TransferMode.RELIABLE)
    if (owner.framing === 'scene' && owner.authCallback !== null) {
      this._pending.set(id, peer)
      this._auth.add(id)
      return
    }
    this._admit(peer)
  }

  /** SceneMultiplayer's `_admit_peer`: announced to everyone and everyone to it, then `peer_connected`. */
  private _admit(peer: WebSocketPeer): void {
    const owner = this._owner
    const id = peer._id
    this._pending.delete(id)
    if (owner.framing === 'scene' && owner.serverRelay) {
      const added = encodeSysCommand(SysCommand.ADD_PEER, id)
      for (const other of this._peers.values()) {
        this._deliverTo(other, added, TransferMode.RELIABLE)
        // A slow peer cut by this very announcement is not announced to the newcomer.
        if (this._peers.get(other._id) !== other) continue
        this._deliverTo(peer, encodeSysCommand(SysCommand.ADD_PEER, other._id), TransferMode.RELIABLE)
      }
    }
    this._peers.set(id, peer)
    owner._enqueue(new Deferred(() => owner._events.emit('peer_connected', id)))
  }

  /** Takes a peer out of the routing table, tells the others, and queues its signal. */
  private _remove(peer: WebSocketPeer, signal: boolean): void {
    const id = peer._id
    const owner = this._owner
    if (this._pending.get(id) === peer) {
      // Never admitted: nobody was told of it; the application hears `peer_authentication_failed`.
      this._pending.delete(id)
      peer._sink = null
      addStats(this._departed, peer._stats)
      if (signal) this._auth.remove(id)
      else this._auth.discard(id)
      this._retiring.add(id)
      owner._enqueue(new Deferred(() => this._retiring.delete(id)))
      return
    }
    if (this._peers.get(id) !== peer) return
    this._peers.delete(id)
    // Nothing more from this connection reaches the application (a forced disconnect may still
    // have messages in flight).
    peer._sink = null
    addStats(this._departed, peer._stats)
    if (owner.framing === 'scene' && owner.serverRelay) {
      const removed = encodeSysCommand(SysCommand.DEL_PEER, id)
      for (const other of this._peers.values()) this._deliverTo(other, removed, TransferMode.RELIABLE)
    }
    if (!signal) return
    this._retiring.add(id)
    owner._enqueue(
      new Deferred(() => {
        this._retiring.delete(id)
        owner._events.emit('peer_disconnected', id)
      }),
    )
  }
}
