import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ErrorCode } from '@wsmp/core'
import { describe, expect, it } from 'vitest'
import {
  AABB,
  Basis,
  EncodedObjectAsID,
  PackedVector2Array,
  PackedVector3Array,
  PackedVector4Array,
  Plane,
  Projection,
  Quaternion,
  Rect2,
  Transform2D,
  Transform3D,
  TypedArray,
  Vector2,
  Vector3,
  Vector4,
  decodeVariant,
  encodeVariant,
  md5Hex,
} from '../src/index.js'
import { decodeCases } from './decode-cases.js'
import { FIXTURES_DIR, hex, unhex } from './engine.js'
import { same, show } from './expected.js'
import type { DecodeOutcome } from './variant-engine.test.js'

/**
 * Malformed and odd inputs (test/decode-cases.ts) against what Godot's bytes_to_var made of them
 * (test/fixtures/decode-cases.json, from the real engine): the same error code, or the same value.
 */
const outcomes = JSON.parse(readFileSync(resolve(FIXTURES_DIR, 'decode-cases.json'), 'utf8')) as Record<string, DecodeOutcome>

/** `value` with its EncodedObjectAsIDs replaced, depth first, by ones carrying `ids`. */
function withObjectIds(value: unknown, ids: string[]): unknown {
  if (value instanceof EncodedObjectAsID) return new EncodedObjectAsID(BigInt(ids.shift() ?? '0'))
  if (Array.isArray(value)) return value.map((v) => withObjectIds(v, ids))
  if (value instanceof TypedArray)
    return new TypedArray(
      value.elementType,
      value.items.map((v) => withObjectIds(v, ids)),
    )
  return value
}

const f = Math.fround
const v2 = (v: Vector2): Vector2 => new Vector2(f(v.x), f(v.y))
const v3 = (v: Vector3): Vector3 => new Vector3(f(v.x), f(v.y), f(v.z))
const v4 = (v: Vector4): Vector4 => new Vector4(f(v.x), f(v.y), f(v.z), f(v.w))

/**
 * `value` as a single-precision Godot holds it: real_t components sent as float64 (the 64-bit flag,
 * written by double-precision builds) rounded to float32. This codec keeps them as doubles on
 * purpose (see the README); the engine here is a single-precision build and rounds them.
 */
function singlePrecision(value: unknown): unknown {
  if (value instanceof Vector2) return v2(value)
  if (value instanceof Vector3) return v3(value)
  if (value instanceof Vector4) return v4(value)
  if (value instanceof Quaternion) return new Quaternion(f(value.x), f(value.y), f(value.z), f(value.w))
  if (value instanceof Rect2) return new Rect2(v2(value.position), v2(value.size))
  if (value instanceof Plane) return new Plane(v3(value.normal), f(value.d))
  if (value instanceof AABB) return new AABB(v3(value.position), v3(value.size))
  if (value instanceof Transform2D) return new Transform2D(v2(value.x), v2(value.y), v2(value.origin))
  if (value instanceof Basis) return new Basis(v3(value.x), v3(value.y), v3(value.z))
  if (value instanceof Transform3D) return new Transform3D(singlePrecision(value.basis) as Basis, v3(value.origin))
  if (value instanceof Projection) return new Projection(v4(value.x), v4(value.y), v4(value.z), v4(value.w))
  if (value instanceof PackedVector2Array) return new PackedVector2Array(Float32Array.from(value.data))
  if (value instanceof PackedVector3Array) return new PackedVector3Array(Float32Array.from(value.data))
  if (value instanceof PackedVector4Array) return new PackedVector4Array(Float32Array.from(value.data))
  return value
}

describe('decodeVariant on malformed and odd bytes, as Godot', () => {
  it('has an outcome from the engine for every case', () => {
    expect(Object.keys(outcomes).sort()).toEqual(Object.keys(decodeCases).sort())
  })

  it.each(Object.entries(outcomes))('%s', (name, outcome) => {
    const input = decodeCases[name] ?? ''
    expect(md5Hex(input), 'the case changed since the fixture was made (UPDATE_GODOT_FIXTURES=1 with the engine)').toBe(outcome.inputMd5)
    const ours = decodeVariant(unhex(input), { exactFloats: true })
    if (outcome.godot !== 'OK') {
      expect(ours.ok, ours.ok ? show(ours.value) : '').toBe(false)
      if (!ours.ok) {
        expect(ours.error).toBe(ErrorCode[outcome.godot as keyof typeof ErrorCode])
        expect(ours.reason.length).toBeGreaterThan(10)
      }
      return
    }
    expect(ours.ok, ours.ok ? '' : ours.reason).toBe(true)
    if (!ours.ok) return
    // What Godot decoded, as Godot re-encodes it: the same bytes as ours re-encoded…
    const again = encodeVariant(ours.value)
    if (outcome.decodedMd5 !== undefined) {
      expect(again.ok && md5Hex(hex(again.bytes))).toBe(outcome.decodedMd5)
      return
    }
    if (again.ok && hex(again.bytes) === outcome.decoded) return
    // …or the same value (Godot leaves NodePath padding unwritten; var_to_bytes writes an
    // EncodedObjectAsID's own id, so the ids it carried come separately).
    const godot = decodeVariant(unhex(outcome.decoded ?? ''), { exactFloats: true })
    expect(godot.ok).toBe(true)
    if (godot.ok) {
      const theirs = withObjectIds(godot.value, [...(outcome.objectIds ?? [])])
      const mine = singlePrecision(ours.value)
      expect(same(mine, theirs), `ours ${show(mine)}\nGodot's ${show(theirs)}`).toBe(true)
    }
  })
})
