import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ErrorCode, decodeVar, encodeVar } from '../src/index.js'

/**
 * Property-based tests of the var codec: `decodeVar` turns any bytes into a value or
 * `ERR_INVALID_DATA` with a reason, never an exception; `encodeVar` → `decodeVar` gives back what
 * went in (JSON-like values, typed arrays, bigint, Map, Set, ArrayBuffer).
 */

const RUNS = { numRuns: 1000 }

/**
 * JSON-like values MessagePack carries as themselves. `-0` is stored as 0 (normalised below); an
 * own `__proto__` key is refused by the decoder (see the prototype-pollution test), so it is left
 * out of the round trip.
 */
const jsonLike = fc.jsonValue({ maxDepth: 4 }).filter((v) => !hasProtoKey(v))
const scalar = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double().filter((d) => !Object.is(d, -0)),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }),
)

const typedArray = fc.oneof(
  fc.int8Array(),
  fc.uint8ClampedArray(),
  fc.int16Array(),
  fc.uint16Array(),
  fc.int32Array(),
  fc.uint32Array(),
  fc.float32Array(),
  fc.float64Array(),
  fc.bigInt64Array(),
  fc.bigUint64Array(),
)

/** Values built from everything wsmp's codec promises to round trip, nested. */
const richValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, typedArray, fc.uint8Array({ maxLength: 16 }), tie('array'), tie('object'), tie('map'), tie('set')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(
    fc.string().filter((k) => k !== '__proto__'),
    tie('value'),
    { maxKeys: 4, noNullPrototype: true },
  ),
  map: fc.array(fc.tuple(scalar, tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
  set: fc.array(scalar, { maxLength: 4 }).map((items) => new Set(items)),
})).value

describe('decodeVar (property)', () => {
  it('never throws on any bytes: a value, or ERR_INVALID_DATA with a reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = decodeVar(bytes)
        if (!result.ok) {
          expect(result.error).toBe(ErrorCode.ERR_INVALID_DATA)
          expect(result.reason).toMatch(/^getVar: /)
        }
      }),
      { numRuns: 5000 },
    )
  })

  it('never throws on corrupted encodings of real values (mutated, truncated, extended)', () => {
    fc.assert(
      fc.property(richValue, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'grow'), (value, at, byte, how) => {
        const encoded = encodeVar(value)
        expect(encoded.ok).toBe(true)
        if (!encoded.ok) return
        const bytes = encoded.bytes.slice()
        let damaged: Uint8Array
        if (how === 'flip') {
          bytes[at % bytes.length] = byte
          damaged = bytes
        } else if (how === 'cut') {
          damaged = bytes.subarray(0, at % bytes.length)
        } else {
          damaged = Uint8Array.from([...bytes, byte])
        }
        const result = decodeVar(damaged)
        if (!result.ok) expect(result.error).toBe(ErrorCode.ERR_INVALID_DATA)
        // Trailing bytes after one complete value are not "exactly one value".
        if (how === 'grow') expect(result.ok).toBe(false)
      }),
      RUNS,
    )
  })

  it('cannot be used to pollute prototypes: a map with a __proto__ key is ERR_INVALID_DATA', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 2 }), (inner) => {
        const hostile = JSON.parse(`{"__proto__": ${JSON.stringify(inner)}, "polluted": true}`) as object
        const encoded = encodeVar(hostile)
        expect(encoded.ok).toBe(true)
        if (!encoded.ok) return
        const result = decodeVar(encoded.bytes)
        expect(result.ok).toBe(false)
        if (!result.ok) expect(result.reason).toMatch(/__proto__/)
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
      }),
      { numRuns: 200 },
    )
  })

  it('rejects malformed payloads of wsmp extension types with ERR_INVALID_DATA', () => {
    // ext 8: fixext/ext8 headers with wsmp types whose bodies do not fit the type.
    const cases: number[][] = [
      [0xc7, 3, 4, 1, 2, 3], // Int16Array (4) with 3 bytes
      [0xc7, 2, 1, 0x31, 0x2e], // bigint (1) "1."
      [0xd4, 12, 0x01], // Map (12) whose body is 1, not an array of pairs
      [0xd5, 13, 0x91, 0xc1], // Set (13) with a never-used byte inside
    ]
    for (const bytes of cases) {
      const result = decodeVar(Uint8Array.from(bytes))
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.error).toBe(ErrorCode.ERR_INVALID_DATA)
    }
  })
})

