import { SceneCommand, SysCommand, type WebSocketPeer } from '@wsmp/client'
import type { AcceptedPeer } from './accepted-peer.js'

/**
 * Batches of announcements go out at the end of the event-loop turn that made them, but at most
 * one per `peers / ANNOUNCE_PEERS_PER_MS` ms (up to ANNOUNCE_MAX_DELAY_MS): a batch costs a write
 * per peer, so in a big room a join storm costs at most ~100,000 writes a second, whatever its
 * rate, while a small room hears of each join at once. A relay from a newcomer never waits.
 */
export const ANNOUNCE_PEERS_PER_MS = 100
export const ANNOUNCE_MAX_DELAY_MS = 100

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
 * to the newcomer, DEL_PEER for a leaver), batched: changes gather for ANNOUNCE_DELAY_MS and then
 * every receiver gets all of them in one write — a join storm of thousands costs one write per
 * receiver per batch, not one per announcement, and a newcomer's roster is one write.
 *
 * Order is kept where a peer can see it: a newcomer takes part in relays only once the others
 * have been told of it and it of them (relays skip it until then; one it sends flushes the batch
 * first), and a newcomer that leaves before the batch goes out is never announced at all.
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

  /** Announces every pending change now. */
  flush(): void {
    this._unschedule()
    const changes = this._changes
    if (changes.length === 0) return
    this._changes = []
    this._flushedAt = performance.now()
    const newcomers = this.unannounced
    const peers = this._host.peers
    // Those who were members before this batch hear every change, all the same bytes.
    const common = new Uint8Array(changes.length * WIRE_SIZE)
    changes.forEach((change, i) => writeWire(common, i * WIRE_SIZE, change))
    const commonPayloads = (): Uint8Array[] => payloadsOf(common)
    const members = new Set<number>()
    for (const [id, peer] of peers) {
      if (newcomers.has(peer)) continue
      if (this._host.deliver(peer, common, commonPayloads)) members.add(id)
    }
    // Each newcomer: everyone who was there when it joined, then the changes after it (none of
    // them about itself: a newcomer that left was taken out of the batch).
    const leaving = new Set<number>()
    for (const change of changes) if (change < 0) leaving.add(-change)
    for (const id of leaving) members.add(id)
    for (let i = 0; i < changes.length; i++) {
      const change = changes[i] as number
      if (change < 0) {
        members.delete(-change)
        continue
      }
      const peer = peers.get(change)
      if (peer !== undefined && newcomers.has(peer)) {
        const wire = new Uint8Array((members.size + changes.length - i - 1) * WIRE_SIZE)
        let at = 0
        for (const id of members) {
          // A member cut while being told of this batch is not announced to the newcomer.
          if (!peers.has(id) && !leaving.has(id)) continue
          writeWire(wire, at, id)
          at += WIRE_SIZE
        }
        for (let j = i + 1; j < changes.length; j++, at += WIRE_SIZE) writeWire(wire, at, changes[j] as number)
        const sent = wire.subarray(0, at)
        if (sent.length > 0) this._host.deliver(peer, sent, () => payloadsOf(sent))
      }
      members.add(change)
    }
    newcomers.clear()
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
