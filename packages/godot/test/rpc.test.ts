import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ErrorCode } from '@wsmp/core'
import { describe, expect, it } from 'vitest'
import {
  Color,
  RpcMethods,
  StringName,
  TypedArray,
  VariantType,
  Vector2,
  Vector3,
  compareCodePoints,
  decodeCompressedVariant,
  decodeConfirmPath,
  decodeRemoteCall,
  decodeSimplifyPath,
  encodeCompressedVariant,
  encodeConfirmPath,
  encodeRemoteCall,
  encodeSimplifyPath,
  encodeVariant,
  float,
  rpcChecksum,
  type RemoteCall,
} from '../src/index.js'
import { FIXTURES_DIR, hex, unhex } from './engine.js'
import { same, show } from './expected.js'
import { GAME_METHODS, OUR_CACHE_ID, OUR_CALLS } from './rpc-capture.js'
import type { RpcFixture } from './rpc-engine.test.js'

/**
 * SceneMultiplayer's RPC packets as a real Godot 4 client sent them (test/fixtures/rpc-capture.json,
 * from rpc-engine.test.ts), decoded and re-encoded byte for byte, and the codecs' own rules.
 */
const fixture = JSON.parse(readFileSync(resolve(FIXTURES_DIR, 'rpc-capture.json'), 'utf8')) as RpcFixture
const m = (name: string): number => GAME_METHODS.id(name) as number
const V2 = (x: number, y: number): Vector2 => new Vector2(x, y)

/** The client's calls (test/godot/rpc_client.gd), by label: method and arguments. */
const CLIENT_CALLS: Record<string, [method: string, args: unknown[]]> = {
  nothing: ['nothing', []],
  int8: ['alpha', [5]],
  bytes: ['bytes', [Uint8Array.of(1, 2, 3)]],
  native_b: ['native_b', [7]],
  bool_true: ['alpha', [true]],
  bool_false: ['alpha', [false]],
  int8_min: ['alpha', [-128]],
  int16: ['alpha', [-200]],
  int16_max: ['alpha', [32767]],
  int32: ['alpha', [100000]],
  int32_min: ['alpha', [-2147483648]],
  int64: ['alpha', [2 ** 40]],
  int64_min: ['alpha', [-(2n ** 63n)]],
  float: ['alpha', [float(1.5)]],
  float64: ['alpha', [float(0.1)]],
  nil: ['alpha', [null]],
  string: ['alpha', ['héllo']],
  stringname: ['alpha', [new StringName('sn')]],
  vector2: ['alpha', [V2(1, 2)]],
  color: ['alpha', [new Color(1, 0.5, 0.25, 1)]],
  array: ['alpha', [[1, 'a', float(2.5)]]],
  typed_array: ['alpha', [new TypedArray(VariantType.INT, [1, 2])]],
  dictionary: [
    'alpha',
    [
      new Map<unknown, unknown>([
        ['k', new Vector3(1, 2, 3)],
        [2, [true]],
      ]),
    ],
  ],
  int32s: ['alpha', [Int32Array.of(1, -2)]],
  // An empty PackedByteArray alone goes as "no arguments": Godot's receiver then calls bytes() with none.
  bytes_empty: ['bytes', []],
  move: ['move', [V2(1.5, 2), V2(-1, 0), 42]],
  mixed: ['mixed', [true, 300, 'x']],
  eight_args: ['Beta', [1, 2, 3, 4, 5, 6, 7, 8]],
  unicode_method: ['ünï', ['u']],
  zeta: ['zeta', []],
  native_a: ['native_a', []],
}

/** The call the client made for `key` (`<phase>:<label>`): phase 1 names Game by path, later by its cache id 1. */
function expectedCall(key: string): RemoteCall {
  const [phase, label = ''] = key.split(':')
  if (label.startsWith('ping_')) {
    const n = label === 'ping_last' ? 299 : Number(label.slice(5))
    return { node: phase === '3' ? `Many/N${n}` : n + 2, method: 0, args: [n] }
  }
  if (phase === '2' && label === 'move') return { node: 1, method: m('move'), args: [V2(3, 4), V2(0, -1), 43] }
  const [method, args] = CLIENT_CALLS[label] ?? ['?', []]
  return { node: phase === '1' ? 'Game' : 1, method: m(method), args }
}

const remoteCalls = Object.entries(fixture.calls).map(([key, frames]) => [key, frames[frames.length - 1] as string] as const)
const simplifies = Object.entries(fixture.calls).filter(([, frames]) => frames.length === 2)

