import type { TransferMode } from './constants.js'

/**
 * The connection a packet came from: it bounds what of its traffic the application's queue holds
 * (`maxQueuedPackets` per connection) and what it keeps unread (packets and bytes), and resumes
 * reading its socket as the application takes packets.
 */
export interface PacketSource {
  /**
   * Whether the application's queue may hold one more packet of this connection; when it may, the
   * place is taken (and given back by `releasePacket(size, true)`).
   */
  takeSlot(): boolean
  /**
   * Called once when a packet of `size` bytes leaves the peer (read by `getPacket`, handed to a
   * listener, dropped by `close()`); `queued` when it held a place taken with `takeSlot`.
   */
  releasePacket(size: number, queued: boolean): void
}

/** One inbound packet, as the queue holds it. */
export interface Packet {
  /** The payload, framing removed. */
  data: Uint8Array
  /** The sender's peer id (1 for the server). */
  from: number
  /** The channel it was sent on (Godot: `get_packet_channel()`). */
  channel: number
  /** The transfer mode it was sent with (Godot: `get_packet_mode()`). */
  mode: TransferMode
  /** Whether it arrived in a WebSocket text frame. */
  wasString: boolean
  /** Told when the packet is consumed; null when nobody is counting. */
  source: PacketSource | null
}

/**
 * A FIFO that never shifts its backing array: `push` and `shift` are O(1) amortised, and the
 * array is compacted only once its consumed head outgrows the live part.
 */
export class Queue<T> {
  private items: (T | undefined)[] = []
  private head = 0

  /** The number of items queued. */
  get length(): number {
    return this.items.length - this.head
  }

  /** Adds an item at the end. */
  push(item: T): void {
    this.items.push(item)
  }

  /** The first item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.items[this.head]
  }

  /** Takes the first item; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Drops every item. */
  clear(): void {
    this.items = []
    this.head = 0
  }

  /** The items, first to last, without taking them. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T
  }
}
