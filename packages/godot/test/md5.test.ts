import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { md5, md5Hex } from '../src/index.js'

const nodeMd5 = (data: Uint8Array | string): string => createHash('md5').update(data).digest('hex')

describe('md5', () => {
  it("gives RFC 1321's test-suite digests", () => {
    const suite: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
    ]
    for (const [text, digest] of suite) expect(md5Hex(text), text).toBe(digest)
  })

  it('hashes strings as UTF-8', () => {
    expect(md5Hex('ünï 🎮')).toBe(nodeMd5(Buffer.from('ünï 🎮', 'utf8')))
  })

  it('agrees with node:crypto at every length around the block boundaries', () => {
    for (let n = 0; n <= 200; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff)
      expect(md5Hex(bytes), `length ${n}`).toBe(nodeMd5(bytes))
    }
  })

  it('agrees with node:crypto on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => md5Hex(bytes) === nodeMd5(bytes)),
      { numRuns: 300 },
    )
  })

  it('returns the 16 raw bytes', () => {
    expect(Buffer.from(md5('abc')).toString('hex')).toBe('900150983cd24fb0d6963f7d28e17f72')
    expect(md5('abc')).toHaveLength(16)
  })
})
