import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_PEER_ID, generateUniqueId } from '@wsmp/core'

afterEach(() => vi.restoreAllMocks())

/** Makes crypto.getRandomValues yield these 32-bit words, in order, then fail the test. */
function feedRandom(words: number[]): void {
  const queue = [...words]
  vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
    const next = queue.shift()
    if (next === undefined) throw new Error('generateUniqueId drew more words than expected')
    ;(array as unknown as Uint32Array)[0] = next
    return array
  })
}

describe('generateUniqueId', () => {
  it('returns integers in 2 … 2^31-1', () => {
    for (let i = 0; i < 20_000; i++) {
      const id = generateUniqueId()
      expect(Number.isInteger(id)).toBe(true)
      expect(id).toBeGreaterThanOrEqual(2)
      expect(id).toBeLessThanOrEqual(MAX_PEER_ID)
    }
  })

  it('uses the whole 31-bit range (ids are not clustered)', () => {
    let high = 0
    for (let i = 0; i < 2000; i++) if (generateUniqueId() > 2 ** 30) high++
    // Half should be above 2^30; 2000 draws put that fraction within 0.4 … 0.6 with overwhelming odds.
    expect(high).toBeGreaterThan(800)
    expect(high).toBeLessThan(1200)
  })

  it('masks to 31 bits and draws again for 0 and 1', () => {
    // 0x80000000 & 0x7fffffff = 0, 0x80000001 → 1, 1 → 1: all redrawn; 0xffffffff → 2^31-1.
    feedRandom([0, 0x80000000, 0x80000001, 1, 0xffffffff])
    expect(generateUniqueId()).toBe(MAX_PEER_ID)
  })

  it('draws again while the id is taken', () => {
    feedRandom([5, 6, 5, 7])
    const taken = new Set([5, 6])
    expect(generateUniqueId((id) => taken.has(id))).toBe(7)
  })

  it('comes from the cryptographic generator', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues')
    generateUniqueId()
    expect(spy).toHaveBeenCalled()
  })
})
