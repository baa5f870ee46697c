import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ErrorCode } from '@wsmp/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  Callable,
  Color,
  EncodedObjectAsID,
  Float,
  NodePath,
  PackedStringArray,
  PackedVector2Array,
  PackedVector3Array,
  RID,
  Signal,
  StringName,
  TypedArray,
  TypedDictionary,
  VariantType as T,
  Vector2,
  Vector2i,
  Vector3,
  decodeCompressedVariant,
  decodeConfirmPath,
  decodeRemoteCall,
  decodeSimplifyPath,
  decodeVariant,
  encodeRemoteCall,
  encodeVariant,
} from '../src/index.js'
import { FIXTURES_DIR, hex, unhex } from './engine.js'
import { same, show, type VectorEntry } from './expected.js'
import type { RpcFixture } from './rpc-engine.test.js'

/**
 * Property tests, bounded in runs and time: the decoders turn any bytes — random, or valid ones
 * mutated — into a value or an ErrorCode with a reason, never an exception and never a hang; and
 * random Variant values survive encode → decode → encode.
 */

const ERROR_CODES = new Set<number>(Object.values(ErrorCode))
/** A generous bound per decode: these are microseconds normally; a hang would be seconds. */
const SLOW_MS = 250

const decoders: Record<string, (bytes: Uint8Array) => { ok: boolean; error?: number; reason?: string }> = {
  decodeVariant: (b) => decodeVariant(b),
  decodeVariantExact: (b) => decodeVariant(b, { exactFloats: true }),
  decodeCompressedVariant: (b) => decodeCompressedVariant(b),
  decodeRemoteCall: (b) => decodeRemoteCall(b),
  decodeSimplifyPath: (b) => decodeSimplifyPath(b),
  decodeConfirmPath: (b) => decodeConfirmPath(b),
}

/** Runs every decoder on `bytes`: each returns ok, or a known ErrorCode with a reason, quickly. */
function decodesSafely(bytes: Uint8Array): boolean {
  for (const [name, decode] of Object.entries(decoders)) {
    const started = performance.now()
    let result
    try {
      result = decode(bytes)
    } catch (err) {
      throw new Error(`${name} threw on ${hex(bytes).slice(0, 200)}: ${String(err)}`, { cause: err })
    }
    const took = performance.now() - started
    if (took > SLOW_MS) throw new Error(`${name} took ${took.toFixed(0)} ms on ${bytes.length} bytes`)
    // ERR_BUG is what the decoders return for an exception they did not expect: a bug.
    if (!result.ok && (!ERROR_CODES.has(result.error as number) || result.error === ErrorCode.ERR_BUG || typeof result.reason !== 'string' || result.reason.length < 10)) {
      throw new Error(`${name} failed without a proper code and reason: ${JSON.stringify(result)}`)
    }
  }
  return true
}

const vectors = (JSON.parse(readFileSync(resolve(FIXTURES_DIR, 'variants.json'), 'utf8')) as VectorEntry[]).map((v) => unhex(v.hex))
const rpcPackets = Object.values((JSON.parse(readFileSync(resolve(FIXTURES_DIR, 'rpc-capture.json'), 'utf8')) as RpcFixture).calls)
  .flat()
  .map(unhex)
const seeds = [...vectors, ...rpcPackets]

/** A valid packet, mutated: bytes overwritten, cut, inserted or removed; counts and headers made extreme. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(
      fc.tuple(
        fc.constantFrom('set', 'cut', 'insert', 'remove', 'u32', 'header'),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x3fffffff, 39, 24, 0x10018, 0x30000, 0xf0000),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([seed, edits]) => {
    let bytes = seed.slice()
    for (const [kind, at, byte, word] of edits) {
      const i = bytes.length > 0 ? at % bytes.length : 0
      if (kind === 'set' && bytes.length > 0) bytes[i] = byte
      else if (kind === 'cut') bytes = bytes.subarray(0, i)
      else if (kind === 'insert') bytes = new Uint8Array([...bytes.subarray(0, i), byte, ...bytes.subarray(i)])
      else if (kind === 'remove') bytes = new Uint8Array([...bytes.subarray(0, i), ...bytes.subarray(i + 1)])
      else if (bytes.length >= 4) {
        // A count or a header replaced by an extreme value, at a 4-byte boundary.
        const j = kind === 'header' ? 0 : i & ~3
        if (j + 4 <= bytes.length) new DataView(bytes.buffer, bytes.byteOffset).setUint32(j, word, true)
      }
    }
    return bytes
  })

describe('decoders on hostile bytes (fast-check)', () => {
  it('random bytes: a value or an ErrorCode with a reason, never a throw or a hang', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), decodesSafely), { numRuns: 3000, interruptAfterTimeLimit: 15_000 })
  })

  it('random bytes behind a valid header of every type', () => {
    const headed = fc.tuple(fc.integer({ min: 0, max: 38 }), fc.constantFrom(0, 1, 2, 3, 0xf), fc.uint8Array({ maxLength: 64 })).map(([type, flags, rest]) => {
      const bytes = new Uint8Array(4 + rest.length)
      new DataView(bytes.buffer).setUint32(0, type | (flags << 16), true)
      bytes.set(rest, 4)
      return bytes
    })
    fc.assert(fc.property(headed, decodesSafely), { numRuns: 3000, interruptAfterTimeLimit: 15_000 })
  })

  it('mutated Godot vectors and RPC packets', () => {
    fc.assert(fc.property(mutated, decodesSafely), { numRuns: 3000, interruptAfterTimeLimit: 15_000 })
  })

  it('huge declared sizes fail fast instead of allocating', () => {
    const started = performance.now()
    for (const type of [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38]) {
      const bytes = new Uint8Array(12)
      new DataView(bytes.buffer).setUint32(0, type, true)
      new DataView(bytes.buffer).setUint32(4, 0x7fffffff, true)
      expect(decodesSafely(bytes)).toBe(true)
    }
    // A million nested one-element arrays: refused at depth 1025, not recursed into.
    const deep = new Uint8Array(8 * 1_000_000)
    const view = new DataView(deep.buffer)
    for (let i = 0; i < deep.length; i += 8) {
      view.setUint32(i, 28, true)
      view.setUint32(i + 4, 1, true)
    }
    const r = decodeVariant(deep)
    expect(r.ok || r.error).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(performance.now() - started).toBeLessThan(5_000)
  })
})

// ---- round trips of random values ------------------------------------------------------------

/**
 * Strings that survive a round trip: Godot ends a string at a NUL and drops a leading byte order
 * mark when it reads one (so does decodeVariant; variant.test.ts checks both).
 */
