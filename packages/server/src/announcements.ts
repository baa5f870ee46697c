import { SceneCommand, SysCommand, type WebSocketPeer } from '@wsmp/client'
import type { AcceptedPeer } from './accepted-peer.js'

/**
 * Batches of announcements go out at the end of the event-loop turn that made them, but at most
 * one per `peers / ANNOUNCE_PEERS_PER_MS` ms (up to ANNOUNCE_MAX_DELAY_MS): a batch costs a write
 * per peer (20–30 µs each on loopback, where the write runs the receiver's TCP stack too), so
 * during a join storm announcing takes about a tenth of the server's time whatever the storm's
 * rate, and the rest goes to accepting. A join into a quiet room goes out at once; during a storm
 * a room of ten hears of it within 3 ms, one of 5,000 within a second. A relay from a newcomer
 * never waits. (The hostile suite's join storm measured 100,000 writes a second, an earlier rate,
 * as 71 % of the server's time with accepts starved.)
 */
export const ANNOUNCE_PEERS_PER_MS = 4
export const ANNOUNCE_MAX_DELAY_MS = 1000
/**
 * Connections in their handshake past which a join storm is on: admitting comes first, and a
 * batch due waits (re-checked every ANNOUNCE_RECHECK_MS) until the storm passes or its changes
 * are ANNOUNCE_STORM_MAX_DELAY_MS old. What an honest client waits for its id at a storm's peak
 * is then what it waits on a bare `ws` server (the hostile suite measured announcing as ~0.3 s of it).
 */
export const ANNOUNCE_STORM_HANDSHAKES = 64
const ANNOUNCE_RECHECK_MS = 20
export const ANNOUNCE_STORM_MAX_DELAY_MS = 3000

/**
 * Deliveries of a batch per event-loop turn: a batch for thousands of peers goes out over several
 * turns (each write costs 20–30 µs), so that accepting and relaying go on in between.
 */
export const ANNOUNCE_DELIVERIES_PER_TURN = 256

/** An announcement on the wire: a WebSocket frame header and `[0x07][cmd][int32 LE id]`. */
const WIRE_SIZE = 8
const PAYLOAD_SIZE = 6

/** What the announcer needs of the server role. */
export interface AnnouncementHost {
  /** The admitted peers, by id. */
  readonly peers: ReadonlyMap<number, AcceptedPeer>
  /**
   * Sends `count` announcements to `peer`: `wire` holds them as WebSocket frames, `payloads` makes
   * them one by one where those bytes cannot be written as they are. False when the peer was cut.
   */
  deliver(peer: AcceptedPeer, wire: Uint8Array, payloads: () => Uint8Array[]): boolean
  /** Connections in their handshake now. */
  admitting(): number
}

/** Writes the announcement of `change` (+id joined, −id left) into `out` as a WebSocket frame at `at`. */
function writeWire(out: Uint8Array, at: number, change: number): void {
  const id = Math.abs(change)
  out[at] = 0x82
  out[at + 1] = PAYLOAD_SIZE
  out[at + 2] = SceneCommand.SYS
  out[at + 3] = change > 0 ? SysCommand.ADD_PEER : SysCommand.DEL_PEER
  out[at + 4] = id & 0xff
  out[at + 5] = (id >>> 8) & 0xff
  out[at + 6] = (id >>> 16) & 0xff
  out[at + 7] = (id >>> 24) & 0xff
}

/** The payloads of wire-framed announcements (for sockets that cannot take the frames as bytes). */
function payloadsOf(wire: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0; at < wire.length; at += WIRE_SIZE) out.push(wire.slice(at + 2, at + WIRE_SIZE))
  return out
}

