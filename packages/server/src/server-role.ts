import type * as http from 'node:http'
import type * as https from 'node:https'
import {
  CloseCode,
  ConnectionStatus,
  Deferred,
  DropReason,
  ErrorCode,
  FrameKind,
  RAW_OVERHEAD,
  SceneAuth,
  TARGET_PEER_SERVER,
  TransferMode,
  WebSocketPeer,
  countDrop,
  createPeerStats,
  decodeRelayedPacket,
  decodeSceneFrame,
  encodeIdMessage,
  encodeRawPacket,
  rewriteSysPeer,
  type PeerRole,
  type PeerSink,
  type Logger,
  type PeerStats,
  type SocketDriver,
} from '@wsmp/client'
import type { WsSocket } from '@wsmp/client/node'
import { AcceptedPeer } from './accepted-peer.js'
import { Acceptor } from './acceptor.js'
import { Announcements } from './announcements.js'
import { ServerSocketDriver, serverSocketDriver } from './server-socket.js'
import { SILENT_SWEEPS, SWEEPS_PER_TIMEOUT } from './silence.js'
import type { WebSocketMultiplayerPeer } from './websocket-multiplayer-peer.js'

/** How long a slow peer closed for "outbound buffer full" gets to finish the close handshake. */
const SLOW_PEER_CLOSE_GRACE_MS = 1000
/**
 * How often relays waiting for a receiver's outbound buffer check that it drains. A receiver whose
 * socket took less than {@link MIN_RECEIVER_PROGRESS} bytes over the last two checks is a slow
 * consumer and is disconnected (4000); senders to it wait meanwhile. Two checks, not one: Linux
 * wakes a writer only once a third of the socket's send buffer (autotuned up to 4 MiB) is free, so
 * even a receiver reading at 1 MB/s can leave its socket taking nothing for over a second.
 */
const SLOW_RECEIVER_MS = 1000
/** Bytes a receiver's socket must take over two SLOW_RECEIVER_MS checks (or `outboundBufferSize`, if larger). */
const MIN_RECEIVER_PROGRESS = 64 * 1024

/** Relays waiting for one receiver: per sender, in order; the receiver's next check; what its socket took at the last checks. */
interface Waiting {
  senders: Map<WebSocketPeer, Uint8Array[]>
  timer: ReturnType<typeof setTimeout>
  taken: number[]
}

