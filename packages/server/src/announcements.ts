import { SceneCommand, SysCommand, type WebSocketPeer } from '@wsmp/client'
import type { AcceptedPeer } from './accepted-peer.js'

/**
 * Batches of announcements go out at the end of the event-loop turn that made them, but at most
 * one per `peers / ANNOUNCE_PEERS_PER_MS` ms (up to ANNOUNCE_MAX_DELAY_MS): a batch costs a write
 * per peer (20–30 µs each on loopback, where the write runs the receiver's TCP stack too), so a
 * join storm costs at most ~10,000 writes a second whatever its rate, and leaves the event loop to
 * accept; a room of ten hears of each join within a millisecond, one of 5,000 within half a
 * second. A relay from a newcomer never waits. (The hostile suite's join storm measured 100,000
 * writes a second, the old rate, as 71 % of the server's time with accepts starved.)
 */
export const ANNOUNCE_PEERS_PER_MS = 10
export const ANNOUNCE_MAX_DELAY_MS = 500

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
  /** Newcomers not told of anyone, nor anyone of them, yet: relays pass them by. */
  readonly unannounced = new Set<WebSocketPeer>()
  private _timer: ReturnType<typeof setTimeout> | null = null
  private _immediate: ReturnType<typeof setImmediate> | null = null
  private _flushedAt = 0

  constructor(private readonly _host: AnnouncementHost) {}

  /** `peer` was admitted. */
  joined(peer: WebSocketPeer): void {
    this._changes.push(peer._id)
    this.unannounced.add(peer)
    this._schedule()
  }

  /** `peer` left (it is no longer among the host's peers). */
  left(peer: WebSocketPeer): void {
    if (this.unannounced.delete(peer)) {
      // Came and went between two batches: nobody is to hear of it.
      const at = this._changes.lastIndexOf(peer._id)
      if (at >= 0) this._changes.splice(at, 1)
      return
    }
    this._changes.push(-peer._id)
    this._schedule()
  }

  /**
   * Announces every pending change now: the members from before the batch get the changes (the
   * same bytes for all); each newcomer gets the whole room as it is — one roster for the batch,
   * less its own entry — so a storm costs a copy per newcomer, not an announcement per pair.
   */
  flush(): void {
    this._unschedule()
    const changes = this._changes
    if (changes.length === 0) return
    this._changes = []
    this._flushedAt = performance.now()
    const peers = this._host.peers
    // From here on they are members: one cut while this batch goes out leaves with a DEL_PEER.
    const newcomers = [...this.unannounced]
    this.unannounced.clear()
    const fresh = new Set<WebSocketPeer>(newcomers)
    const common = new Uint8Array(changes.length * WIRE_SIZE)
    changes.forEach((change, i) => writeWire(common, i * WIRE_SIZE, change))
    const commonPayloads = (): Uint8Array[] => payloadsOf(common)
    for (const peer of [...peers.values()]) {
      if (!fresh.has(peer)) this._host.deliver(peer, common, commonPayloads)
    }
    // The room after that (a member cut for want of room is out of it: its DEL_PEER, in the next
    // batch, is one a newcomer ignores, as Godot does an unknown id).
    const roster = new Uint8Array(peers.size * WIRE_SIZE)
    const place = new Map<WebSocketPeer, number>()
    let at = 0
    for (const [id, peer] of peers) {
      if (fresh.has(peer)) place.set(peer, at)
      writeWire(roster, at, id)
      at += WIRE_SIZE
    }
    for (const newcomer of newcomers) {
      const own = place.get(newcomer)
      const peer = peers.get(newcomer._id)
      if (own === undefined || peer !== newcomer) continue
      const wire = new Uint8Array(roster.length - WIRE_SIZE)
      wire.set(roster.subarray(0, own))
      wire.set(roster.subarray(own + WIRE_SIZE), own)
      if (wire.length > 0) this._host.deliver(peer, wire, () => payloadsOf(wire))
    }
  }

  /** Drops every pending change (the server closed). */
  clear(): void {
    this._unschedule()
    this._changes = []
    this.unannounced.clear()
  }

  private _schedule(): void {
    if (this._timer !== null || this._immediate !== null) return
    const gap = Math.min(ANNOUNCE_MAX_DELAY_MS, this._host.peers.size / ANNOUNCE_PEERS_PER_MS)
    const wait = this._flushedAt + gap - performance.now()
    if (wait <= 0) {
      this._immediate = setImmediate(() => this.flush())
    } else {
      this._timer = setTimeout(() => this.flush(), wait)
      this._timer.unref()
    }
  }

  private _unschedule(): void {
    if (this._timer !== null) clearTimeout(this._timer)
    if (this._immediate !== null) clearImmediate(this._immediate)
    this._timer = null
    this._immediate = null
  }
}