describe('REMOTE_CALL packets of a real Godot 4 client', () => {
  it('cover every phase and argument kind', () => {
    expect(remoteCalls.length).toBe(Object.keys(CLIENT_CALLS).length + 5 + 4 + 1)
  })

  it.each(remoteCalls)('%s decodes to the call and encodes back to the same bytes', (key, frame) => {
    const expected = expectedCall(key)
    const decoded = decodeRemoteCall(unhex(frame), { exactFloats: true })
    expect(decoded.ok, decoded.ok ? '' : decoded.reason).toBe(true)
    if (!decoded.ok) return
    const { node, method, args } = decoded.call
    expect(node).toBe(expected.node)
    expect(method).toBe(expected.method)
    expect(same(args, expected.args), `args ${show(args)}\nexpected ${show(expected.args)}`).toBe(true)
    const encoded = encodeRemoteCall(expected)
    expect(encoded.ok && hex(encoded.bytes)).toBe(frame)
  })

  it('name Game by path until the server confirms it, then by a 1-byte id; cache id 301 takes 2 bytes', () => {
    const call = (key: string) => {
      const d = decodeRemoteCall(unhex(fixture.calls[key]!.at(-1)!))
      if (!d.ok) throw new Error(d.reason)
      return d.call
    }
    expect(call('1:int8')).toMatchObject({ node: 'Game', nodeIdBytes: 4, methodIdBytes: 1 })
    expect(call('2:int8')).toMatchObject({ node: 1, nodeIdBytes: 1, methodIdBytes: 1 })
    expect(call('4:ping_last')).toMatchObject({ node: 301, nodeIdBytes: 2 })
    // Methods configured on the node itself: bit 15, so a 2-byte method id.
    expect(call('2:native_b')).toMatchObject({ method: 0x8001, methodIdBytes: 2 })
  })
})

describe('SIMPLIFY_PATH and CONFIRM_PATH', () => {
  it.each(simplifies)('%s: the client offers its path with the checksum RpcMethods computes', (key, frames) => {
    const frame = frames[0] as string
    const decoded = decodeSimplifyPath(unhex(frame))
    expect(decoded.ok).toBe(true)
    if (!decoded.ok) return
    const ping = key.split(':')[1]!.startsWith('ping_')
    const expected = ping
      ? { checksum: rpcChecksum(['ping']), cacheId: Number(key.split('_')[1]) + 2, path: `Many/N${key.split('_')[1]}` }
      : { checksum: GAME_METHODS.checksum, cacheId: 1, path: 'Game' }
    expect(decoded.message).toEqual(expected)
    const encoded = encodeSimplifyPath(expected)
    expect(encoded.ok && hex(encoded.bytes)).toBe(frame)
  })

  it("decodes and encodes the client's answer to this side's SIMPLIFY_PATH", () => {
    const reply = unhex(fixture.confirmReply[0] ?? '')
    expect(decodeConfirmPath(reply)).toEqual({ ok: true, message: { valid: true, cacheId: OUR_CACHE_ID } })
    const encoded = encodeConfirmPath({ valid: true, cacheId: OUR_CACHE_ID })
    expect(encoded.ok && hex(encoded.bytes)).toBe(hex(reply))
  })

  it('reads any non-zero byte 1 as valid and refuses any length but 6, as Godot', () => {
    expect(decodeConfirmPath(Uint8Array.of(2, 0, 5, 0, 0, 0))).toEqual({ ok: true, message: { valid: false, cacheId: 5 } })
    expect(decodeConfirmPath(Uint8Array.of(2, 9, 5, 0, 0, 0))).toEqual({ ok: true, message: { valid: true, cacheId: 5 } })
    for (const length of [0, 1, 5, 7]) {
      const result = decodeConfirmPath(new Uint8Array(length))
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.error).toBe(ErrorCode.ERR_INVALID_DATA)
    }
  })

  it('refuses a SIMPLIFY_PATH shorter than 38 bytes and reads a path up to its NUL', () => {
    expect(decodeSimplifyPath(new Uint8Array(37)).ok).toBe(false)
    const encoded = encodeSimplifyPath({ checksum: 'a'.repeat(32), cacheId: 3, path: 'A/B' })
    if (!encoded.ok) throw new Error(encoded.reason)
    const withTrailing = new Uint8Array([...encoded.bytes, 0x41, 0x42])
    expect(decodeSimplifyPath(withTrailing)).toEqual({ ok: true, message: { checksum: 'a'.repeat(32), cacheId: 3, path: 'A/B' } })
  })

  it('refuses a checksum that is not an MD5 in hex', () => {
    const result = encodeSimplifyPath({ checksum: 'xyz', cacheId: 1, path: 'A' })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toBe(ErrorCode.ERR_INVALID_PARAMETER)
  })
})

