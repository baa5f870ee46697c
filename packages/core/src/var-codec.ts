import { toBytes } from './bytes.js'
import { ErrorCode } from './error-code.js'

/** Godot's default `encode_buffer_max_size`: 8 MiB. */
export const DEFAULT_ENCODE_BUFFER_MAX_SIZE = 8 * 1024 * 1024
/** The smallest value `encodeBufferMaxSize` accepts (Godot's bound): 1 KiB. */
export const MIN_ENCODE_BUFFER_MAX_SIZE = 1024
/** The largest value `encodeBufferMaxSize` accepts (Godot's bound): 256 MiB. */
export const MAX_ENCODE_BUFFER_MAX_SIZE = 256 * 1024 * 1024

/**
 * MessagePack extension types wsmp registers so that values survive the round trip that plain
 * MessagePack would flatten: typed arrays keep their type (bytes in little-endian order), `bigint`,
 * `Map`, `Set` and `ArrayBuffer` come back as themselves. `Uint8Array` is MessagePack's own `bin`,
 * `Date` its timestamp extension (type −1).
 *
 * Godot: none (Godot marshals its own Variant types; these play their part for JS values).
 */
export const VarExtType = {
  /** `bigint`, as its decimal digits. */
  BIGINT: 1,
  /** `Int8Array`. */
  INT8_ARRAY: 2,
  /** `Uint8ClampedArray`. */
  UINT8_CLAMPED_ARRAY: 3,
  /** `Int16Array`. */
  INT16_ARRAY: 4,
  /** `Uint16Array`. */
  UINT16_ARRAY: 5,
  /** `Int32Array`. */
  INT32_ARRAY: 6,
  /** `Uint32Array`. */
  UINT32_ARRAY: 7,
  /** `Float32Array`. */
  FLOAT32_ARRAY: 8,
  /** `Float64Array`. */
  FLOAT64_ARRAY: 9,
  /** `BigInt64Array`. */
  BIGINT64_ARRAY: 10,
  /** `BigUint64Array`. */
  BIGUINT64_ARRAY: 11,
  /** `Map`, as a MessagePack array of `[key, value]` pairs. */
  MAP: 12,
  /** `Set`, as a MessagePack array of its items. */
  SET: 13,
  /** `ArrayBuffer`, its bytes. */
  ARRAY_BUFFER: 14,
} as const

// This is a small MessagePack codec of our own (spec: github.com/msgpack/msgpack/blob/master/spec.md)
// rather than @msgpack/msgpack, which was a third of the script-tag bundle. It writes the same bytes
// as @msgpack/msgpack 3 with wsmp's extensions registered (the tests check both ways against it).

/** Nesting deeper than this is refused both ways (arrays, maps, objects, Map and Set entries). */
const MAX_DEPTH = 100
const TOO_DEEP = `nesting deeper than ${MAX_DEPTH}`
/** MessagePack's timestamp extension, used for `Date`. */
const TIMESTAMP = -1
const TWO_32 = 2 ** 32
const EMPTY = new Uint8Array(0)

/** Throws the reason a value cannot be encoded or bytes cannot be decoded. */
function fail(reason: string): never {
  throw new RangeError(reason)
}

type TypedArrayCtor =
  | Int8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor

/** Typed arrays by extension type − 2 (INT8_ARRAY … BIGUINT64_ARRAY). */
const typedArrays: TypedArrayCtor[] = [
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
]

const text = new TextEncoder()
/** float 64: the tag, then the value, big-endian. */
const float = new DataView(Uint8Array.of(0xcb, 0, 0, 0, 0, 0, 0, 0, 0).buffer)
const untext = new TextDecoder()

// ---- encoding --------------------------------------------------------------------------------

let out: Uint8Array = EMPTY
let pos = 0

/** Reserves `n` bytes at the end of the output and returns where they start. */
function room(n: number): number {
  const at = pos
  pos += n
  if (pos > out.length) {
    const grown = new Uint8Array(Math.max(pos * 2, 64))
    grown.set(out.subarray(0, at))
    out = grown
  }
  return at
}

