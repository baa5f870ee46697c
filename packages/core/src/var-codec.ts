import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack'
import { ErrorCode } from './error-code.js'

/** Godot's default `encode_buffer_max_size`: 8 MiB. */
export const DEFAULT_ENCODE_BUFFER_MAX_SIZE = 8 * 1024 * 1024
/** The smallest and largest values `encodeBufferMaxSize` accepts (Godot's bounds). */
export const MIN_ENCODE_BUFFER_MAX_SIZE = 1024
export const MAX_ENCODE_BUFFER_MAX_SIZE = 256 * 1024 * 1024

/**
 * MessagePack extension types wsmp registers so that values survive the round trip that plain
 * MessagePack would flatten: typed arrays keep their type (bytes in little-endian order), `bigint`,
 * `Map`, `Set` and `ArrayBuffer` come back as themselves. `Uint8Array` is MessagePack's own `bin`,
 * `Date` its timestamp extension.
 */
export const VarExtType = {
  BIGINT: 1,
  INT8_ARRAY: 2,
  UINT8_CLAMPED_ARRAY: 3,
  INT16_ARRAY: 4,
  UINT16_ARRAY: 5,
  INT32_ARRAY: 6,
  UINT32_ARRAY: 7,
  FLOAT32_ARRAY: 8,
  FLOAT64_ARRAY: 9,
  BIGINT64_ARRAY: 10,
  BIGUINT64_ARRAY: 11,
  MAP: 12,
  SET: 13,
  ARRAY_BUFFER: 14,
} as const

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

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}

const extensionCodec = new ExtensionCodec()
extensionCodec.register({
  type: VarExtType.BIGINT,
  encode: (value) => (typeof value === 'bigint' ? text.encode(value.toString()) : null),
  decode: (data) => {
    const digits = untext.decode(data)
    if (!/^-?\d+$/.test(digits)) throw new RangeError('malformed bigint')
    return BigInt(digits)
  },
})
for (const [type, Ctor] of typedArrays) {
  extensionCodec.register({
    type,
    encode: (value) => (value instanceof Ctor ? bytesOf(value) : null),
    decode: (data) => {
      if (data.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) throw new RangeError(`malformed ${Ctor.name}`)
      // Copy into a fresh, aligned buffer: the packet's bytes may start at any offset.
      return new Ctor(data.slice().buffer)
    },
  })
}
extensionCodec.register({
  type: VarExtType.MAP,
  encode: (value) => (value instanceof Map ? encoder.encode([...value]) : null),
  decode: (data) => {
    const entries = decoder.decode(data)
    if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 2)) {
      throw new RangeError('malformed Map')
    }
    return new Map(entries as [unknown, unknown][])
  },
})
extensionCodec.register({
  type: VarExtType.SET,
  encode: (value) => (value instanceof Set ? encoder.encode([...value]) : null),
  decode: (data) => {
    const items = decoder.decode(data)
    if (!Array.isArray(items)) throw new RangeError('malformed Set')
    return new Set(items)
  },
})
extensionCodec.register({
  type: VarExtType.ARRAY_BUFFER,
  encode: (value) => (value instanceof ArrayBuffer ? new Uint8Array(value) : null),
  decode: (data) => data.slice().buffer,
})

const encoder = new Encoder({ extensionCodec })
const decoder = new Decoder({ extensionCodec })

/** The outcome of {@link encodeVar}: bytes, or an error code with a reason. */
export type EncodeVarResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; error: ErrorCode; reason: string }

/** The outcome of {@link decodeVar}: a value, or an error code with a reason. */
export type DecodeVarResult = { ok: true; value: unknown } | { ok: false; error: ErrorCode; reason: string }

/**
 * Encodes a value as MessagePack (with wsmp's extension types). Fails with `ERR_OUT_OF_MEMORY` past
 * `maxSize` bytes and `ERR_INVALID_PARAMETER` for values MessagePack cannot carry (functions,
 * symbols, nesting deeper than 100).
 *
 * Godot: the encoding half of `PacketPeer.put_var` (Godot marshals Variants; wsmp uses MessagePack).
 */
export function encodeVar(value: unknown, maxSize = DEFAULT_ENCODE_BUFFER_MAX_SIZE): EncodeVarResult {
  let bytes: Uint8Array
  try {
    bytes = encoder.encode(value)
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
 * bytes that are not exactly one valid value; never throws.
 *
 * Godot: the decoding half of `PacketPeer.get_var`.
 */
export function decodeVar(bytes: Uint8Array): DecodeVarResult {
  try {
    return { ok: true, value: decoder.decode(bytes) }
  } catch (err) {
    return { ok: false, error: ErrorCode.ERR_INVALID_DATA, reason: `getVar: packet is not a valid MessagePack value: ${(err as Error).message}` }
  }
}
