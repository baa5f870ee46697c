import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeVariant, md5Hex } from '../src/index.js'
import { decodeCases } from './decode-cases.js'
import { FIXTURES_DIR, HAS_GODOT, NO_GODOT, UPDATE_FIXTURES, hex, linesWith, runGodot, tempJson, unhex } from './engine.js'
import { expectedValue, zeroUnwritten, type VectorEntry } from './expected.js'

/**
 * Live, against the real engine (GODOT4_BIN, else ../shared/godot/godot4): the committed fixtures
 * are what Godot writes today, and Godot reads what this codec writes. With
 * UPDATE_GODOT_FIXTURES=1 the fixtures are rewritten from the engine instead.
 */

const VARIANTS = resolve(FIXTURES_DIR, 'variants.json')
const DECODE_CASES = resolve(FIXTURES_DIR, 'decode-cases.json')
/** Decoded bytes longer than this (in hex digits) are kept as their MD5. */
const LONG = 512

/** What Godot made of one decode case. */
export interface DecodeOutcome {
  /** The MD5 of the input's hex (the input is in test/decode-cases.ts). */
  inputMd5: string
  /** `OK`, or the name of the error Godot returned (`ERR_INVALID_DATA` …). */
  godot: string
  /** For OK: var_to_bytes of what bytes_to_var gave, as hex… */
  decoded?: string
  /** …or, when that is long (the nesting cases), its MD5. */
  decodedMd5?: string
  /** For OK: the ids of the EncodedObjectAsIDs in it, depth first (var_to_bytes does not keep them). */
  objectIds?: string[]
}

/**
 * The error bytes_to_var failed with, from what Godot printed (undefined when it printed nothing:
 * a NIL that decoded fine). Checks print "Returning: ERR_…", the innermost first; the few checks
 * with a message of their own do not print their code, so it is taken from marshalls.cpp.
 */
function godotError(printed: string): string | undefined {
  if (!printed.includes('ERROR:')) return undefined
  const returning = /Returning: (ERR_[A-Z_]+|FAILED)/.exec(printed)?.[1]
  if (returning) return returning
  // ERR_FAIL_COND_V_MSG(p_depth > MAX_RECURSION_DEPTH, ERR_OUT_OF_MEMORY, "Variant is too deep. Bailing.")
  if (printed.includes('Variant is too deep')) return 'ERR_OUT_OF_MEMORY'
  // ERR_FAIL_INDEX_V(bt, Variant::VARIANT_MAX, ERR_INVALID_DATA) in _decode_container_type
  if (/Index bt = -?\d+ is out of bounds/.test(printed)) return 'ERR_INVALID_DATA'
  return `unknown: ${printed.slice(0, 200)}`
}

describe.skipIf(!HAS_GODOT)(HAS_GODOT ? 'Godot 4 engine, Variant encoding (live)' : NO_GODOT, () => {
  it.skipIf(!HAS_GODOT)('writes today the bytes of test/fixtures/variants.json', async () => {
    const run = await runGodot('vectors.gd', ['gen'])
    expect(run.code, run.stderr).toBe(0)
    const fresh = linesWith(run.stdout, 'VECTOR ').map((line) => JSON.parse(line) as VectorEntry)
    if (UPDATE_FIXTURES) writeFileSync(VARIANTS, JSON.stringify(fresh, null, 1) + '\n')
    const committed = JSON.parse(readFileSync(VARIANTS, 'utf8')) as VectorEntry[]
    expect(fresh.map((v) => v.name)).toEqual(committed.map((v) => v.name))
    for (const [i, v] of fresh.entries()) {
      const old = committed[i] as VectorEntry
      // NodePath padding holds leftovers that may differ from run to run.
      expect(hex(zeroUnwritten(unhex(v.hex), v.unwritten)), v.name).toBe(hex(zeroUnwritten(unhex(old.hex), old.unwritten)))
      expect(v.objectId, v.name).toBe(old.objectId)
    }
  })

  it.skipIf(!HAS_GODOT)('reads back every vector as encodeVariant writes it, equal to its own value', async () => {
    const vectors = JSON.parse(readFileSync(VARIANTS, 'utf8')) as VectorEntry[]
    const ours: Record<string, string> = {}
    for (const v of vectors) {
      const encoded = encodeVariant(expectedValue(v))
      if (!encoded.ok) throw new Error(`${v.name}: ${encoded.reason}`)
      ours[v.name] = hex(encoded.bytes)
    }
    const run = await runGodot('vectors.gd', ['check', tempJson('check.json', ours)])
    expect(run.code, run.stderr).toBe(0)
    const results = linesWith(run.stdout, 'CHECK ')
    expect(results).toHaveLength(vectors.length)
    expect(results.filter((line) => !line.endsWith(' OK'))).toEqual([])
  })

  it.skipIf(!HAS_GODOT)('decodes the hand-made cases as test/fixtures/decode-cases.json says', async () => {
    const run = await runGodot('vectors.gd', ['decode', tempJson('decode.json', decodeCases)])
    expect(run.code, run.stderr.slice(-2000)).toBe(0)
    const fresh: Record<string, DecodeOutcome> = {}
    const decoded = new Map(linesWith(run.stdout, 'DECODED ').map((line) => [line.split(' ')[0], line.split(' ')] as const))
    for (const [name, input] of Object.entries(decodeCases)) {
      const begin = run.stderr.indexOf(`BEGIN ${name}\n`)
      const end = run.stderr.indexOf(`END ${name}\n`, begin)
      expect(begin >= 0 && end > begin, `markers of ${name}`).toBe(true)
      const line = decoded.get(name) ?? []
      const error = line[1] === '00000000' ? godotError(run.stderr.slice(begin, end)) : undefined
      const inputMd5 = md5Hex(input)
      const bytes = line[1] ?? ''
      fresh[name] = error
        ? { inputMd5, godot: error }
        : {
            inputMd5,
            godot: 'OK',
            ...(bytes.length > LONG ? { decodedMd5: md5Hex(bytes) } : { decoded: bytes }),
            ...(line[2] ? { objectIds: line[2].split(',') } : {}),
          }
    }
    if (UPDATE_FIXTURES) writeFileSync(DECODE_CASES, JSON.stringify(fresh, null, 1) + '\n')
    expect(fresh).toEqual(JSON.parse(readFileSync(DECODE_CASES, 'utf8')))
  })
})
