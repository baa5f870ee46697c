import { describe, expect, it } from 'vitest'
import { Queue } from '@wsmp/core'

describe('Queue', () => {
  it('is first in, first out', () => {
    const q = new Queue<number>()
    expect(q.length).toBe(0)
    expect(q.peek()).toBeUndefined()
    expect(q.shift()).toBeUndefined()
    q.push(1)
    q.push(2)
    q.push(3)
    expect(q.length).toBe(3)
    expect(q.peek()).toBe(1)
    expect(q.shift()).toBe(1)
    expect(q.peek()).toBe(2)
    expect(q.length).toBe(2)
    q.push(4)
    expect([...q]).toEqual([2, 3, 4])
    expect(q.shift()).toBe(2)
    expect(q.shift()).toBe(3)
    expect(q.shift()).toBe(4)
    expect(q.shift()).toBeUndefined()
    expect(q.length).toBe(0)
  })

  it('keeps order across compaction with interleaved pushes and shifts', () => {
    const q = new Queue<number>()
    let next = 0
    let expected = 0
    // Push 3, shift 2, many times: the head passes the compaction threshold repeatedly.
    for (let round = 0; round < 5000; round++) {
      q.push(next++)
      q.push(next++)
      q.push(next++)
      expect(q.shift()).toBe(expected++)
      expect(q.shift()).toBe(expected++)
    }
    expect(q.length).toBe(next - expected)
    expect(q.peek()).toBe(expected)
    const rest = [...q]
    expect(rest).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i))
    while (q.length > 0) expect(q.shift()).toBe(expected++)
    expect(expected).toBe(next)
  })

  it('clear empties it', () => {
    const q = new Queue<string>()
    q.push('a')
    q.push('b')
    q.shift()
    q.clear()
    expect(q.length).toBe(0)
    expect([...q]).toEqual([])
    q.push('c')
    expect(q.shift()).toBe('c')
  })
})