describe('encodeVar → decodeVar round trip (property)', () => {
  it('JSON-like values come back equal', () => {
    fc.assert(
      fc.property(jsonLike, (value) => {
        const encoded = encodeVar(value)
        expect(encoded.ok).toBe(true)
        if (!encoded.ok) return
        const decoded = decodeVar(encoded.bytes)
        expect(decoded.ok).toBe(true)
        if (decoded.ok) expect(decoded.value).toEqual(normaliseNegativeZero(value))
      }),
      RUNS,
    )
  })

  it('typed arrays keep their type and bytes, whatever the alignment of the packet', () => {
    fc.assert(
      fc.property(typedArray, fc.integer({ min: 0, max: 7 }), (value, shift) => {
        const encoded = encodeVar(value)
        expect(encoded.ok).toBe(true)
        if (!encoded.ok) return
        // The packet may sit at any offset of a larger buffer (a subarray of a WebSocket message).
        const host = new Uint8Array(encoded.bytes.length + shift)
        host.set(encoded.bytes, shift)
        const decoded = decodeVar(host.subarray(shift))
        expect(decoded.ok).toBe(true)
        if (!decoded.ok) return
        expect((decoded.value as object).constructor).toBe(value.constructor)
        expect(bytesOf(decoded.value as ArrayBufferView)).toEqual(bytesOf(value))
      }),
      RUNS,
    )
  })

  it('bigint, Map, Set, ArrayBuffer and nested mixes come back as themselves', () => {
    fc.assert(
      fc.property(richValue, (value) => {
        const encoded = encodeVar(value)
        expect(encoded.ok).toBe(true)
        if (!encoded.ok) return
        const decoded = decodeVar(encoded.bytes)
        expect(decoded.ok).toBe(true)
        if (decoded.ok) expect(decoded.value).toStrictEqual(value)
      }),
      RUNS,
    )
  })

  it('ArrayBuffer round trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const buffer = bytes.slice().buffer
        const encoded = encodeVar(buffer)
        expect(encoded.ok).toBe(true)
        if (!encoded.ok) return
        const decoded = decodeVar(encoded.bytes)
        expect(decoded.ok).toBe(true)
        if (!decoded.ok) return
        expect(decoded.value).toBeInstanceOf(ArrayBuffer)
        expect(new Uint8Array(decoded.value as ArrayBuffer)).toEqual(bytes)
      }),
      RUNS,
    )
  })

  it('a value over maxSize fails with ERR_OUT_OF_MEMORY, never a truncated encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 300 }), (bytes, maxSize) => {
        const full = encodeVar(bytes)
        expect(full.ok).toBe(true)
        if (!full.ok) return
        const limited = encodeVar(bytes, maxSize)
        if (full.bytes.length <= maxSize) {
          expect(limited).toEqual(full)
        } else {
          expect(limited.ok).toBe(false)
          if (!limited.ok) expect(limited.error).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
        }
      }),
      RUNS,
    )
  })
})

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}

/** MessagePack stores -0 as the integer 0. */
function normaliseNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0
  if (Array.isArray(value)) return value.map(normaliseNegativeZero)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normaliseNegativeZero(v)]))
  }
  return value
}

function hasProtoKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasProtoKey)
  if (value !== null && typeof value === 'object') {
    return Object.keys(value).some((k) => k === '__proto__' || hasProtoKey((value as Record<string, unknown>)[k]))
  }
  return false
}
