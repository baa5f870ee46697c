import type { TransferMode } from './constants.js'

/**
 * Whoever delivered a packet and wants to know when the application has taken it: the connection
 * counts its unread packets against `maxQueuedPackets` and resumes reading the socket on release.
 */
export interface PacketSource {
  /** Called once when the packet leaves the queue (read by `getPacket` or handed to a listener). */
  releasePacket(): void
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
