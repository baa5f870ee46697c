import { describe, expect, it } from 'vitest'
import { DEFAULT_ENCODE_BUFFER_MAX_SIZE, ErrorCode, MAX_ENCODE_BUFFER_MAX_SIZE, MIN_ENCODE_BUFFER_MAX_SIZE, decodeVar, encodeVar } from '@wsmp/core'

function roundTrip(value: unknown): unknown {
  const encoded = encodeVar(value)
  if (!encoded.ok) throw new Error(encoded.reason)
  const decoded = decodeVar(encoded.bytes)
  if (!decoded.ok) throw new Error(decoded.reason)
  return decoded.value
}

describe('var codec limits', () => {
  it("has Godot's bounds and default", () => {
    expect(DEFAULT_ENCODE_BUFFER_MAX_SIZE).toBe(8 * 1024 * 1024)
    expect(MIN_ENCODE_BUFFER_MAX_SIZE).toBe(1024)
    expect(MAX_ENCODE_BUFFER_MAX_SIZE).toBe(256 * 1024 * 1024)
  })
})

describe('encodeVar / decodeVar', () => {
  it('round-trips scalars and nested plain values', () => {
    for (const value of [null, true, false, 0, -1, 42, 3.5, -1e300, '', 'héllo ✓', [1, [2, [3]]]]) {
      expect(roundTrip(value)).toEqual(value)
    }
    const nested = { a: 1, b: { c: [1, 'two', { d: null }], e: { f: { g: true } } }, s: 'x' }
    expect(roundTrip(nested)).toEqual(nested)
  })

  it('keeps every typed array type', () => {
    const arrays = [
      Int8Array.from([-128, 0, 127]),
      Uint8ClampedArray.from([0, 128, 255]),
      Int16Array.from([-32768, 1, 32767]),
      Uint16Array.from([0, 65535]),
      Int32Array.from([-(2 ** 31), 2 ** 31 - 1]),
      Uint32Array.from([0, 2 ** 32 - 1]),
      Float32Array.from([1.5, -0.25]),
      Float64Array.from([Math.PI, -Infinity]),
      BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]),
      BigUint64Array.from([0n, 2n ** 64n - 1n]),
    ]
    for (const array of arrays) {
      const back = roundTrip(array)
      expect(back).toBeInstanceOf(array.constructor)
      expect(back).toEqual(array)
    }
  })

  it('keeps a typed array that is a view into a larger buffer', () => {
    const buffer = new ArrayBuffer(32)
    const view = new Int16Array(buffer, 6, 3)
    view.set([1, -2, 3])
    const back = roundTrip(view) as Int16Array
    expect(back).toBeInstanceOf(Int16Array)
    expect([...back]).toEqual([1, -2, 3])
  })

  it('keeps bigint, Map, Set, ArrayBuffer, Uint8Array and Date', () => {
    expect(roundTrip(12345678901234567890123n)).toBe(12345678901234567890123n)
    expect(roundTrip(-5n)).toBe(-5n)
    const map = new Map<unknown, unknown>([
      ['a', 1],
      [2, { b: [3n] }],
    ])
    expect(roundTrip(map)).toEqual(map)
    expect(roundTrip(new Set([1, 'x']))).toEqual(new Set([1, 'x']))
    const buffer = Uint8Array.from([1, 2, 3]).buffer
    const backBuffer = roundTrip(buffer)
    expect(backBuffer).toBeInstanceOf(ArrayBuffer)
    expect([...new Uint8Array(backBuffer as ArrayBuffer)]).toEqual([1, 2, 3])
    const binary = Uint8Array.from([0, 255, 7])
    const backBinary = roundTrip(binary)
    expect(backBinary).toBeInstanceOf(Uint8Array)
    expect([...(backBinary as Uint8Array)]).toEqual([0, 255, 7])
    const date = new Date(1_700_000_000_123)
    expect(roundTrip(date)).toEqual(date)
  })

  it('keeps extension types nested inside objects', () => {
    const value = { m: new Map([['k', new Float32Array([1, 2])]]), list: [new Set([9n])], bin: Uint8Array.from([4]) }
    expect(roundTrip(value)).toEqual(value)
  })

  it('finds a lone extension type at any depth among plain values (values without one take the plain encoder)', () => {
    const deep = (leaf: unknown): unknown => ({ a: [1, 'x', { b: [{ c: leaf }] }], d: null })
    for (const leaf of [7n, new Int16Array([-3]), new ArrayBuffer(2), new Set([1]), new Map([[1, 2]]), new Date(5), 'plain']) {
      expect(roundTrip(deep(leaf))).toEqual(deep(leaf))
    }
  })

  it('fails with ERR_OUT_OF_MEMORY past maxSize, with a reason naming the limit', () => {
    const value = 'x'.repeat(2000)
    const result = encodeVar(value, 1024)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(result.reason).toMatch(/encodeBufferMaxSize/)
    expect(encodeVar(value, 4096).ok).toBe(true)
  })

  it('fails with ERR_INVALID_PARAMETER for values MessagePack cannot carry', () => {
    const fn = encodeVar(() => 1)
    expect(fn.ok).toBe(false)
    if (!fn.ok) expect(fn.error).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    const sym = encodeVar({ s: Symbol('x') })
    expect(sym.ok).toBe(false)
    if (!sym.ok) expect(sym.error).toBe(ErrorCode.ERR_INVALID_PARAMETER)
  })

  it('fails with ERR_INVALID_DATA, never throws, on bytes that are not one value', () => {
    const cases = [
      new Uint8Array(0), // nothing
      Uint8Array.from([0xc1]), // never-used byte
      Uint8Array.from([0x92, 0x01]), // array of 2 with one element
      Uint8Array.from([0x01, 0x02]), // two values
      Uint8Array.from([0xd4, 0x01, 0x41]), // bigint extension with "A"
      Uint8Array.from([0xd5, 0x04, 0x01]), // fixext 2 with one byte
      Uint8Array.from([0xd4, 0x04, 0x01]), // Int16Array of one byte
    ]
    for (const bytes of cases) {
      const result = decodeVar(bytes)
      expect(result.ok).toBe(false)
      if (!result.ok) {
        expect(result.error).toBe(ErrorCode.ERR_INVALID_DATA)
        expect(result.reason).toMatch(/getVar/)
      }
    }
  })
})
