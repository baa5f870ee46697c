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
  channel: number
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

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  peek(): T | undefined {
    return this.items[this.head]
  }

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

  clear(): void {
    this.items = []
    this.head = 0
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T
  }
}