/** Adds one connection's counters into a running total. */
export function addStats(into: PeerStats, from: PeerStats): void {
  into.packetsIn += from.packetsIn
  into.bytesIn += from.bytesIn
  into.packetsOut += from.packetsOut
  into.bytesOut += from.bytesOut
  into.protocolErrors += from.protocolErrors
  for (const [reason, n] of Object.entries(from.dropped)) countDrop(into, reason as DropReason, n ?? 0)
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
  /** Upgrades from our HTTP server (createServer) or the application's (attach); null when peers only join through acceptRemote. */
  readonly _acceptor: Acceptor | null
  /** Admitted peers: announced, routed to. */
  readonly _peers = new Map<number, AcceptedPeer>()
  /** Connected peers that have not completed SceneMultiplayer auth. */
  readonly _pending = new Map<number, AcceptedPeer>()
  /** Ids whose `peer_disconnected` has not been polled yet: not reused until then. */
  readonly _retiring = new Set<number>()
  private readonly _departed: PeerStats = createPeerStats()
  /** Peer announcements, batched (scene framing with relay on). */
  private readonly _announcements = new Announcements({
    peers: this._peers,
    deliver: (peer, wire, payloads) => this._deliverBatch(peer, wire, payloads),
    admitting: () => this._acceptor?.pending() ?? 0,
  })
  /**
   * Relayed frames waiting for a receiver's outbound buffer to drain: per receiver, per sender, in
   * order; each such sender is not read meanwhile (see _relayTo).
   */
  private readonly _waiting = new Map<AcceptedPeer, Waiting>()
  private readonly _auth: SceneAuth
  private _closed = false
  /** The silence watch's timer (see watchSilence). */
  private _sweep: ReturnType<typeof setInterval> | null = null
  /** The logger of every accepted connection: the server's own, rate-limited (see LogLimiter). */
  private readonly _peerLogger: Logger

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
    this._peerLogger = { warn: (message) => _owner._log(message) }
    this._acceptor = server
      ? new Acceptor(
          _owner,
          server,
          owns,
          path,
          (ws, url) => this._acceptSocket(ws, url),
          () => this.connections(),
        )
      : null
    this.watchSilence()
  }

  /**
   * (Re)starts the silence watch at the owner's `peerTimeout`: every fifth of it, each connection
   * from which nothing was read since the last sweep is pinged; one silent for three sweeps in a
   * row — between ⅗ and ⅘ of `peerTimeout` — is dropped as gone (no FIN came: a frozen process,
   * a pulled cable), leaving as any peer leaves.
   */
  watchSilence(): void {
    if (this._sweep !== null) clearInterval(this._sweep)
    this._sweep = null
    const seconds = this._owner.peerTimeout
    if (seconds === 0 || this._closed) return
    this._sweep = setInterval(() => this._sweepSilent(seconds), (seconds * 1000) / SWEEPS_PER_TIMEOUT)
    this._sweep.unref()
  }

  private _sweepSilent(seconds: number): void {
    for (const peers of [this._peers, this._pending]) {
      for (const peer of peers.values()) {
        if (!peer._silentSweep()) continue
        this._owner._warn(`peer ${peer._id}: nothing heard at ${SILENT_SWEEPS} sweeps in a row, one every ${seconds / SWEEPS_PER_TIMEOUT} s (peerTimeout ${seconds} s), not even a pong; dropping it`)
        peer.close(-1)
      }
    }
  }

  /** Clients connected now, admitted or authenticating (what `maxPeers` bounds). */
  connections(): number {
    return this._peers.size + this._pending.size
  }

  /** The port the server listens on (0 when not serving). */
  localPort(): number {
    return this._acceptor?.localPort() ?? 0
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
    this.watchSilence()
    this._auth.clear()
    this._acceptor?.close()
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
    this._announcements.clear()
    for (const waiting of this._waiting.values()) clearTimeout(waiting.timer)
    this._waiting.clear()
  }

  // ---- PeerSink: every accepted connection ---------------------------------------------------

  onOpen(): void {
    // Accepted connections start open.
  }

  onMessage(peer: WebSocketPeer, data: Uint8Array, isString: boolean): void {
    const owner = this._owner
    if (!this._withinRate(peer as AcceptedPeer, data.length)) return
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

  /**
   * Counts a message against the owner's `maxPacketsPerSecond` and `maxBytesPerSecond`: a token
   * bucket per client holding one second's worth, refilled continuously. Over either, the client
   * is disconnected with 4008 and false returned.
   */
  private _withinRate(peer: AcceptedPeer, size: number): boolean {
    const owner = this._owner
    const packetRate = owner.maxPacketsPerSecond
    const byteRate = owner.maxBytesPerSecond
    if (packetRate === 0 && byteRate === 0) return true
    const now = performance.now()
    let bucket = peer._bucket
    if (bucket === null) {
      bucket = peer._bucket = { at: now, packets: 0, bytes: 0 }
    } else if (now !== bucket.at) {
      const seconds = (now - bucket.at) / 1000
      bucket.at = now
      bucket.packets = Math.max(0, bucket.packets - seconds * packetRate)
      bucket.bytes = Math.max(0, bucket.bytes - seconds * byteRate)
    }
    bucket.packets++
    bucket.bytes += size
    const overPackets = packetRate > 0 && bucket.packets > packetRate
    if (!overPackets && (byteRate === 0 || bucket.bytes <= byteRate)) return true
    const limit = overPackets ? `maxPacketsPerSecond = ${packetRate}` : `maxBytesPerSecond = ${byteRate}`
    this._cut(peer, CloseCode.RATE_LIMITED, 'rate limit', `over the rate limit (${limit})`)
    return false
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
    // The others hear of a newcomer before anything it relays (and it of them).
    const unannounced = this._announcements.unannounced
    if (unannounced.size > 0 && (unannounced.has(peer) || unannounced.has(this._peers.get(target) as WebSocketPeer))) this._announcements.flush()
    // An inner packet of one byte carries nothing (`[0x03]` with no payload): drop it here rather
    // than forward it for every receiver to drop.
    if (data.length - frame.offset < 2) return owner._dropped(peer._stats, DropReason.MALFORMED, from)
    if (target > TARGET_PEER_SERVER) {
      if (!owner.serverRelay) return owner._dropped(peer._stats, DropReason.RELAY_DISABLED, from)
      const dest = this._peers.get(target)
      if (!dest) return owner._dropped(peer._stats, DropReason.ABSENT_TARGET, from)
      rewriteSysPeer(data, from)
      // Framed here and written as one buffer, as a broadcast's (instead of through ws.send: its
      // options, a separate header buffer, a writev of two).
      ServerSocketDriver.share(data)
      try {
        this._relayTo(dest, data, peer)
      } finally {
        ServerSocketDriver.share(null)
      }
      return
    }
    if (target <= 0) this._relayToAll(peer, data, -target)
    // The server processes a broadcast, an exclusion of anyone but itself, and (DESIGN; Godot
    // drops it, but no Godot client sends it) a relay addressed to 1.
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
    // Newcomers take part in relays once the announcements of them went out.
    const unannounced = this._announcements.unannounced.size > 0 ? this._announcements.unannounced : null
    ServerSocketDriver.share(data) // stamped at the first receiver, then framed once for all
    try {
      for (const dest of this._peers.values()) {
        if (dest === peer || dest._id === excluded || unannounced?.has(dest)) continue
        if (!stamped) {
          rewriteSysPeer(data, peer._id)
          stamped = true
        }
        this._relayTo(dest, data, peer)
      }
    } finally {
      ServerSocketDriver.share(null)
    }
  }

  /**
   * A client's relayed frame to `dest`. Relays may fill a receiver's outbound buffer up to
   * `outboundBufferSize`; past it the frame waits (nothing reliable is lost) and so does its
   * sender: it is not read until the receiver has drained, so a client that relays faster than a
   * receiver reads is slowed — its fault — rather than the receiver cut. Once a receiver has frames
   * waiting, every sender's relays to it wait behind them, in order. A receiver that does not
   * drain within SLOW_RECEIVER_MS is a slow consumer and is disconnected (4000).
   */
  private _relayTo(dest: AcceptedPeer, frame: Uint8Array, sender: WebSocketPeer): void {
    let waiting = this._waiting.get(dest)
    if (waiting === undefined) {
      if (dest._fits(frame.length)) {
        dest._sendPacket(frame, TransferMode.RELIABLE)
        return
      }
      waiting = { senders: new Map(), timer: setTimeout(() => this._slowReceiver(dest), SLOW_RECEIVER_MS), taken: [dest._bytesTaken()] }
      waiting.timer.unref()
      this._waiting.set(dest, waiting)
      dest._watchDrain()
    }
    const frames = waiting.senders.get(sender)
    if (frames !== undefined) {
      frames.push(frame)
      return
    }
    waiting.senders.set(sender, [frame])
    sender._waitingFor++
    sender._updateReading()
  }

  /** A receiver drained: the relays waiting for it go, sender by sender, as far as they fit. */
  onDrain(dest: WebSocketPeer): void {
    const waiting = this._waiting.get(dest as AcceptedPeer)
    if (waiting === undefined) return
    for (const [sender, frames] of waiting.senders) {
      while (frames.length > 0 && dest._fits((frames[0] as Uint8Array).length)) dest._sendPacket(frames.shift() as Uint8Array, TransferMode.RELIABLE)
      if (frames.length > 0) {
        dest._watchDrain()
        return
      }
      waiting.senders.delete(sender)
      this._resume(sender)
    }
    clearTimeout(waiting.timer)
    this._waiting.delete(dest as AcceptedPeer)
  }

  /** Ends `dest`'s wait (it left, or it was cut as a slow consumer): its senders are read again. */
  private _endWait(dest: WebSocketPeer): void {
    const waiting = this._waiting.get(dest as AcceptedPeer)
    if (waiting === undefined) return
    this._waiting.delete(dest as AcceptedPeer)
    clearTimeout(waiting.timer)
    for (const sender of waiting.senders.keys()) this._resume(sender)
  }

  private _resume(sender: WebSocketPeer): void {
    if (sender._waitingFor > 0) sender._waitingFor--
    sender._updateReading()
  }

  /**
   * A check of a receiver relays wait for (every SLOW_RECEIVER_MS): it goes on waiting while its
   * socket took at least MIN_RECEIVER_PROGRESS bytes (or `outboundBufferSize`) over the last two
   * checks; otherwise it is a slow consumer, cut as one. Where the driver cannot tell what the
   * socket took, one check without a drain is enough.
   */
  private _slowReceiver(dest: AcceptedPeer): void {
    const waiting = this._waiting.get(dest)
    if (waiting === undefined) return
    const taken = dest._bytesTaken()
    const marks = waiting.taken
    marks.push(taken)
    if (taken >= 0 && marks.length === 2) return this._recheckReceiver(dest, waiting)
    if (taken >= 0) {
      const progress = taken - (marks.shift() as number)
      if (progress >= Math.max(MIN_RECEIVER_PROGRESS, dest.outboundBufferSize)) return this._recheckReceiver(dest, waiting)
    }
    let frames = 0
    for (const list of waiting.senders.values()) frames += list.length
    const seconds = ((marks.length - 1) * SLOW_RECEIVER_MS) / 1000
    this._cutSlow(dest, `relays waited for its outbound buffer (${frames} frames), and its socket took ${taken < 0 ? 'nothing' : `under ${Math.max(MIN_RECEIVER_PROGRESS, dest.outboundBufferSize)} bytes`} in ${seconds || 1} s`)
  }

  private _recheckReceiver(dest: AcceptedPeer, waiting: Waiting): void {
    waiting.timer = setTimeout(() => this._slowReceiver(dest), SLOW_RECEIVER_MS)
    waiting.timer.unref()
  }

  /** Announcements (see Announcements): the server's own frames; a peer without room is cut. */
  private _deliverBatch(peer: AcceptedPeer, wire: Uint8Array, payloads: () => Uint8Array[]): boolean {
    const count = wire.length / 8
    if (peer._sendBatch(wire, payloads, count, count * 6, peer.outboundBufferSize) !== ErrorCode.ERR_OUT_OF_MEMORY) return true
    this._cutSlow(peer, `outbound buffer full (outboundBufferSize = ${peer.outboundBufferSize})`)
    return false
  }

  /**
   * Sends a frame the server itself sends to peers (a broadcast, an announcement). Unreliable
   * frames follow the congestion rules (`WebSocketPeer._sendPacket`). A reliable one may use a
   * second `outboundBufferSize` beyond the first — the share relays cannot take (see _relayTo) —
   * so no client can crowd the server's own traffic out of another's buffer. One that does not fit
   * even there disconnects the slow peer rather than drop a packet silently (see _cutSlow).
   */
  private _deliverTo(peer: WebSocketPeer, frame: Uint8Array, mode: TransferMode, channel = 0): void {
    if (mode !== TransferMode.RELIABLE) {
      peer._sendPacket(frame, mode, channel)
      return
    }
    // One check of the outbound buffer, in the send itself: only a full buffer comes back as
    // ERR_OUT_OF_MEMORY (FAILED means the connection is already closing, and is left to close).
    if (peer._sendPacket(frame, TransferMode.RELIABLE, 0, peer.outboundBufferSize) !== ErrorCode.ERR_OUT_OF_MEMORY) return
    this._cutSlow(peer, `outbound buffer full (outboundBufferSize = ${peer.outboundBufferSize})`)
  }

  /**
   * Disconnects a slow consumer: counted as `dropped.outbound_full`, closed with 4000 "outbound
   * buffer full", and taken out of the routing table at once (DEL_PEER to the others,
   * `peer_disconnected` at the next poll). The close frame waits behind what the peer has not read
   * yet; the socket is dropped if the peer has not closed within 1 s (rather than `ws`'s 30 s).
   */
  private _cutSlow(peer: WebSocketPeer, why: string): void {
    if (this._peers.get(peer._id) !== peer) return
    countDrop(peer._stats, DropReason.OUTBOUND_FULL)
    this._cut(peer, CloseCode.OUTBOUND_BUFFER_FULL, 'outbound buffer full', `${why}; disconnecting the slow peer`)
  }

  /**
   * Disconnects a peer for what it did (`why`, logged): closed with `code` and `reason`, out of the
   * routing table at once (DEL_PEER to the others, `peer_disconnected` at the next poll). Its
   * socket need not linger for ws's 30 s close timeout holding what it did not read: it is dropped
   * if the peer has not closed within SLOW_PEER_CLOSE_GRACE_MS.
   */
  private _cut(peer: WebSocketPeer, code: number, reason: string, why: string): void {
    this._owner._warn(`peer ${peer._id}: ${why}; closing with ${code}`)
    peer.close(code, reason)
    this._remove(peer, true)
    const timer = setTimeout(() => peer.close(-1), SLOW_PEER_CLOSE_GRACE_MS)
    timer.unref()
  }

  /** A connection our acceptor upgraded: driven by the server socket driver, then admitted. */
  private _acceptSocket(ws: WsSocket, url: string): void {
    if (this._closed || this._owner._status !== ConnectionStatus.CONNECTED) {
      ws.terminate()
      return
    }
    const peer = new AcceptedPeer(ws, serverSocketDriver as SocketDriver, url, this._owner._template, this)
    peer._logger = this._peerLogger
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
    const peer = new AcceptedPeer(socket, driver as SocketDriver, url, this._owner._template, this)
    peer._logger = this._peerLogger
    this._connected(peer)
    return peer
  }

  /** A new connection: its id, then admitted or (with auth) pending. */
  private _connected(peer: AcceptedPeer): void {
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
  private _admit(peer: AcceptedPeer): void {
    const owner = this._owner
    const id = peer._id
    this._pending.delete(id)
    this._peers.set(id, peer)
    if (owner.framing === 'scene' && owner.serverRelay) this._announcements.joined(peer)
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
    // Relays waiting for it are dropped with it; its senders are read again.
    this._endWait(peer)
    // Nothing more from this connection reaches the application (a forced disconnect may still
    // have messages in flight).
    peer._sink = null
    addStats(this._departed, peer._stats)
    if (owner.framing === 'scene' && owner.serverRelay) this._announcements.left(peer)
    if (!signal) return
    this._retiring.add(id)
    // After the peer's last packet, even one poll() holds back (see MultiplayerPeer.poll).
    owner._enqueue(
      new Deferred(() => {
        this._retiring.delete(id)
        owner._events.emit('peer_disconnected', id)
      }, peer),
    )
  }
}
