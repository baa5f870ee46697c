// Little-endian byte writing and reading for the codecs: a growing output buffer with a size
// limit, a bounds-checked reader, UTF-8 both ways. Failures are thrown as `CodecFailure` inside
// the codecs and turned into result objects at their public edges.

import { ErrorCode } from '@wsmp/core'

/** A failure inside a codec: the Godot error code and a readable reason. */
export class CodecFailure {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
  ) {}
}

/** Throws a {@link CodecFailure}. */
export function fail(code: ErrorCode, reason: string): never {
  throw new CodecFailure(code, reason)
}

/** True on little-endian hosts (all the usual ones), where typed arrays can be copied as bytes. */
export const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1

const utf8 = new TextEncoder()
const TWO_32 = 2 ** 32

/**
 * A little-endian writer into a growing buffer. Writing past `limit` bytes fails with
 * `ERR_OUT_OF_MEMORY` before anything is allocated for it, so a huge value costs at most `limit`.
 */
export class Writer {
  buf = new Uint8Array(256)
  view = new DataView(this.buf.buffer)
  pos = 0
  /** Where the Variant being written starts: padding to 4 bytes counts from here. */
  base = 0
  limit = Infinity
  /** True while an encoding uses this writer (a nested call takes a fresh one). */
  busy = false

  /** Starts an encoding of at most `limit` bytes. */
  reset(limit: number): void {
    this.pos = 0
    this.base = 0
    this.limit = limit
  }

  /** Makes room for `n` more bytes; fails past the limit unless `room` says it is only room. */
  ensure(n: number, room = false): void {
    const need = this.pos + n
    if (need > this.limit && !room) fail(ErrorCode.ERR_OUT_OF_MEMORY, `the encoded value is over the ${this.limit}-byte limit`)
    if (need <= this.buf.length) return
    const grown = new Uint8Array(Math.min(Math.max(need, this.buf.length * 2), Math.max(need, this.limit)))
    grown.set(this.buf.subarray(0, this.pos))
    this.buf = grown
    this.view = new DataView(grown.buffer)
  }

  /** A copy of what was written. */
  result(): Uint8Array {
    if (this.pos > this.limit) fail(ErrorCode.ERR_OUT_OF_MEMORY, `the encoded value is ${this.pos} bytes, over the ${this.limit}-byte limit`)
    return this.buf.slice(0, this.pos)
  }

  u8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v
  }
  u16(v: number): void {
    this.ensure(2)
    this.view.setUint16(this.pos, v, true)
    this.pos += 2
  }
  u32(v: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, v >>> 0, true)
    this.pos += 4
  }
  i32(v: number): void {
    this.ensure(4)
    this.view.setInt32(this.pos, v, true)
    this.pos += 4
  }
  /** A 64-bit two's complement integer (`v` in −2^63 … 2^64−1). */
  u64(v: bigint): void {
    this.ensure(8)
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true)
    this.pos += 8
  }
  /** A 64-bit integer given as a JS number (exact up to ±2^53, and for every whole double). */
  i64(v: number): void {
    this.ensure(8)
    if (Number.isSafeInteger(v)) {
      const low = ((v % TWO_32) + TWO_32) % TWO_32
      this.view.setUint32(this.pos, low, true)
      this.view.setInt32(this.pos + 4, (v - low) / TWO_32, true)
    } else this.view.setBigInt64(this.pos, BigInt(v), true)
    this.pos += 8
  }
  f32(v: number): void {
    this.ensure(4)
    this.view.setFloat32(this.pos, v, true)
    this.pos += 4
  }
  f64(v: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, v, true)
    this.pos += 8
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  /** Zero bytes up to the next multiple of 4 from `base`. */
  pad4(): void {
    const n = -(this.pos - this.base) & 3
    this.ensure(n)
    for (let i = 0; i < n; i++) this.buf[this.pos++] = 0
  }

  /**
   * Writes `s` as UTF-8 (lone surrogates become U+FFFD, as `TextEncoder` does) and returns its byte
   * length. Short strings are written by hand, long ones by `TextEncoder.encodeInto`.
   */
  utf8(s: string): number {
    // Every UTF-16 unit takes a byte at least: a string that cannot fit fails before any room is made.
    if (this.pos + s.length > this.limit) fail(ErrorCode.ERR_OUT_OF_MEMORY, `the encoded value is over the ${this.limit}-byte limit`)
    // Room for the worst case (3 bytes per UTF-16 unit); the limit is checked on what was written.
    this.ensure(s.length * 3, true)
    const start = this.pos
    if (s.length > 64) {
      this.pos += utf8.encodeInto(s, this.buf.subarray(this.pos)).written
    } else {
      this.pos = this.utf8Short(s)
    }
    if (this.pos > this.limit) fail(ErrorCode.ERR_OUT_OF_MEMORY, `the encoded value is over the ${this.limit}-byte limit`)
    return this.pos - start
  }

  /** UTF-8 of a short string into the reserved room; returns the new position. */
  private utf8Short(s: string): number {
    const buf = this.buf
    let p = this.pos
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i)
      if (c < 0x80) {
        buf[p++] = c
        continue
      }
      if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6)
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const next = s.charCodeAt(i + 1)
          if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
            i++
            buf[p++] = 0xf0 | (c >> 18)
            buf[p++] = 0x80 | ((c >> 12) & 0x3f)
          } else {
            c = 0xfffd
            buf[p++] = 0xe0 | (c >> 12)
          }
        } else {
          buf[p++] = 0xe0 | (c >> 12)
        }
        buf[p++] = 0x80 | ((c >> 6) & 0x3f)
      }
      buf[p++] = 0x80 | (c & 0x3f)
    }
    return p
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * A little-endian reader over `bytes[start, end)`. `pos` may run past `end` (Godot counts the
 * padding of a trailing PackedByteArray even when it is missing); every read checks what is left.
 */
