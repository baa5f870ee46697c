/**
 * What goes over Redis between an authority and its edges.
 *
 * Every process reads exactly one stream: the authority `{prefix}:{session}:a`, each edge
 * `{prefix}:{session}:e:<edge id>`. A stream entry has one field, `d`: a **batch** — everything
 * one process had for one reader in one event-loop turn — a 17-byte header and records:
 *
 * ```
 * header  [u8 version = 1][u32 sender][u32 link][f64 seq]
 *         sender: the edge's id (edge → authority) or the authority's instance id (authority → edge)
 *         link:   the edge's link id, new at each HELLO: batches of an older link are stale
 *         seq:    1, 2, 3 … per link and direction: a reader drops what it has seen (a command Redis
 *                 ran twice across a reconnect) and treats a gap as lost traffic
 * ```
 *
 * Records, integers little-endian, `str` = [u16 length][UTF-8]:
 *
 * ```
 * edge → authority                                authority → edge
 * HELLO    01 str(json EdgeHello)                 WELCOME  01 str(json Welcome)
 * HB       02                                     HB       02
 * BYE      03                                     BYE      03 [i32 code] str(reason)
 * OPEN     10 [u32 client][u16 port] str(address) EVICT    04 str(reason)
 *             str(protocol) str(url)              SEND     20 [u32 client][u8 text][u32 n][n bytes]
 * MSG      11 [u32 client][u8 text][u32 n][bytes] SENDMANY 21 [u8 text][u32 n][n bytes][u16 k][k × u32 client]
 * CLOSED   12 [u32 client][i32 code] str(reason)  CLOSE    22 [u32 client][i32 code] str(reason)  (code < 0: drop)
 * TOOBIG   13 [u32 client][i32 size]             PAUSE    23 [u32 client]
 * BUFFERED 14 [u32 client][u32 bytes]            RESUME   24 [u32 client]
 * ERROR    15 [u32 client] str(reason)
 * ```
 * @internal
 */
import { randomInt } from 'node:crypto'

/** The batch format's version byte. */
export const WIRE_VERSION = 1
/** Bytes of a batch's header. */
export const HEADER_SIZE = 17

/** Record types, edge → authority. */
export const EdgeRecord = {
  HELLO: 0x01,
  HB: 0x02,
  BYE: 0x03,
  OPEN: 0x10,
  MSG: 0x11,
  CLOSED: 0x12,
  TOOBIG: 0x13,
  BUFFERED: 0x14,
  ERROR: 0x15,
} as const

/** Record types, authority → edge. */
export const AuthorityRecord = {
  WELCOME: 0x01,
  HB: 0x02,
  BYE: 0x03,
  EVICT: 0x04,
  SEND: 0x20,
  SEND_MANY: 0x21,
  CLOSE: 0x22,
  PAUSE: 0x23,
  RESUME: 0x24,
} as const

/** What an edge says of itself in its HELLO. */
export interface EdgeHello {
  /** The edge's id (8 hex digits). */
  edge: string
  /** The port it listens on (0 when attached to an application's server). */
  port: number
  /** Its host name. */
  host: string
  /** Its process id. */
  pid: number
}

/** What the authority answers a HELLO with. */
export interface Welcome {
  /** The authority's instance id (8 hex digits). */
  authority: string
  /** Milliseconds between heartbeats. */
  heartbeatMs: number
  /** Milliseconds of silence after which the other side counts as lost. */
  timeoutMs: number
}

/** A batch's header, as read. */
export interface BatchHeader {
  sender: number
  link: number
  seq: number
}

const utf8 = new TextEncoder()

/**
 * Builds one batch: a growable buffer of records. {@link take} hands the bytes over (they belong
 * to the Redis command from then on) and starts the next batch.
 */
export class BatchWriter {
  private _buf: Buffer
  private _len = 0
  /** Records written since the last take (the header excluded). */
  records = 0
  /** The frame of the open SENDMANY record (receivers may still be appended), or null. */
  _manyFrame: Uint8Array | null = null
  private _manyCountAt = 0
  private _manyCount = 0

  constructor(initial = 4096) {
    this._buf = Buffer.allocUnsafe(initial)
    this._len = HEADER_SIZE
  }

  /** Bytes of records so far. */
  get size(): number {
    return this._len - HEADER_SIZE
  }