/**
 * SceneMultiplayer's peer announcements (ADD_PEER to everyone for a newcomer, ADD_PEER of everyone
 * to the newcomer, DEL_PEER for a leaver), batched: changes gather (see ANNOUNCE_PEERS_PER_MS) and
 * then every receiver gets all of them in one write — a join storm of thousands costs one write
 * per receiver per batch, not one per announcement, and a newcomer's roster is one write.
 *
 * Order is kept where a peer can see it: a newcomer takes part in relays only once the others
 * have been told of it and it of them (relays skip it until then; one it sends flushes the batch
 * first), and a newcomer that leaves before the batch goes out is never announced at all. A peer
 * that joined and left within one batch is not in a newcomer's roster, nor its DEL_PEER: the
 * newcomer sees the room as it is.
 */
export class Announcements {
  /** Changes not announced yet, in order: +id joined, −id left. */
  private _changes: number[] = []
  /**
   * Newcomers not told of anyone, nor anyone of them, yet — those of the batch going out included,
   * until it is out: relays pass them by, and one from or to them completes the batch first.
   */
  readonly unannounced = new Set<WebSocketPeer>()
  /** The batch going out, over several turns when it is big. */
  private _batch: Batch | null = null
  private _timer: ReturnType<typeof setTimeout> | null = null
  private _immediate: ReturnType<typeof setImmediate> | null = null
  private _flushedAt = 0
  /** When the oldest change not announced yet was made. */
  private _pendingSince = 0

  constructor(private readonly _host: AnnouncementHost) {}

  /** `peer` was admitted. */
  joined(peer: WebSocketPeer): void {
    if (this._changes.length === 0) this._pendingSince = performance.now()
    this._changes.push(peer._id)
    this.unannounced.add(peer)
    this._schedule()
  }

  /** `peer` left (it is no longer among the host's peers). */
  left(peer: WebSocketPeer): void {
    const batch = this._batch
    if (batch !== null && batch.newcomers.has(peer)) {
      // Some members may have heard of it already: all of them hear that it left.
      batch.newcomers.delete(peer)
      this.unannounced.delete(peer)
    } else if (this.unannounced.delete(peer)) {
      // Came and went between two batches: nobody is to hear of it.
      const at = this._changes.lastIndexOf(peer._id)
      if (at >= 0) this._changes.splice(at, 1)
      return
    }
    if (this._changes.length === 0) this._pendingSince = performance.now()
    this._changes.push(-peer._id)
    this._schedule()
  }

  /**
   * Announces every pending change: the members from before the batch get the changes (the same
   * bytes for all); each newcomer gets the whole room as it is — one roster for the batch, less its
   * own entry — so a storm costs a copy per newcomer, not an announcement per pair. With `now`
   * (a relay waits for it) everything goes out before this returns; otherwise a big batch goes out
   * over several turns, ANNOUNCE_DELIVERIES_PER_TURN deliveries each.
   */
  flush(now = true): void {
    this._unschedule()
    if (this._batch !== null) this._deliver(Infinity)
    const changes = this._changes
    if (changes.length === 0) return
    this._changes = []
    this._flushedAt = performance.now()
    const peers = this._host.peers
    const newcomers = new Set(this.unannounced)
    const common = new Uint8Array(changes.length * WIRE_SIZE)
    changes.forEach((change, i) => writeWire(common, i * WIRE_SIZE, change))
    const members: AcceptedPeer[] = []
    for (const peer of peers.values()) if (!newcomers.has(peer)) members.push(peer)
    this._batch = { common, members, newcomers, next: 0, roster: null }
    this._deliver(now ? Infinity : ANNOUNCE_DELIVERIES_PER_TURN)
  }

  /** Drops every pending change (the server closed). */
  clear(): void {
    this._unschedule()
    this._changes = []
    this._batch = null
    this.unannounced.clear()
  }