export class Reader {
  readonly src: Uint8Array
  readonly view: DataView
  constructor(
    src: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {
    // A plain Uint8Array view (a Node Buffer's `slice` would share memory instead of copying).
    this.src = src.constructor === Uint8Array ? src : new Uint8Array(src.buffer, src.byteOffset, src.byteLength)
    this.view = new DataView(src.buffer, src.byteOffset, src.byteLength)
  }
  /** Bytes left (negative once `pos` ran past the end). */
  get left(): number {
    return this.end - this.pos
  }
  /** Fails with `code` unless `n` bytes are left. */
  need(n: number, what: string, code: ErrorCode = ErrorCode.ERR_INVALID_DATA): void {
    if (this.end - this.pos < n) fail(code, `${what}: needs ${n} bytes at offset ${this.pos}, ${Math.max(0, this.end - this.pos)} left`)
  }
  u8(): number {
    return this.src[this.pos++] as number
  }
  u16(): number {
    const v = this.view.getUint16(this.pos, true)
    this.pos += 2
    return v
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true)
    this.pos += 4
    return v
  }
  i32(): number {
    const v = this.view.getInt32(this.pos, true)
    this.pos += 4
    return v
  }
  /** A signed 64-bit integer: a number when it is a safe integer, else a bigint. */
  i64(): number | bigint {
    const low = this.view.getUint32(this.pos, true)
    const high = this.view.getInt32(this.pos + 4, true)
    this.pos += 8
    if (high >= -0x200000 && high < 0x200000) {
      const v = high * TWO_32 + low
      if (Number.isSafeInteger(v)) return v
    }
    return (BigInt(high) << 32n) | BigInt(low)
  }
  u64(): bigint {
    const v = this.view.getBigUint64(this.pos, true)
    this.pos += 8
    return v
  }
  f32(): number {
    const v = this.view.getFloat32(this.pos, true)
    this.pos += 4
    return v
  }
  f64(): number {
    const v = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }
}

/**
 * Godot's reading of `n` UTF-8 bytes at `start` (`String::append_utf8`): the text stops at the
 * first NUL byte; a leading byte order mark is skipped; anything that is not well-formed UTF-8
 * before the NUL (overlong forms, surrogates, code points past U+10FFFF, truncated sequences)
 * makes it `null`.
 */
export function readUtf8(src: Uint8Array, start: number, n: number): string | null {
  let end = start
  const stop = start + n
  let ascii = true
  while (end < stop) {
    const b = src[end] as number
    if (b === 0) break
    if (b > 0x7f) ascii = false
    end++
  }
  if (ascii && end - start <= 32) {
    let s = ''
    for (let i = start; i < end; i++) s += String.fromCharCode(src[i] as number)
    return s
  }
  try {
    // TextDecoder's defaults match Godot: fatal on malformed input, a leading BOM dropped.
    return strictUtf8.decode(src.subarray(start, end))
  } catch {
    return null
  }
}
