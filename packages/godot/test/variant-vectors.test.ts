import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeVariant, encodeVariant } from '../src/index.js'
import { FIXTURES_DIR, hex, unhex } from './engine.js'
import { expectedValue, same, show, withoutFloats, zeroUnwritten, type VectorEntry } from './expected.js'

/**
 * Godot's own bytes (test/fixtures/variants.json, written by test/godot/vectors.gd from the real
 * engine; variant-engine.test.ts keeps it current) against the codec, both ways.
 */
const vectors = JSON.parse(readFileSync(resolve(FIXTURES_DIR, 'variants.json'), 'utf8')) as VectorEntry[]

describe('Godot 4 Variant vectors', () => {
  it('cover every Variant type the codec supports', () => {
    const types = new Set(vectors.map((v) => unhex(v.hex)[0]))
    // All 39 types but OBJECT-by-value (refused); Callable and Signal included.
    for (let type = 0; type < 39; type++) expect(types.has(type), `no vector of type ${type}`).toBe(true)
    expect(vectors.length).toBeGreaterThan(140)
  })

  it.each(vectors.map((v) => [v.name, v] as const))("%s: decodes to the expected value and encodes to Godot's bytes", (_name, entry) => {
    const expected = expectedValue(entry)
    expect(expected, `no expected value for ${entry.name} in test/expected.ts`).not.toBeUndefined()
    const bytes = unhex(entry.hex)

    const exact = decodeVariant(bytes, { exactFloats: true })
    expect(exact.ok, exact.ok ? '' : exact.reason).toBe(true)
    if (exact.ok) expect(same(exact.value, expected), `decoded ${show(exact.value)}\nexpected ${show(expected)}`).toBe(true)

    const plain = decodeVariant(bytes)
    if (plain.ok) expect(same(plain.value, withoutFloats(expected)), `decoded ${show(plain.value)}`).toBe(true)

    const encoded = encodeVariant(expected)
    expect(encoded.ok, encoded.ok ? '' : encoded.reason).toBe(true)
    if (encoded.ok) expect(hex(encoded.bytes)).toBe(hex(zeroUnwritten(bytes, entry.unwritten)))
  })
})
