// wsmp's var codec (@msgpack/msgpack with wsmp's extension types) checked against a separately
// configured @msgpack/msgpack, as another implementation would set it up from the documented
// extension types: both write the same bytes, and each reads what the other writes.
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ErrorCode, VarExtType, decodeVar, encodeVar } from '@wsmp/core'

// The oracle: @msgpack/msgpack with the extension types wsmp registered before it had its own codec.
const typed: [number, new (buffer: ArrayBuffer) => ArrayBufferView][] = [
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
const codec = new ExtensionCodec()
codec.register({
  type: VarExtType.BIGINT,
  encode: (v) => (typeof v === 'bigint' ? new TextEncoder().encode(v.toString()) : null),
  decode: (d) => BigInt(new TextDecoder().decode(d)),
})
for (const [type, Ctor] of typed) {
  codec.register({
    type,
    encode: (v) => (v instanceof Ctor ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : null),
    decode: (d) => new Ctor(d.slice().buffer),
  })
}
codec.register({
  type: VarExtType.MAP,
  encode: (v) => (v instanceof Map ? oracleEncoder.encode([...v]) : null),
  decode: (d) => new Map(oracleDecoder.decode(d) as [unknown, unknown][]),
})
codec.register({ type: VarExtType.SET, encode: (v) => (v instanceof Set ? oracleEncoder.encode([...v]) : null), decode: (d) => new Set(oracleDecoder.decode(d) as unknown[]) })
codec.register({ type: VarExtType.ARRAY_BUFFER, encode: (v) => (v instanceof ArrayBuffer ? new Uint8Array(v) : null), decode: (d) => d.slice().buffer })
const oracleEncoder = new Encoder({ extensionCodec: codec })
const oracleDecoder = new Decoder({ extensionCodec: codec })

function encode(value: unknown): Uint8Array {
  const result = encodeVar(value)
  if (!result.ok) throw new Error(result.reason)
  return result.bytes
}

function decode(bytes: Uint8Array): unknown {
  const result = decodeVar(bytes)
  if (!result.ok) throw new Error(result.reason)
  return result.value
}

/** Values that cover every MessagePack format wsmp writes (both widths of each length). */
const samples: [string, unknown][] = [
  ['nil', null],
  ['false', false],
  ['true', true],
  ['fixints', [0, 1, 127, -1, -32]],
  ['uint8/16/32/64', [128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]],
  ['int8/16/32/64', [-33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, Number.MIN_SAFE_INTEGER]],
  ['float64', [0.5, -1.25, 1e300, Number.MAX_SAFE_INTEGER + 2, Infinity, -Infinity, Math.PI]],
  ['fixstr, str8, str16, str32', ['', 'a', 'é€😀', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(255), 'y'.repeat(256), 'z'.repeat(70000)]],
  ['bin8/16/32', [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(255), new Uint8Array(256).fill(7), new Uint8Array(70000).fill(9)]],
  ['fixarray, array16, array32', [[], [1], Array.from({ length: 15 }, (_, i) => i), Array.from({ length: 16 }, (_, i) => i), Array.from({ length: 70000 }, (_, i) => i % 3)]],
  ['fixmap, map16', [{}, { a: 1 }, Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))]],
  ['nested objects', { player: { id: 7, pos: [1.5, -2.25], name: 'ann', tags: ['a', 'b'], alive: true, parent: null } }],
  ['bigint', [0n, -1n, 12345678901234567890123456789n, -(2n ** 70n)]],
  [
    'typed arrays',
    [
      new Int8Array([-1, 2]),
      new Uint8ClampedArray([0, 255]),
      new Int16Array([-300, 300]),
      new Uint16Array([65535]),
      new Int32Array([-(2 ** 31)]),
      new Uint32Array([2 ** 32 - 1]),
      new Float32Array([1.5, -0.25]),
      new Float64Array([Math.E]),
      new BigInt64Array([-5n]),
      new BigUint64Array([2n ** 64n - 1n]),
    ],
  ],
  [
    'typed arrays of every ext length',
    [
      new Int8Array(1),
      new Int8Array(2),
      new Int8Array(3),
      new Int16Array(2),
      new Float64Array(1),
      new Float64Array(2),
      new Int8Array(17),
      new Int8Array(300),
      new Int8Array(70000),
    ],
  ],
  [
    'Map and Set',
    [
      new Map<unknown, unknown>([
        ['a', 1],
        [2, [3]],
        [{ k: 1 }, new Set([1])],
      ]),
      new Set(['x', 1, null]),
    ],
  ],
  ['ArrayBuffer', new Uint8Array([5, 6, 7]).buffer],
  [
    'dates (timestamp 32, 64, 96)',
    [new Date(0), new Date(1_700_000_000_000), new Date(1_700_000_000_123), new Date(2 ** 32 * 1000 + 5), new Date(-1), new Date(-86_400_000 * 365 * 100), new Date(8.64e15)],
  ],
]