describe('RPCs this side sends (run by the client in rpc-engine.test.ts)', () => {
  it('were received with exactly their arguments', () => {
    expect(fixture.received).toHaveLength(OUR_CALLS.length)
    for (const [i, got] of fixture.received.entries()) {
      const call = OUR_CALLS[i]!
      expect(got.method).toBe(GAME_METHODS.name(call.method))
      const sent = encodeVariant([...call.args])
      expect(sent.ok && hex(sent.bytes), call.label).toBe(got.args)
    }
  })

  it('round-trip through decodeRemoteCall', () => {
    for (const call of OUR_CALLS) {
      const encoded = encodeRemoteCall(call, { wideNodeId: call.wide ?? false })
      if (!encoded.ok) throw new Error(encoded.reason)
      const decoded = decodeRemoteCall(encoded.bytes, { exactFloats: true })
      expect(decoded.ok, call.label).toBe(true)
      if (decoded.ok) {
        expect(decoded.call.node).toBe(call.node)
        expect(decoded.call.method).toBe(call.method)
        expect(decoded.call.nodeIdBytes).toBe(call.wide || typeof call.node === 'string' ? 4 : 1)
        expect(encodeVariant(decoded.call.args), call.label).toEqual(encodeVariant([...call.args]))
      }
    }
  })
})

describe('compressed Variants (RPC arguments)', () => {
  it('writes ints in the fewest bytes, bools in one byte, the rest as encodeVariant', () => {
    const bytes = (v: unknown): string => {
      const r = encodeCompressedVariant(v)
      return r.ok ? hex(r.bytes) : r.reason
    }
    expect(bytes(true)).toBe('81')
    expect(bytes(false)).toBe('01')
    expect(bytes(-128)).toBe('0280')
    expect(bytes(128)).toBe('428000')
    expect(bytes(-32769)).toBe('82ff7fffff')
    expect(bytes(2 ** 31)).toBe('c20000008000000000')
    expect(bytes(2n ** 63n - 1n)).toBe('c2ffffffffffffff7f')
    expect(bytes(1.5)).toBe('030000000000c03f')
    expect(bytes('a')).toBe('040000000100000061000000')
  })

  it('reads each width with its sign, and refuses a type byte whose width bits are set for other types', () => {
    expect(decodeCompressedVariant(unhex('02ff'))).toEqual({ ok: true, value: -1, type: VariantType.INT, length: 2 })
    expect(decodeCompressedVariant(unhex('42ff7f'))).toEqual({ ok: true, value: 32767, type: VariantType.INT, length: 3 })
    expect(decodeCompressedVariant(unhex('c2ffffffffffffffff'))).toEqual({ ok: true, value: -1, type: VariantType.INT, length: 9 })
    expect(decodeCompressedVariant(unhex('c1'))).toEqual({ ok: true, value: true, type: VariantType.BOOL, length: 1 })
    for (const bad of ['', '02', '42ff', '82ffff', 'c2ff', '27', '44000000', '3f']) {
      const result = decodeCompressedVariant(unhex(bad))
      expect(result.ok, bad).toBe(false)
      if (!result.ok) expect(result.error, bad).toBe(ErrorCode.ERR_INVALID_DATA)
    }
  })

  it('pads a String argument from its own start, not the packet start', () => {
    const call = encodeRemoteCall({ node: 1, method: 0, args: ['abc', 1] })
    expect(call.ok && hex(call.bytes)).toBe('00010002' + '0400000003000000616263000201')
  })
})