  private _room(n: number): void {
    if (this._len + n <= this._buf.length) return
    let size = this._buf.length * 2
    while (size < this._len + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this._buf.copy(next, 0, 0, this._len)
    this._buf = next
  }

  /** Starts a record: closes an open SENDMANY. */
  private _record(type: number, reserve: number): void {
    this._manyFrame = null
    this._room(reserve + 1)
    this._buf[this._len++] = type
    this.records++
  }

  private _u8(v: number): void {
    this._buf[this._len++] = v
  }

  private _u16(v: number): void {
    this._buf.writeUInt16LE(v, this._len)
    this._len += 2
  }

  private _u32(v: number): void {
    this._buf.writeUInt32LE(v >>> 0, this._len)
    this._len += 4
  }

  private _i32(v: number): void {
    this._buf.writeInt32LE(v | 0, this._len)
    this._len += 4
  }

  private _bytes(data: Uint8Array): void {
    this._buf.set(data, this._len)
    this._len += data.length
  }

  private _str(text: string): void {
    const bytes = utf8.encode(text.length > 8192 ? text.slice(0, 8192) : text)
    this._room(2 + bytes.length)
    this._u16(bytes.length)
    this._bytes(bytes)
  }

  /** A record of `type` with no body. */
  plain(type: number): void {
    this._record(type, 0)
  }

  /** A record of `type` with one string. */
  text(type: number, text: string): void {
    this._record(type, 0)
    this._str(text)
  }

  /** A record of `type` with one client id. */
  client(type: number, client: number): void {
    this._record(type, 4)
    this._u32(client)
  }

  /** A record of `type` with a client id and a signed 32-bit value. */
  clientInt(type: number, client: number, value: number): void {
    this._record(type, 8)
    this._u32(client)
    this._i32(value)
  }

  /** A record of `type` with a client id and a string. */
  clientText(type: number, client: number, text: string): void {
    this._record(type, 4)
    this._u32(client)
    this._str(text)
  }

  /** CLOSED / CLOSE: a client id, a code and a reason. */
  close(type: number, client: number, code: number, reason: string): void {
    this._record(type, 8)
    this._u32(client)
    this._i32(code)
    this._str(reason)
  }

  /** BYE (authority): a code and a reason. */
  bye(code: number, reason: string): void {
    this._record(AuthorityRecord.BYE, 4)
    this._i32(code)
    this._str(reason)
  }

  /** OPEN: a client accepted on an edge. */
  open(client: number, port: number, address: string, protocol: string, url: string): void {
    this._record(EdgeRecord.OPEN, 6)
    this._u32(client)
    this._u16(port)
    this._str(address)
    this._str(protocol)
    this._str(url)
  }

  /** MSG / SEND: one WebSocket message of one client. */
  message(type: number, client: number, data: Uint8Array | string, isText: boolean): void {
    const bytes = typeof data === 'string' ? utf8.encode(data) : data
    this._record(type, 9 + bytes.length)
    this._u32(client)
    this._u8(isText ? 1 : 0)
    this._u32(bytes.length)
    this._bytes(bytes)
  }

  /**
   * SENDMANY: `frame` to `client` and, while nothing else is written to this batch, to every
   * further receiver passed with the same frame (see {@link addReceiver}).
   */
  many(frame: Uint8Array, isText: boolean, client: number): void {
    this._record(AuthorityRecord.SEND_MANY, 5 + frame.length + 6)
    this._u8(isText ? 1 : 0)
    this._u32(frame.length)
    this._bytes(frame)
    this._manyCountAt = this._len
    this._u16(1)
    this._u32(client)
    this._manyCount = 1
    this._manyFrame = frame
  }

  /** One more receiver of the open SENDMANY; false when it is full (start another). */
  addReceiver(client: number): boolean {
    if (this._manyCount === 0xffff) return false
    this._room(4)
    this._u32(client)
    this._manyCount++
    this._buf.writeUInt16LE(this._manyCount, this._manyCountAt)
    return true
  }

  /** The batch's bytes with its header (copied out: the writer goes on with the next batch). */
  take(sender: number, link: number, seq: number): Buffer {
    const buf = this._buf
    buf[0] = WIRE_VERSION
    buf.writeUInt32LE(sender >>> 0, 1)
    buf.writeUInt32LE(link >>> 0, 5)
    buf.writeDoubleLE(seq, 9)
    const out = Buffer.allocUnsafe(this._len)
    buf.copy(out, 0, 0, this._len)
    this._len = HEADER_SIZE
    this.records = 0
    this._manyFrame = null
    // A writer that grew for a burst goes back to a small buffer.
    if (buf.length > 1 << 20) this._buf = Buffer.allocUnsafe(4096)
    return out
  }

  /** Drops what was written since the last take. */
  clear(): void {
    this._len = HEADER_SIZE
    this.records = 0
    this._manyFrame = null
  }
}

/** Reads one batch's records in order; every method throws RangeError past the end (a corrupt batch). */
export class BatchReader {
  private _at = HEADER_SIZE
  private readonly _view: Buffer

  constructor(batch: Buffer) {
    this._view = batch
  }

  /** The header, or null when the batch is not one this version reads. */
  static header(batch: Buffer): BatchHeader | null {
    if (batch.length < HEADER_SIZE || batch[0] !== WIRE_VERSION) return null
    return { sender: batch.readUInt32LE(1), link: batch.readUInt32LE(5), seq: batch.readDoubleLE(9) }
  }

  /** Whether records remain. */
  more(): boolean {
    return this._at < this._view.length
  }

  private _need(n: number): void {
    if (this._at + n > this._view.length) throw new RangeError('truncated batch')
  }

  u8(): number {
    this._need(1)
    return this._view[this._at++] as number
  }

  u16(): number {
    this._need(2)
    const v = this._view.readUInt16LE(this._at)
    this._at += 2
    return v
  }

  u32(): number {
    this._need(4)
    const v = this._view.readUInt32LE(this._at)
    this._at += 4
    return v
  }

  i32(): number {
    this._need(4)
    const v = this._view.readInt32LE(this._at)
    this._at += 4
    return v
  }

  /** `n` bytes, as a view of the batch (no copy). */
  bytes(n: number): Buffer {
    this._need(n)
    const out = this._view.subarray(this._at, this._at + n)
    this._at += n
    return out
  }

  str(): string {
    const n = this.u16()
    return this.bytes(n).toString('utf8')
  }
}

/** A random 32-bit id, never 0. */
export function randomId(): number {
  return randomInt(1, 0x100000000)
}

/** An id as the 8 hex digits logs and the API show. */
export function hexId(id: number): string {
  return (id >>> 0).toString(16).padStart(8, '0')
}