const noNul = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !s.includes('\0') && !s.startsWith('\ufeff'))
const f32 = fc.float()
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
const u64 = fc.bigInt({ min: 1n, max: 2n ** 64n - 1n })
/** Ints that decode as what they were: safe integers as numbers, the rest of int64 as bigints. */
const int = fc.oneof(int32, fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) }), fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }))

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  int,
  fc.double().map((d) => new Float(d)),
  noNul,
  noNul.map((s) => new StringName(s)),
  fc
    .tuple(
      fc.array(
        noNul.filter((s) => s !== ''),
        { maxLength: 3 },
      ),
      fc.array(
        noNul.filter((s) => s !== ''),
        { maxLength: 2 },
      ),
      fc.boolean(),
    )
    .map(([n, s, a]) => NodePath.fromParts(n, s, a)),
  fc.tuple(f32, f32).map(([x, y]) => new Vector2(x, y)),
  fc.tuple(int32, int32).map(([x, y]) => new Vector2i(x, y)),
  fc.tuple(f32, f32, f32).map(([x, y, z]) => new Vector3(x, y, z)),
  fc.tuple(f32, f32, f32, f32).map(([r, g, b, a]) => new Color(r, g, b, a)),
  u64.map((id) => new RID(id)),
  u64.map((id) => new EncodedObjectAsID(id)),
  fc.tuple(u64, noNul).map(([id, name]) => new Signal(id, name)),
  fc.constant(new Callable()),
  fc.uint8Array({ maxLength: 9 }),
  fc.int32Array({ maxLength: 3 }),
  fc.bigInt64Array({ maxLength: 3 }),
  fc.float32Array({ maxLength: 3 }),
  fc.float64Array({ maxLength: 3 }),
  fc.array(noNul, { maxLength: 3 }).map((s) => new PackedStringArray(s)),
  fc.array(f32, { maxLength: 3 }).map((a) => new PackedVector2Array(Float32Array.from([...a, ...a]))),
  fc.array(f32, { maxLength: 2 }).map((a) => new PackedVector3Array(Float32Array.from([...a, ...a, ...a]))),
)

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('map'), tie('typed')),
  array: fc.array(tie('any'), { maxLength: 4 }),
  map: fc.array(fc.tuple(scalar, tie('any')), { maxLength: 4 }).map((entries) => new Map(entries)),
  typed: fc.oneof(
    fc.array(int32).map((items) => new TypedArray(T.INT, items)),
    fc
      .array(
        fc.double().map((d) => new Float(d)),
        { maxLength: 4 },
      )
      .map((items) => new TypedArray(T.FLOAT, items)),
    fc.array(noNul, { maxLength: 4 }).map((items) => new TypedArray(T.STRING, items)),
    fc.array(tie('array'), { maxLength: 3 }).map((items) => new TypedArray(T.ARRAY, items)),
    fc.array(fc.tuple(noNul, int32), { maxLength: 4 }).map((entries) => new TypedDictionary(T.STRING, T.INT, new Map(entries))),
  ),
})).any

describe('round trips of random values (fast-check)', () => {
  it('encode → decode gives the value back, and encoding it again gives the same bytes', () => {
    fc.assert(
      fc.property(value, (v) => {
        const encoded = encodeVariant(v)
        if (!encoded.ok) throw new Error(`${encoded.reason}: ${show(v)}`)
        const decoded = decodeVariant(encoded.bytes, { exactFloats: true })
        if (!decoded.ok) throw new Error(decoded.reason)
        if (!same(decoded.value, v)) throw new Error(`decoded ${show(decoded.value)}\nsent ${show(v)}`)
        const again = encodeVariant(decoded.value)
        return again.ok && hex(again.bytes) === hex(encoded.bytes)
      }),
      { numRuns: 1500, interruptAfterTimeLimit: 15_000 },
    )
  })

  it('RPCs of random arguments decode to what was encoded', () => {
    const call = fc.record({
      node: fc.oneof(fc.integer({ min: 0, max: 0x7fffffff }), noNul),
      method: fc.integer({ min: 0, max: 0xffff }),
      args: fc.array(value, { maxLength: 5 }),
    })
    fc.assert(
      fc.property(call, fc.boolean(), (c, wide) => {
        const encoded = encodeRemoteCall(c, { wideNodeId: wide })
        if (!encoded.ok) throw new Error(encoded.reason)
        const decoded = decodeRemoteCall(encoded.bytes, { exactFloats: true })
        if (!decoded.ok) throw new Error(decoded.reason)
        // An empty PackedByteArray alone reads back as no arguments, as in Godot.
        const args = c.args.length === 1 && c.args[0] instanceof Uint8Array && c.args[0].length === 0 ? [] : c.args
        return decoded.call.node === c.node && decoded.call.method === c.method && same(decoded.call.args, args)
      }),
      { numRuns: 800, interruptAfterTimeLimit: 15_000 },
    )
  })
})