describe('REMOTE_CALL encoding and decoding rules', () => {
  const failsWith = (packet: string, error: number = ErrorCode.ERR_INVALID_DATA): void => {
    const result = decodeRemoteCall(unhex(packet))
    expect(result.ok, `${packet}: ${result.ok ? show(result.call) : ''}`).toBe(false)
    if (!result.ok) {
      expect(result.error, packet).toBe(error)
      expect(result.reason).toMatch(/^decodeRemoteCall: /)
    }
  }

  it('chooses id widths as Godot: 1/2/4 bytes for the node, 1/2 for the method', () => {
    const meta = (call: RemoteCall): number => {
      const r = encodeRemoteCall(call)
      return r.ok ? (r.bytes[0] as number) : -1
    }
    expect(meta({ node: 255, method: 255, args: [1] })).toBe(0x00)
    expect(meta({ node: 256, method: 256, args: [1] })).toBe(0x50)
    expect(meta({ node: 65536, method: 0, args: [1] })).toBe(0x20)
    expect(meta({ node: 1, method: 0, args: [] })).toBe(0x80)
    expect(meta({ node: 'A', method: 0, args: [Uint8Array.of(1)] })).toBe(0xa0)
  })

  it('refuses what Godot cannot send: over 255 arguments, bad ids, unencodable arguments', () => {
    const refused = (call: RemoteCall, error: number = ErrorCode.ERR_INVALID_PARAMETER) => {
      const r = encodeRemoteCall(call)
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error).toBe(error)
    }
    refused({ node: 1, method: 0, args: new Array(256).fill(0) })
    refused({ node: -1, method: 0, args: [] })
    refused({ node: 2 ** 31, method: 0, args: [] })
    refused({ node: 1, method: 65536, args: [] })
    refused({ node: 1, method: 1.5, args: [] })
    refused({ node: 1, method: 0, args: [() => 1] })
    const small = encodeRemoteCall({ node: 1, method: 0, args: ['x'.repeat(100)] }, { maxSize: 64 })
    expect(small.ok).toBe(false)
    if (!small.ok) expect(small.error).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
  })

  it('refuses truncated and malformed packets with ERR_INVALID_DATA, naming the cause', () => {
    failsWith('') // nothing
    failsWith('30') // node id width 3
    failsWith('00') // no node id
    failsWith('0001') // no method id
    failsWith('400100') // 2-byte method id cut short
    failsWith('000100') // no argument count
    failsWith('00010002') // 2 arguments, none there
    failsWith('0001000102') // an int8 without its byte
    failsWith('00010001270000') // an unknown type
    failsWith('2005000080000041') // path offset 5 inside the header
    failsWith('2009000080000041') // path offset past the end
    failsWith('0001000104000000ffffffff', ErrorCode.ERR_FILE_EOF) // a string longer than the data
  })

  it('reads a path up to its NUL (lenient UTF-8, as Godot), arguments up to the path', () => {
    const packet = unhex('20' + '09000080' + '00' + '01' + '0205' + '41ff0042')
    const result = decodeRemoteCall(packet)
    expect(result.ok && result.call).toMatchObject({ node: 'A\ufffd', args: [5] })
  })

  it('takes bytes after a byte-only flag as one PackedByteArray, copied', () => {
    const packet = unhex('800100' + '0a0b')
    const result = decodeRemoteCall(packet)
    expect(result.ok && result.call.args).toEqual([Uint8Array.of(10, 11)])
    if (result.ok) expect((result.call.args[0] as Uint8Array).buffer).not.toBe(packet.buffer)
    // From a Node Buffer (what a socket gives) too: a plain Uint8Array, not a Buffer view.
    const fromBuffer = decodeRemoteCall(Buffer.from(packet))
    const bytes = fromBuffer.ok ? (fromBuffer.call.args[0] as Uint8Array) : null
    expect(bytes?.constructor).toBe(Uint8Array)
    expect(bytes?.byteLength).toBe(bytes?.buffer.byteLength)
  })
})

describe('RpcMethods', () => {
  it('numbers script methods by code point order and node methods with bit 15', () => {
    expect([...GAME_METHODS.names]).toEqual([
      [0x8000, 'native_a'],
      [0x8001, 'native_b'],
      [0, 'Beta'],
      [1, 'alpha'],
      [2, 'bytes'],
      [3, 'mixed'],
      [4, 'move'],
      [5, 'nothing'],
      [6, 'zeta'],
      [7, 'ünï'],
    ])
    expect(GAME_METHODS.id('nope')).toBeUndefined()
  })

  it('sorts by code point, not UTF-16 unit (U+FFFF before U+10000)', () => {
    const a = '\uffff'
    const b = '\u{10000}'
    expect(a > b).toBe(true) // UTF-16 order says otherwise
    expect(compareCodePoints(a, b)).toBeLessThan(0)
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0)
    expect(compareCodePoints('a', 'a')).toBe(0)
    expect(new RpcMethods([b, a]).id(a)).toBe(0)
  })

  it('hashes the node names before the script names, run together', () => {
    expect(rpcChecksum([])).toBe('d41d8cd98f00b204e9800998ecf8427e')
    expect(rpcChecksum(['b', 'a'], ['z'])).toBe(rpcChecksum(['zab']))
    expect(GAME_METHODS.checksum).toBe(rpcChecksum(['native_anative_bBetaalphabytesmixedmovenothingzetaünï']))
  })
})
