import { ErrorCode } from '@wsmp/core'
import { describe, expect, it } from 'vitest'
import {
  Float,
  NodePath,
  PackedColorArray,
  PackedStringArray,
  PackedVector2Array,
  StringName,
  TypedArray,
  TypedDictionary,
  VariantType as T,
  Vector2,
  Vector2i,
  decodeVariant,
  decodeVariantAt,
  encodeVariant,
  float,
  godotVarCodec,
  variantTypeOf,
} from '../src/index.js'
import { hex, unhex } from './engine.js'

/** The bytes of `value`, or the failure's reason. */
function bytesOf(value: unknown, maxSize?: number): string {
  const r = encodeVariant(value, maxSize)
  return r.ok ? hex(r.bytes) : `${r.error}: ${r.reason}`
}

function refused(value: unknown, error: number = ErrorCode.ERR_INVALID_PARAMETER): string {
  const r = encodeVariant(value)
  expect(r.ok).toBe(false)
  if (r.ok) return ''
  expect(r.error).toBe(error)
  return r.reason
}

function decoded(bytes: string, exactFloats = false): unknown {
  const r = decodeVariant(unhex(bytes), { exactFloats })
  if (!r.ok) throw new Error(r.reason)
  return r.value
}

describe('encodeVariant: numbers', () => {
  it('sends whole numbers as int (32 bits when they fit, else 64) and others as float', () => {
    expect(bytesOf(7)).toBe('0200000007000000')
    expect(bytesOf(-(2 ** 31))).toBe('0200000000000080')
    expect(bytesOf(2 ** 31)).toBe('020001000000008000000000')
    expect(bytesOf(2 ** 60)).toBe('020001000000000000000010') // exact, though not a safe integer
    expect(bytesOf(-0)).toBe('0200000000000000')
    expect(bytesOf(1.5)).toBe('030000000000c03f')
  })

  it('sends float32 when the value survives it and float64 otherwise, as Godot (NaN as float64)', () => {
    expect(bytesOf(0.5)).toBe('030000000000003f')
    expect(bytesOf(0.1)).toBe('030001009a9999999999b93f')
    expect(bytesOf(NaN)).toBe('03000100000000000000f87f')
    expect(bytesOf(-Infinity)).toBe('03000000000080ff')
  })

  it('sends whole numbers beyond int64 as float', () => {
    expect(variantTypeOf(2 ** 63)).toBe(T.FLOAT)
    expect(bytesOf(2 ** 63)).toBe('030000000000005f')
    expect(variantTypeOf(2 ** 63 - 1024)).toBe(T.INT)
  })

  it('forces float with Float / float()', () => {
    expect(bytesOf(float(1))).toBe('030000000000803f')
    expect(bytesOf(new Float(-0))).toBe('0300000000000080')
    expect(float(2.5) + 1).toBe(3.5)
    expect(String(float(2))).toBe('2.0')
  })

  it('sends bigints in int64 range as int and refuses the rest', () => {
    expect(bytesOf(5n)).toBe('0200000005000000')
    expect(bytesOf(-(2n ** 63n))).toBe('020001000000000000000080')
    expect(refused(2n ** 63n)).toMatch(/outside Godot's int range/)
    expect(variantTypeOf(2n ** 64n)).toBeUndefined()
  })
})

describe('decodeVariant: numbers', () => {
  it('gives ints as numbers while they are safe integers, beyond ±(2^53 − 1) as bigints', () => {
    expect(decoded('02000100' + 'ffffffffffff1f00')).toBe(2 ** 53 - 1)
    expect(decoded('02000100' + '0000000000002000')).toBe(2n ** 53n)
    expect(decoded('02000100' + '010000000000e0ff')).toBe(-(2 ** 53 - 1))
    expect(decoded('02000100' + '000000000000e0ff')).toBe(-(2n ** 53n))
    expect(decoded('02000000' + 'ffffffff')).toBe(-1)
  })

  it('gives floats as numbers, or as Float with exactFloats (so 1.0 stays a float)', () => {
    expect(decoded('030000000000803f')).toBe(1)
    expect(decoded('030000000000803f', true)).toEqual(new Float(1))
    const again = encodeVariant(decoded('030000000000803f', true))
    expect(again.ok && hex(again.bytes)).toBe('030000000000803f')
  })
})

describe('encodeVariant: containers and strings', () => {
  it('sends plain objects as Dictionaries with String keys, like a Map', () => {
    const object = bytesOf({ a: 1, b: 'x' })
    expect(object).toBe(
      bytesOf(
        new Map<string, unknown>([
          ['a', 1],
          ['b', 'x'],
        ]),
      ),
    )
    expect(decoded(object)).toEqual(
      new Map<string, unknown>([
        ['a', 1],
        ['b', 'x'],
      ]),
    )
    expect(bytesOf(Object.assign(Object.create(null) as object, { k: 1 }))).toBe(bytesOf({ k: 1 }))
  })

  it('keeps Map keys of any type, in order', () => {
    const map = new Map<unknown, unknown>([
      [new Vector2(1, 2), 'v'],
      [null, 1],
      [2, [true]],
    ])
    expect(decoded(bytesOf(map))).toEqual(map)
  })

  it('writes a string as UTF-8 (lone surrogates as U+FFFD), short and long alike', () => {
    expect(bytesOf('\ud800')).toBe('0400000003000000efbfbd00')
    const long = 'é'.repeat(40) + '\udc00' + '🎮'.repeat(20)
    expect(decoded(bytesOf(long))).toBe(long.replace('\udc00', '\ufffd'))
    expect(decoded(bytesOf('x'.repeat(1000)))).toBe('x'.repeat(1000))
  })

  it('writes a NUL inside a string, which Godot (and decodeVariant) read as its end', () => {
    expect(bytesOf('a\0b')).toBe('040000000300000061006200')
    expect(decoded(bytesOf('a\0b'))).toBe('a')
  })

  it('writes a leading byte order mark, which Godot (and decodeVariant) skip when reading', () => {
    expect(bytesOf('\ufeffa')).toBe('0400000004000000efbbbf61')
    expect(decoded(bytesOf('\ufeffa'))).toBe('a')
    expect(decoded(bytesOf('a\ufeff'))).toBe('a\ufeff')
  })

  it('sends undefined and array holes as nil', () => {
    expect(bytesOf(undefined)).toBe('00000000')
    // eslint-disable-next-line no-sparse-arrays
    expect(decoded(bytesOf([1, , 3]))).toEqual([1, null, 3])
  })

  it('sends a Node Buffer as a PackedByteArray', () => {
    expect(bytesOf(Buffer.from([1, 2]))).toBe('1d000000020000000102' + '0000')
  })
})

describe('encodeVariant: typed containers', () => {
  it('writes elements as the element type: numbers as float in Array[float], strings as StringName in Array[StringName]', () => {
    expect(bytesOf(new TypedArray(T.FLOAT, [1]))).toBe('1c000100' + '03000000' + '01000000' + '030000000000803f')
    expect(bytesOf(new TypedArray(T.STRING_NAME, ['a']))).toBe(bytesOf(new TypedArray(T.STRING_NAME, [new StringName('a')])))
    expect(bytesOf(new TypedArray(T.STRING, [new StringName('a')]))).toBe(bytesOf(new TypedArray(T.STRING, ['a'])))
    expect(bytesOf(new TypedDictionary(T.STRING, T.FLOAT, { a: 2 }))).toBe('1b000500' + '04000000' + '03000000' + '01000000' + '04000000010000006100000003000000' + '00000040')
  })

  it('refuses elements that cannot be of the element type', () => {
    expect(refused(new TypedArray(T.INT, [1.5]))).toMatch(/number \(1.5\) cannot be an element of type INT/)
    expect(refused(new TypedArray(T.INT, ['1']))).toMatch(/cannot be an element of type INT/)
    refused(new TypedArray(T.FLOAT, [1n]))
    refused(new TypedArray(T.VECTOR2, [new Vector2i(1, 2)]))
    refused(new TypedArray(T.OBJECT, [{}]))
    refused(new TypedDictionary(T.INT, T.NIL, { a: 1 }))
    expect(refused(new TypedArray(99 as T, []))).toMatch(/99 is not a VariantType/)
  })

  it('writes an Array typed NIL as an untyped Array (Godot has no Array[nil])', () => {
    expect(bytesOf(new TypedArray(T.NIL, [1]))).toBe(bytesOf([1]))
  })
})

describe('encodeVariant: what it refuses', () => {
  it('refuses values Godot cannot receive, naming them, without throwing', () => {
    expect(refused(() => 1)).toMatch(/cannot encode a function/)
    expect(refused(Symbol('s'))).toMatch(/cannot encode a symbol/)
    expect(refused(new Date())).toMatch(/cannot encode a Date: Godot Objects are not sent by value/)
    expect(refused(new Set([1]))).toMatch(/Set/)
    expect(refused(new Uint16Array(1))).toMatch(/Uint16Array/)
    class Player {
      hp = 1
    }
    expect(refused(new Player())).toMatch(/cannot encode a Player/)
    expect(refused([1, { nested: [new Player()] }])).toMatch(/Player/)
  })

  it('refuses int components out of int32 and ids out of uint64', async () => {
    const { RID, EncodedObjectAsID } = await import('../src/index.js')
    expect(refused(new Vector2i(1.5, 0))).toMatch(/Vector2i component 1.5 is not an int32/)
    refused(new Vector2i(2 ** 31, 0))
    refused(new RID(-1n))
    refused(new EncodedObjectAsID(2n ** 64n))
  })

  it('refuses nesting deeper than 1024 levels, and cycles, with ERR_OUT_OF_MEMORY', () => {
    let ok: unknown[] = []
    for (let i = 0; i < 1024; i++) ok = [ok]
    expect(encodeVariant(ok).ok).toBe(true)
    expect(refused([ok], ErrorCode.ERR_OUT_OF_MEMORY)).toMatch(/deeper than 1024/)
    const cycle: unknown[] = []
    cycle.push(cycle, cycle)
    refused(cycle, ErrorCode.ERR_OUT_OF_MEMORY)
    const map = new Map<string, unknown>()
    map.set('self', map)
    refused(map, ErrorCode.ERR_OUT_OF_MEMORY)
  })

  it('stops at maxSize bytes with ERR_OUT_OF_MEMORY (8 MiB by default), before writing more', () => {
    expect(bytesOf('abcd', 12)).toBe('040000000400000061626364')
    expect(bytesOf('abcde', 12)).toMatch(/^6: encodeVariant: the encoded value is over the 12-byte limit/)
    expect(encodeVariant(new Uint8Array(8 * 1024 * 1024)).ok).toBe(false)
    expect(encodeVariant('é'.repeat(3 * 1024 * 1024)).ok).toBe(true) // 6 MiB of UTF-8: fits
    expect(encodeVariant('é'.repeat(5 * 1024 * 1024))).toMatchObject({ ok: false, error: ErrorCode.ERR_OUT_OF_MEMORY })
    expect(encodeVariant(new Uint8Array(8 * 1024 * 1024 - 8)).ok).toBe(true)
    // A value that would be 2^40 × 8 bytes fails after the first 8 MiB.
    let wide: unknown[] = [1]
    for (let i = 0; i < 40; i++) wide = [wide, wide]
    const started = performance.now()
    refused(wide, ErrorCode.ERR_OUT_OF_MEMORY)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('encodes correctly when a getter encodes while it encodes', () => {
    const inner = { x: 1 }
    const outer = {
      get value() {
        const nested = encodeVariant('nested')
        return nested.ok ? hex(nested.bytes) : 'failed'
      },
    }
    expect(decoded(bytesOf([outer, inner]))).toEqual([new Map([['value', '04000000060000006e6573746564' + '0000']]), new Map([['x', 1]])])
  })
})

describe('decodeVariant', () => {
  it('never throws, whatever it is given', () => {
    for (const bad of [null, undefined, 'bytes', [1, 2], new ArrayBuffer(4)]) {
      const r = decodeVariant(bad as unknown as Uint8Array)
      expect(r).toMatchObject({ ok: false, error: ErrorCode.ERR_INVALID_PARAMETER })
    }
    for (const offset of [-1, 9, 1.5, NaN]) {
      expect(decodeVariantAt(unhex('0200000005000000'), offset)).toMatchObject({ ok: false, error: ErrorCode.ERR_INVALID_PARAMETER })
    }
    expect(decodeVariantAt(unhex('0200000005000000'), 8)).toMatchObject({ ok: false, error: ErrorCode.ERR_INVALID_DATA })
  })

  it('ignores bytes after the value, as Godot; decodeVariantAt tells how many it used', () => {
    expect(decoded('0200000005000000ffff')).toBe(5)
    expect(decodeVariantAt(unhex('ffff0200000005000000'), 2)).toEqual({ ok: true, value: 5, type: T.INT, length: 8 })
    expect(decodeVariantAt(unhex('030000000000803f'))).toMatchObject({ type: T.FLOAT, value: 1 })
  })

  it('copies PackedByteArrays and typed arrays out of the input (also out of a Node Buffer)', () => {
    const input = Buffer.from('1d00000002000000010200001e000000010000000700000000', 'hex')
    const bytes = decoded(input.subarray(0, 12).toString('hex')) as Uint8Array
    expect(bytes.constructor).toBe(Uint8Array)
    const r = decodeVariant(input)
    expect(r.ok && r.value).toEqual(Uint8Array.of(1, 2))
    if (r.ok) {
      input[8] = 99
      expect(r.value).toEqual(Uint8Array.of(1, 2))
    }
  })

  it('fails with a reason naming the offset', () => {
    const r = decodeVariant(unhex('1c00000002000000' + '02000000'))
    expect(r).toMatchObject({ ok: false, error: ErrorCode.ERR_INVALID_DATA })
    if (!r.ok) expect(r.reason).toMatch(/^decodeVariant: int32: needs 4 bytes at offset 12, 0 left/)
  })
})

describe('godotVarCodec', () => {
  it('is the Variant codec under the name "godot"', () => {
    expect(godotVarCodec.name).toBe('godot')
    const value = new Map<unknown, unknown>([
      ['pos', new Vector2(1, 2)],
      ['hp', 100],
    ])
    const encoded = godotVarCodec.encode(value, 1024)
    expect(encoded.ok).toBe(true)
    if (encoded.ok) expect(godotVarCodec.decode(encoded.bytes)).toEqual({ ok: true, value })
    expect(godotVarCodec.encode('x'.repeat(100), 16).ok).toBe(false)
  })
})

describe('value classes', () => {
  it('NodePath parses the text form as Godot does', () => {
    const p = new NodePath('/root//Game/Player:position:x')
    expect(p).toMatchObject({ names: ['root', 'Game', 'Player'], subnames: ['position', 'x'], absolute: true })
    expect(String(p)).toBe('/root/Game/Player:position:x')
    expect(new NodePath('A:')).toMatchObject({ names: ['A'], subnames: [] })
    expect(new NodePath('').isEmpty()).toBe(true)
    expect(new NodePath('/').isEmpty()).toBe(false)
    expect(() => new NodePath('a::b')).toThrow(SyntaxError)
    expect(NodePath.fromParts(['a'], ['b'], true).equals(new NodePath('/a:b'))).toBe(true)
  })

  it('the packed vector arrays index, iterate and compare', () => {
    const a = PackedVector2Array.from([new Vector2(1, 2), new Vector2(3, 4)])
    expect(a.length).toBe(2)
    expect(a.at(-1)).toEqual(new Vector2(3, 4))
    expect(a.at(2)).toBeUndefined()
    expect([...a]).toEqual([new Vector2(1, 2), new Vector2(3, 4)])
    expect(a.equals(new PackedVector2Array([1, 2, 3, 4]))).toBe(true)
    expect(a.equals(new PackedColorArray([1, 2, 3, 4]))).toBe(false)
    expect(() => new PackedVector2Array([1, 2, 3])).toThrow(RangeError)
    expect(new PackedStringArray(['a']).equals(new PackedStringArray(['a']))).toBe(true)
  })

  it('equals treats NaN as equal to itself, as decoded values need', () => {
    expect(new Vector2(NaN, 1).equals(new Vector2(NaN, 1))).toBe(true)
    expect(new Vector2(1, 2).equals(new Vector2i(1, 2))).toBe(false)
  })
})