describe('the MessagePack var codec against an independently configured @msgpack/msgpack', () => {
  for (const [name, value] of samples) {
    it(`writes the same bytes as the oracle and both read each other: ${name}`, () => {
      const ours = encode(value)
      const theirs = oracleEncoder.encode(value)
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true)
      expect(decode(theirs)).toEqual(oracleDecoder.decode(theirs))
      expect(oracleDecoder.decode(ours)).toEqual(decode(ours))
    })
  }

  it('round-trips values of every type and keeps their classes', () => {
    for (const [, value] of samples) {
      const back = decode(encode(value))
      expect(back).toStrictEqual(value instanceof Map || value instanceof Set || value instanceof ArrayBuffer ? value : structuredClone(value))
    }
  })

  it('matches the oracle on random JSON-like values (fast-check)', () => {
    const scalar = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
      fc.maxSafeInteger(),
      fc.double(),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.bigInt(),
      fc.date({ noInvalidDate: true }),
    )
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
      array: fc.array(tie('any'), { maxLength: 20 }),
      object: fc.dictionary(
        fc.string({ maxLength: 10 }).filter((k) => k !== '__proto__'),
        tie('any'),
        { maxKeys: 20 },
      ),
    })).any
    fc.assert(
      fc.property(value, (v) => {
        const ours = encode(v)
        expect(Buffer.from(ours).equals(Buffer.from(oracleEncoder.encode(v)))).toBe(true)
        expect(decode(ours)).toEqual(oracleDecoder.decode(ours))
      }),
      { numRuns: 300 },
    )
  })

  it('reads what the oracle writes in forms it never writes itself (float32, uint64 past 2^53, unknown ext)', () => {
    expect(decode(new Uint8Array([0xca, 0x3f, 0xc0, 0x00, 0x00]))).toBe(1.5)
    const big = new Uint8Array([0xcf, 0x00, 0x40, 0, 0, 0, 0, 0, 1])
    expect(decode(big)).toBe(oracleDecoder.decode(big))
    const unknown = new Uint8Array([0xd4, 0x63, 0x2a])
    expect(decode(unknown)).toEqual({ type: 0x63, data: new Uint8Array([0x2a]) })
  })

  it('writes a Date as the timestamp extension, type -1', () => {
    const bytes = encode(new Date(1_000))
    expect([...bytes]).toEqual([0xd6, 0xff, 0, 0, 0, 1])
  })

  it('rejects what it cannot encode with ERR_INVALID_PARAMETER and a reason', () => {
    const deep: unknown[] = []
    let inner = deep
    for (let i = 0; i < 100; i++) {
      const next: unknown[] = []
      inner.push(next)
      inner = next
    }
    for (const bad of [() => 1, Symbol('s'), { f: () => 1 }, new Date(NaN), deep]) {
      const result = encodeVar(bad)
      expect(result.ok).toBe(false)
      if (!result.ok) {
        expect(result.error).toBe(ErrorCode.ERR_INVALID_PARAMETER)
        expect(result.reason).toMatch(/^putVar: cannot encode value: /)
      }
    }
    // 100 levels is fine; 101 is not.
    expect(encodeVar(deep[0] as unknown[]).ok).toBe(true)
  })

  it('never throws on bad bytes: ERR_INVALID_DATA with a reason', () => {
    const deep = Uint8Array.from([...new Array<number>(101).fill(0x91), 0x01])
    const cases: [string, number[] | Uint8Array, RegExp][] = [
      ['empty', [], /truncated/],
      ['truncated str', [0xa5, 0x61], /truncated/],
      ['truncated array', [0x92, 0x01], /truncated/],
      ['huge announced array', [0xdd, 0xff, 0xff, 0xff, 0xff], /truncated/],
      ['trailing bytes', [0x01, 0x02], /trailing bytes/],
      ['0xc1', [0xc1], /type byte: 0xc1/],
      ['__proto__ key', [0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x01], /__proto__/],
      ['nil key', [0x81, 0xc0, 0x01], /key must be string or number/],
      ['bad timestamp length', [0xd5, 0xff, 0, 0], /timestamp/],
      ['bad bigint', [0xd4, 0x01, 0x78], /bigint/],
      ['misaligned Int16Array', [0xc7, 0x03, 0x04, 1, 2, 3], /Int16Array/],
      ['Map of non-pairs', [0xd5, 0x0c, 0x91, 0x01], /\(Map\)/],
      ['nesting past 100', deep, /nesting/],
    ]
    for (const [name, bytes, reason] of cases) {
      const result = decodeVar(Uint8Array.from(bytes))
      expect(result.ok, name).toBe(false)
      if (!result.ok) {
        expect(result.error, name).toBe(ErrorCode.ERR_INVALID_DATA)
        expect(result.reason, name).toMatch(/^getVar: not one MessagePack value \(/)
        expect(result.reason, name).toMatch(reason)
      }
    }
    expect(Object.getPrototypeOf(decode(Uint8Array.from([0x81, 0xa1, 0x61, 0x01])))).toBe(Object.prototype)
  })

  it('never throws on random bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = decodeVar(bytes)
        if (result.ok) expect(decode(encode(result.value))).toEqual(result.value)
        else expect(result.error).toBe(ErrorCode.ERR_INVALID_DATA)
      }),
      { numRuns: 2000 },
    )
  })
})