  /** Delivers up to `count` of the batch going out; the rest continues at the next turn. */
  private _deliver(count: number): void {
    const batch = this._batch as Batch
    const peers = this._host.peers
    const common = batch.common
    const commonPayloads = (): Uint8Array[] => payloadsOf(common)
    let left = count
    for (; batch.next < batch.members.length && left > 0; batch.next++, left--) {
      const peer = batch.members[batch.next] as AcceptedPeer
      if (peers.get(peer._id) === peer) this._host.deliver(peer, common, commonPayloads)
    }
    if (left > 0) {
      // The room as the members now know it (one cut for want of room is out of it: its DEL_PEER,
      // in a later batch, is one a newcomer ignores, as Godot does an unknown id).
      const roster = (batch.roster ??= rosterOf(peers, batch.newcomers, this.unannounced))
      for (const newcomer of batch.newcomers) {
        if (left-- <= 0) break
        batch.newcomers.delete(newcomer)
        this.unannounced.delete(newcomer)
        const own = roster.place.get(newcomer)
        const peer = peers.get(newcomer._id)
        if (own === undefined || peer !== newcomer) continue
        const wire = new Uint8Array(roster.wire.length - WIRE_SIZE)
        wire.set(roster.wire.subarray(0, own))
        wire.set(roster.wire.subarray(own + WIRE_SIZE), own)
        if (wire.length > 0) this._host.deliver(peer, wire, () => payloadsOf(wire))
      }
    }
    if (batch.next < batch.members.length || batch.newcomers.size > 0) {
      this._immediate ??= setImmediate(() => {
        this._immediate = null
        if (this._batch !== null) this._deliver(ANNOUNCE_DELIVERIES_PER_TURN)
        if (this._batch === null && this._changes.length > 0) this._schedule()
      })
      return
    }
    this._batch = null
  }

  private _schedule(): void {
    if (this._timer !== null || this._immediate !== null) return
    const gap = Math.min(ANNOUNCE_MAX_DELAY_MS, this._host.peers.size / ANNOUNCE_PEERS_PER_MS)
    const wait = this._flushedAt + gap - performance.now()
    if (wait <= 0) {
      this._immediate = setImmediate(() => {
        this._immediate = null
        this._due()
      })
    } else {
      this._timer = setTimeout(() => {
        this._timer = null
        this._due()
      }, wait)
      this._timer.unref()
    }
  }

  /** A batch is due: out now, unless a join storm is on and the changes are still young. */
  private _due(): void {
    if (this._host.admitting() > ANNOUNCE_STORM_HANDSHAKES && performance.now() - this._pendingSince < ANNOUNCE_STORM_MAX_DELAY_MS) {
      this._timer = setTimeout(() => {
        this._timer = null
        this._due()
      }, ANNOUNCE_RECHECK_MS)
      this._timer.unref()
      return
    }
    this.flush(false)
  }

  private _unschedule(): void {
    if (this._timer !== null) clearTimeout(this._timer)
    if (this._immediate !== null) clearImmediate(this._immediate)
    this._timer = null
    this._immediate = null
  }
}

/** A batch of announcements going out. */
interface Batch {
  /** The changes, as frames: what every member gets. */
  common: Uint8Array
  /** The members from before the batch, in order; `next` is the first not served yet. */
  members: AcceptedPeer[]
  next: number
  /** The batch's newcomers not served yet. */
  newcomers: Set<WebSocketPeer>
  /** Every peer as a frame, made once the members are served; where each newcomer's own frame is. */
  roster: { wire: Uint8Array; place: Map<WebSocketPeer, number> } | null
}

/**
 * The room as frames, and where the batch's newcomers' own frames are in it. Peers that joined
 * after the batch began (unannounced, not its newcomers) are left for the next batch, which
 * announces them to everyone.
 */
function rosterOf(
  peers: ReadonlyMap<number, AcceptedPeer>,
  newcomers: Set<WebSocketPeer>,
  unannounced: Set<WebSocketPeer>,
): { wire: Uint8Array; place: Map<WebSocketPeer, number> } {
  const wire = new Uint8Array(peers.size * WIRE_SIZE)
  const place = new Map<WebSocketPeer, number>()
  let at = 0
  for (const [id, peer] of peers) {
    if (newcomers.has(peer)) place.set(peer, at)
    else if (unannounced.has(peer)) continue
    writeWire(wire, at, id)
    at += WIRE_SIZE
  }
  return { wire: wire.subarray(0, at), place }
}