/** Writes the low `size` bytes of an integer, big-endian (two's complement for negatives). */
function be(value: number, size = 1): void {
  const at = room(size)
  for (let i = size - 1; i >= 0; i--, value = Math.floor(value / 256)) out[at + i] = value & 0xff
}

function raw(bytes: Uint8Array): void {
  const at = room(bytes.length)
  out.set(bytes, at)
}

/** A length header: `fix + n` below `limit`, else the 8-bit (when `t8`), 16- or 32-bit (`t16 + 1`) form. */
function length(n: number, fix: number, limit: number, t8: number, t16: number): void {
  if (n < limit) be(fix + n)
  else if (t8 && n < 0x100) be(t8 * 256 + n, 2)
  else if (n < 0x10000) {
    be(t16)
    be(n, 2)
  } else {
    be(t16 + 1)
    be(n, 4)
  }
}

/** An extension: the smallest header for its size, the type, the bytes. */
function ext(type: number, bytes: Uint8Array): void {
  const fix = [1, 2, 4, 8, 16].indexOf(bytes.length)
  if (fix < 0) length(bytes.length, 0, 0, 0xc7, 0xc8)
  else be(0xd4 + fix)
  be(type)
  raw(bytes)
}

/** Runs `fill` on a fresh output and returns what it wrote, leaving any encoding in progress untouched. */
function sub(fill: () => void): Uint8Array {
  const [outerOut, outerPos] = [out, pos]
  out = EMPTY
  pos = 0
  try {
    fill()
    return out.subarray(0, pos)
  } finally {
    out = outerOut
    pos = outerPos
  }
}

function write(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) fail(TOO_DEEP)
  if (value == null) return be(0xc0)
  if (typeof value === 'boolean') return be(value ? 0xc3 : 0xc2)
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      float.setFloat64(1, value)
      return raw(new Uint8Array(float.buffer))
    }
    if (value >= -0x20 && value < 0x80) return be(value)
    const k =
      value >= 0
        ? value < 0x100 ? 0 : value < 0x10000 ? 1 : value < TWO_32 ? 2 : 3
        : value >= -0x80 ? 0 : value >= -0x8000 ? 1 : value >= -0x80000000 ? 2 : 3
    be((value >= 0 ? 0xcc : 0xd0) + k)
    return be(value, 1 << k)
  }
  if (typeof value === 'string') {
    const bytes = text.encode(value)
    length(bytes.length, 0xa0, 32, 0xd9, 0xda)
    return raw(bytes)
  }
  if (typeof value === 'bigint') return ext(VarExtType.BIGINT, text.encode(value.toString()))
  if (typeof value !== 'object') fail(`cannot encode a ${typeof value}`)
  if (value instanceof Date) {
    const ms = value.getTime()
    if (Number.isNaN(ms)) fail('cannot encode an invalid Date')
    const sec = Math.floor(ms / 1000)
    const nsec = (ms - sec * 1000) * 1e6
    // timestamp 32 (whole seconds that fit), 64 (34-bit seconds), else 96.
    return ext(
      TIMESTAMP,
      sub(() => {
        if (sec < 0 || sec >= 2 ** 34) {
          be(nsec, 4)
          be(sec, 8)
        } else {
          if (nsec || sec >= TWO_32) be(nsec * 4 + Math.floor(sec / TWO_32), 4)
          be(sec, 4)
        }
      }),
    )
  }
  const typed = typedArrays.findIndex((Ctor) => value instanceof Ctor)
  if (typed >= 0) return ext(typed + 2, toBytes(value as ArrayBufferView))
  if (value instanceof Map || value instanceof Set) {
    return ext(value instanceof Map ? VarExtType.MAP : VarExtType.SET, sub(() => write([...value], depth + 1)))
  }
  if (value instanceof ArrayBuffer) return ext(VarExtType.ARRAY_BUFFER, new Uint8Array(value))
  if (Array.isArray(value)) {
    length(value.length, 0x90, 16, 0, 0xdc)
    for (const item of value) write(item, depth + 1)
    return
  }
  if (ArrayBuffer.isView(value)) {
    length(value.byteLength, 0, 0, 0xc4, 0xc5)
    return raw(toBytes(value))
  }
  const keys = Object.keys(value)
  length(keys.length, 0x80, 16, 0, 0xde)
  for (const key of keys) {
    write(key, depth + 1)
    write((value as Record<string, unknown>)[key], depth + 1)
  }
}


