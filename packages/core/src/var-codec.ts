import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack'
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

/** Nesting deeper than this is refused both ways (arrays, maps, objects, Map and Set entries). */
const MAX_DEPTH = 100

type TypedArrayCtor = new (buffer: ArrayBuffer) => ArrayBufferView

/** Typed arrays by extension type (INT8_ARRAY … BIGUINT64_ARRAY); a Uint8Array is MessagePack's own `bin`. */
const typedArrays: [number, TypedArrayCtor][] = [
  [VarExtType.INT8_ARRAY, Int8Array],
  [VarExtType.UINT8_CLAMPED_ARRAY, Uint8ClampedArray],
  [VarExtType.INT16_ARRAY, Int16Array],
  [VarExtType.UINT16_ARRAY, Uint16Array],
  [VarExtType.INT32_ARRAY, Int32Array],
  [VarExtType.UINT32_ARRAY, Uint32Array],
  [VarExtType.FLOAT32_ARRAY, Float32Array],
  [VarExtType.FLOAT64_ARRAY, Float64Array],
  [VarExtType.BIGINT64_ARRAY, BigInt64Array],
  [VarExtType.BIGUINT64_ARRAY, BigUint64Array],
]

const text = new TextEncoder()
const untext = new TextDecoder()

/** Throws the reason bytes cannot be decoded (caught by {@link decodeVar}). */
function fail(reason: string): never {
  throw new RangeError(reason)
}

/**
 * wsmp's extension types (see {@link VarExtType}) on top of MessagePack's own, Date's timestamp
 * (type −1) included. Map and Set are encoded as their entries, with the same encoder, so their
 * contents may use the extensions too.
 */
const extensions = new ExtensionCodec()
extensions.register({
  type: VarExtType.BIGINT,
  encode: (value) => (typeof value === 'bigint' ? text.encode(value.toString()) : null),
  decode: (data) => {
    const digits = untext.decode(data)
    if (!/^-?\d+$/.test(digits)) fail('bigint')
    return BigInt(digits)
  },
})
for (const [type, Ctor] of typedArrays) {
  const size = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT
  extensions.register({
    type,
    encode: (value) => (value instanceof Ctor ? toBytes(value) : null),
    decode: (data) => {
      if (data.length % size) fail(Ctor.name)
      // Copied into a fresh, aligned buffer: the packet's bytes may start at any offset.
      return new Ctor(data.slice().buffer)
    },
  })
}
extensions.register({
  type: VarExtType.MAP,
  encode: (value) => (value instanceof Map ? encoder().encode([...value]) : null),
  decode: (data) => {
    const entries = decoder().decode(data)
    if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 2)) fail('Map')
    return new Map(entries as [unknown, unknown][])
  },
})
extensions.register({
  type: VarExtType.SET,
  encode: (value) => (value instanceof Set ? encoder().encode([...value]) : null),
  decode: (data) => {
    const items = decoder().decode(data)
    if (!Array.isArray(items)) fail('Set')
    return new Set(items)
  },
})
extensions.register({
  type: VarExtType.ARRAY_BUFFER,
  encode: (value) => (value instanceof ArrayBuffer ? new Uint8Array(value) : null),
  decode: (data) => data.slice().buffer,
})

// One encoder and one decoder for every peer, made on first use (a page that never calls putVar
// builds none). Both clone themselves when re-entered (a Map inside a Map). encoders[1] is for
// values with nothing only wsmp's extensions carry: it tries no extension per object.
const encoders: (Encoder | undefined)[] = []
let sharedDecoder: Decoder | null = null

function encoder(plain = false): Encoder {
  // MAX_DEPTH is enforced by checkValue, with Map and Set levels counted (the encoder's own limit
  // starts again inside each extension).
  return (encoders[+plain] ??= new Encoder({ extensionCodec: plain ? undefined : extensions, maxDepth: 4 * MAX_DEPTH }))
}

function decoder(): Decoder {
  return (sharedDecoder ??= new Decoder({ extensionCodec: extensions }))
}

/**
 * Throws when `item` nests deeper than {@link MAX_DEPTH} (Map and Set levels included; a cycle
 * nests without end) or holds an invalid Date, which MessagePack's timestamp cannot carry. Returns
 * whether it holds something only wsmp's extension types carry (bigint, typed arrays,
 * ArrayBuffer, Map, Set).
 */
function checkValue(item: unknown, depth = 1): boolean {
  if (typeof item !== 'object' || item === null) return typeof item === 'bigint'
  if (ArrayBuffer.isView(item) || item instanceof ArrayBuffer) return true
  if (item instanceof Date) {
    if (Number.isNaN(item.getTime())) fail('an invalid Date')
    return false
  }
  if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`)
  const entries = item instanceof Map ? [...item].flat() : item instanceof Set ? [...item] : null
  let extended = Boolean(entries)
  for (const child of entries ?? Object.values(item)) {
    if (checkValue(child, depth + 1)) extended = true
  }
  return extended
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
    bytes = encoder(!checkValue(value)).encode(value)
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
  try {
    const value = decoder().decode(bytes)
    checkValue(value)
    return { ok: true, value }
  } catch (err) {
    return { ok: false, error: ErrorCode.ERR_INVALID_DATA, reason: `getVar: not one MessagePack value (${decodeFailure(err as Error)})` }
  }
}

/** The decoder's complaint in words a reader of `getLastError()` understands. */
function decodeFailure(err: Error): string {
  const message = String(err?.message ?? err)
  if (/outside the bounds|Insufficient data/.test(message)) return 'truncated'
  if (/^Extra \d+ of/.test(message)) return `trailing bytes: ${message}`
  return message
}

/**
 * What `putVar`/`getVar` encode values with. {@link msgpackVarCodec} (the default) is
 * MessagePack; `@wsmp/godot` has Godot's Variant encoding (`var_to_bytes`), for Godot peers.
 */
export interface VarCodec {
  /** A name for messages ('msgpack', 'godot'). */
  readonly name: string
  /** Encodes a value; `ERR_OUT_OF_MEMORY` past `maxSize` bytes. Never throws. */
  encode(value: unknown, maxSize: number): EncodeVarResult
  /** Decodes exactly one value. Never throws. */
  decode(bytes: Uint8Array): DecodeVarResult
}

/** MessagePack, with wsmp's extension types: `putVar`/`getVar`'s default codec. */
export const msgpackVarCodec: VarCodec = { name: 'msgpack', encode: encodeVar, decode: decodeVar }
