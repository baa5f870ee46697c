// The batch format (src/wire.ts): records written by one side read back the same by the other.
import { describe, expect, it } from 'vitest'
import { AuthorityRecord, BatchReader, BatchWriter, EdgeRecord, HEADER_SIZE } from '../src/wire.js'

describe('batches', () => {
  it('carry a header and every record type in order, strings and bytes intact', () => {
    const out = new BatchWriter(8)
    out.text(EdgeRecord.HELLO, '{"edge":"0000abcd"}')
    out.open(7, 51234, '::ffff:127.0.0.1', 'wsmp', 'ws://host/play?x=é')
    out.message(EdgeRecord.MSG, 7, Uint8Array.of(3, 1, 2), false)
    out.message(EdgeRecord.MSG, 7, 'text ✓', true)
    out.close(EdgeRecord.CLOSED, 7, -1, 'gone')
    out.clientInt(EdgeRecord.BUFFERED, 7, 123456)
    out.plain(EdgeRecord.HB)
    expect(out.records).toBe(7)
    const batch = out.take(0xdeadbeef, 42, 2 ** 40)
    expect(out.records).toBe(0)
    expect(BatchReader.header(batch)).toEqual({ sender: 0xdeadbeef, link: 42, seq: 2 ** 40 })
    const r = new BatchReader(batch)
    expect([r.u8(), r.str()]).toEqual([EdgeRecord.HELLO, '{"edge":"0000abcd"}'])
    expect([r.u8(), r.u32(), r.u16(), r.str(), r.str(), r.str()]).toEqual([EdgeRecord.OPEN, 7, 51234, '::ffff:127.0.0.1', 'wsmp', 'ws://host/play?x=é'])
    expect([r.u8(), r.u32(), r.u8(), [...r.bytes(r.u32())]]).toEqual([EdgeRecord.MSG, 7, 0, [3, 1, 2]])
    expect([r.u8(), r.u32(), r.u8(), r.bytes(r.u32()).toString()]).toEqual([EdgeRecord.MSG, 7, 1, 'text ✓'])
    expect([r.u8(), r.u32(), r.i32(), r.str()]).toEqual([EdgeRecord.CLOSED, 7, -1, 'gone'])
    expect([r.u8(), r.u32(), r.i32()]).toEqual([EdgeRecord.BUFFERED, 7, 123456])
    expect(r.u8()).toBe(EdgeRecord.HB)
    expect(r.more()).toBe(false)
    expect(() => r.u8()).toThrow(RangeError)
  })

  it('send a broadcast frame once with its receivers, until another record closes the list', () => {
    const out = new BatchWriter()
    const frame = Uint8Array.of(3, 9, 9)
    out.many(frame, false, 1)
    expect(out._manyFrame).toBe(frame)
    for (let i = 2; i <= 5; i++) expect(out.addReceiver(i)).toBe(true)
    out.client(AuthorityRecord.PAUSE, 2)
    expect(out._manyFrame).toBe(null)
    const r = new BatchReader(out.take(1, 2, 3))
    expect([r.u8(), r.u8(), [...r.bytes(r.u32())]]).toEqual([AuthorityRecord.SEND_MANY, 0, [3, 9, 9]])
    const n = r.u16()
    expect(Array.from({ length: n }, () => r.u32())).toEqual([1, 2, 3, 4, 5])
    expect([r.u8(), r.u32()]).toEqual([AuthorityRecord.PAUSE, 2])
  })

  it('start a new SENDMANY past 65535 receivers', () => {
    const out = new BatchWriter()
    out.many(Uint8Array.of(1), false, 0)
    let added = 0
    while (out.addReceiver(added + 1)) added++
    expect(added).toBe(65534)
  })

  it('are refused when the version byte or the length is wrong', () => {
    expect(BatchReader.header(Buffer.alloc(HEADER_SIZE - 1))).toBeNull()
    const batch = new BatchWriter().take(1, 1, 1)
    batch[0] = 9
    expect(BatchReader.header(batch)).toBeNull()
  })
})