// ---- decoding --------------------------------------------------------------------------------

let src: Uint8Array = EMPTY
let at = 0

/** Consumes `n` bytes and returns where they start; throws past the end. */
function take(n: number): number {
  if ((at += n) > src.length) fail('truncated')
  return at - n
}

/** Reads an `n`-byte big-endian integer. */
function num(n: number, signed = false): number {
  if (n === 8) return num(4, signed) * TWO_32 + num(4)
  const start = take(n)
  let value = 0
  for (let i = 0; i < n; i++) value = value * 256 + (src[start + i] as number)
  return signed && (src[start] as number) > 0x7f ? value - 2 ** (8 * n) : value
}


function read(depth: number): unknown {
  if (depth > MAX_DEPTH) fail(TOO_DEEP)
  const b = src[take(1)] as number
  // Positive and negative fixint.
  if (b < 0x80 || b > 0xdf) return (b << 24) >> 24
  // fixmap, fixarray, fixstr.
  if (b < 0xc0) return b < 0x90 ? readMap(b & 15, depth) : b < 0xa0 ? readArray(b & 15, depth) : readString(b & 31)
  // str 8/16/32, array 16/32, map 16/32.
  if (b > 0xd8) return b < 0xdc ? readString(num(1 << (b - 0xd9))) : b < 0xde ? readArray(num(2 << (b - 0xdc)), depth) : readMap(num(2 << (b - 0xde)), depth)
  // fixext 1 … 16; uint 8 … 64 and int 8 … 64.
  if (b > 0xcb) return b > 0xd3 ? readExt(1 << (b - 0xd4), depth) : num(1 << ((b - 0xcc) & 3), b > 0xcf)
  // float 32/64.
  if (b > 0xc9) {
    const size = b < 0xcb ? 4 : 8
    const view = new DataView(src.buffer, src.byteOffset + take(size), size)
    return size < 8 ? view.getFloat32(0) : view.getFloat64(0)
  }
  // ext 8/16/32.
  if (b > 0xc6) return readExt(num(1 << (b - 0xc7)), depth)
  // bin 8/16/32: a copy, so the value does not pin the packet's buffer.
  if (b > 0xc3) {
    const n = num(1 << (b - 0xc4))
    return src.slice(take(n), at)
  }
  if (b === 0xc1) fail('type byte 0xc1')
  // nil, false, true.
  return b < 0xc2 ? null : b > 0xc2
}

function readString(n: number): string {
  const start = take(n)
  return untext.decode(src.subarray(start, at))
}

function readArray(n: number, depth: number): unknown[] {
  const items: unknown[] = []
  // Every item takes at least one byte, so a huge announced length fails at the end of the data.
  for (let i = n; i > 0; i--) items.push(read(depth + 1))
  return items
}

function readMap(n: number, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {}
  for (let i = n; i > 0; i--) {
    const key = read(depth + 1)
    if ((typeof key !== 'string' && typeof key !== 'number') || key === '__proto__') fail(`map key ${String(key)}`)
    object[key] = read(depth + 1)
  }
  return object
}

function readExt(n: number, depth: number): unknown {
  const type = num(1, true)
  if (type === TIMESTAMP) {
    let sec: number
    let nsec = 0
    if (n === 4) sec = num(4)
    else if (n === 8) {
      const high = num(4)
      sec = (high & 3) * TWO_32 + num(4)
      nsec = high >>> 2
    } else if (n === 12) {
      nsec = num(4)
      sec = num(8, true)
    } else fail('timestamp size')
    return new Date(sec * 1e3 + nsec / 1e6)
  }
  const start = take(n)
  const end = at
  const body = src.subarray(start, end)
  if (type === VarExtType.BIGINT) {
    const digits = untext.decode(body)
    if (!/^-?\d+$/.test(digits)) fail('bigint')
    return BigInt(digits)
  }
  const Ctor = typedArrays[type - 2]
  if (Ctor) {
    if (n % Ctor.BYTES_PER_ELEMENT) fail(Ctor.name)
    // Copy into a fresh, aligned buffer: the packet's bytes may start at any offset.
    return new Ctor(body.slice().buffer)
  }
  if (type === VarExtType.MAP || type === VarExtType.SET) {
    at = start
    const items = read(depth + 1)
    const isMap = type === VarExtType.MAP
    if (at !== end || !Array.isArray(items) || (isMap && !items.every((e) => Array.isArray(e) && e.length === 2))) {
      fail(isMap ? 'Map' : 'Set')
    }
    return isMap ? new Map(items as [unknown, unknown][]) : new Set(items)
  }
  if (type === VarExtType.ARRAY_BUFFER) return body.slice().buffer
  // An extension wsmp does not know: handed over as is.
  return { type, data: body.slice() }
}

// ---- API -------------------------------------------------------------------------------------

/** The outcome of {@link encodeVar}: bytes, or an error code with a reason. */
export type EncodeVarResult =
  | {
      /** Encoded. */
      ok: true
      /** The MessagePack bytes. */
      bytes: Uint8Array
    }
  | {
      /** Not encoded. */
      ok: false
      /** `ERR_INVALID_PARAMETER` or `ERR_OUT_OF_MEMORY`. */
      error: ErrorCode
      /** Why, for `getLastError()`. */
      reason: string
    }

/** The outcome of {@link decodeVar}: a value, or an error code with a reason. */
export type DecodeVarResult =
  | {
      /** Decoded. */
      ok: true
      /** The value. */
      value: unknown
    }
  | {
      /** Not one valid value. */
      ok: false
      /** `ERR_INVALID_DATA`. */
      error: ErrorCode
      /** Why, for `getLastError()`. */
      reason: string
    }

/**
 * Encodes a value as MessagePack (with wsmp's extension types). Fails with `ERR_OUT_OF_MEMORY` past
 * `maxSize` bytes and `ERR_INVALID_PARAMETER` for values MessagePack cannot carry (functions,
 * symbols, invalid dates, nesting deeper than 100).
 *
 * Godot: the encoding half of `PacketPeer.put_var` (Godot marshals Variants; wsmp uses MessagePack).
 */
export function encodeVar(value: unknown, maxSize = DEFAULT_ENCODE_BUFFER_MAX_SIZE): EncodeVarResult {
  let bytes: Uint8Array
  try {
    bytes = sub(() => write(value, 1))
  } catch (err) {
    return { ok: false, error: ErrorCode.ERR_INVALID_PARAMETER, reason: `putVar: cannot encode value: ${(err as Error).message}` }
  }
  if (bytes.byteLength > maxSize) {
    return {
      ok: false,
      error: ErrorCode.ERR_OUT_OF_MEMORY,
      reason: `putVar: encoded value is ${bytes.byteLength} bytes, over encodeBufferMaxSize (${maxSize})`,
    }
  }
  return { ok: true, bytes }
}

/**
 * Decodes one MessagePack value (with wsmp's extension types). Fails with `ERR_INVALID_DATA` for
 * bytes that are not exactly one valid value (truncated, trailing bytes, the unused type byte 0xc1,
 * map keys other than strings and numbers, the key `__proto__`, nesting deeper than 100); never
 * throws.
 *
 * Godot: the decoding half of `PacketPeer.get_var`.
 */
export function decodeVar(bytes: Uint8Array): DecodeVarResult {
  src = bytes
  at = 0
  try {
    const value = read(1)
    if (at !== bytes.length) fail('trailing bytes')
    return { ok: true, value }
  } catch (err) {
    return { ok: false, error: ErrorCode.ERR_INVALID_DATA, reason: `getVar: not one MessagePack value (${(err as Error).message})` }
  } finally {
    src = EMPTY
  }
}
