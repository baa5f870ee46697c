import { afterEach, describe, expect, it } from 'vitest'
import { DropReason, type WebSocketMultiplayerPeer } from '@wsmp/server'
import { closeAll } from './helpers.js'
import { RawWs, finish, scene, stopTraffic, until, type Traffic } from './hostile-helpers.js'

/**
 * Hostile frames: a plain `ws` client sends what no wsmp or Godot peer would while well-behaved
 * wsmp clients keep exchanging reliable, sequence-numbered packets. The offender's input is
 * dropped and counted by reason; nothing of the well-behaved peers is lost or reordered.
 */

afterEach(() => {
  stopTraffic()
  closeAll()
})

function int32(value: number): number[] {
  const b = Buffer.alloc(4)
  b.writeInt32LE(value)
  return [...b]
}

/** The well-behaved clients saw no garbage: the server forwarded none of the offender's bad input. */
function cleanClients(t: Traffic): void {
  for (const c of t.clients) {
    expect(c.getStats().protocolErrors).toBe(0)
    expect(c.getStats().dropped).toEqual({})
  }
}

function addCounts(into: Partial<Record<DropReason, number>>, reason: DropReason, n = 1): void {
  into[reason] = (into[reason] ?? 0) + n
}

describe('hostile frames', () => {
  it('drops and counts truncated, unknown and SceneMultiplayer frames (RPC, spawn, sync, ADD/DEL_PEER) from a client, which stays connected', async () => {
    const s = await scene()
    const offender = await RawWs.connect(s.url)
    const [wb0] = s.traffic.clientIds as [number]
    const expected: Partial<Record<DropReason, number>> = {}
    const send = (bytes: number[], reason: DropReason) => {
      offender.send(Uint8Array.from(bytes))
      addCounts(expected, reason)
    }
    // Truncated.
    send([], DropReason.MALFORMED)
    send([0x03], DropReason.MALFORMED)
    send([0x0b], DropReason.MALFORMED) // RAW with flag bits, no payload
    send([0x07], DropReason.MALFORMED)
    send([0x07, 0x01], DropReason.MALFORMED)
    send([0x07, 0x03, 0, 0, 0], DropReason.MALFORMED)
    // SYS AUTH (not interpreted) and every SYS command that does not exist.
    send([0x07, 0x00, 0, 0, 0, 0], DropReason.NOT_INTERPRETED)
    send([0x07, 0x00, 0, 0, 0, 0, 1, 2, 3], DropReason.NOT_INTERPRETED)
    for (let cmd = 4; cmd <= 255; cmd++) send([0x07, cmd, ...int32(wb0), 0x03, 0x41], DropReason.UNKNOWN_COMMAND)
    // SceneMultiplayer's RPC, path, spawn, despawn and sync commands, with and without flag bits.
    for (const cmd of [0, 1, 2, 4, 5, 6]) {
      send([cmd, 1, 2, 3, 4], DropReason.NOT_INTERPRETED)
      send([cmd | 0x40, 0x10], DropReason.NOT_INTERPRETED)
      send([cmd], DropReason.NOT_INTERPRETED)
    }
    // Announcements only the server may send: a fake peer, a real one, a removal of a real one.
    send([0x07, 0x01, ...int32(123456)], DropReason.NOT_INTERPRETED)
    send([0x07, 0x01, ...int32(wb0)], DropReason.NOT_INTERPRETED)
    for (const id of s.traffic.clientIds) send([0x07, 0x02, ...int32(id)], DropReason.NOT_INTERPRETED)
    send([0x07, 0x02, ...int32(1)], DropReason.NOT_INTERPRETED)
    // Then proper packets: the connection still serves, in order.
    offender.send(Uint8Array.from([0x03, ...Buffer.from('still here')]))
    offender.send(Uint8Array.from([0x0b, ...Buffer.from('flag bits')]))
    const total = Object.values(expected).reduce((a, b) => a + b, 0)

    await until(() => s.traffic.serverReceiver.foreign.length >= 2, 'the offender’s valid packets')
    expect(s.traffic.serverReceiver.foreign.map((p) => [p.from, Buffer.from(p.data).toString()])).toEqual([
      [offender.id, 'still here'],
      [offender.id, 'flag bits'],
    ])
    const stats = s.server.getPeerStats(offender.id)
    expect(stats?.dropped).toEqual(expected)
    expect(stats?.protocolErrors).toBe(total)
    expect(stats?.packetsIn).toBe(total + 2)
    expect(offender.close).toBeNull()
    // The offender heard every announcement but sent none that took effect.
    cleanClients(s.traffic)
    await finish(s, [offender])
    expect(s.server.getStats().dropped).toEqual(expected)
  })

  it('drops relays without a packet, with a lone [0x03] inside, to absent peers; echoes one to the sender itself (as Godot)', async () => {
    const s = await scene()
    const offender = await RawWs.connect(s.url)
    const ids = s.traffic.clientIds
    const [wb0, wb1] = ids as [number, number]
    let absent = 2
    while (ids.includes(absent) || absent === offender.id) absent++
    const expected: Partial<Record<DropReason, number>> = {}
    const send = (bytes: number[], reason: DropReason) => {
      offender.send(Uint8Array.from(bytes))
      addCounts(expected, reason)
    }
    for (const target of [0, 1, -1, wb0, -wb0, offender.id, absent]) {
      send([0x07, 0x03, ...int32(target)], DropReason.MALFORMED) // no inner packet at all
      send([0x07, 0x03, ...int32(target), 0x03], DropReason.MALFORMED) // RAW with no payload
      send([0x07, 0x03, ...int32(target), 0x0b], DropReason.MALFORMED) // the same with flag bits
    }
    send([0x07, 0x03, ...int32(absent), 0x03, 0x41], DropReason.ABSENT_TARGET)
    send([0x07, 0x03, ...int32(0x7fffffff === absent ? 0x7ffffffe : 0x7fffffff), 0x03, 0x41], DropReason.ABSENT_TARGET)
    // A relay to 1 of something other than RAW reaches the server, which has no scene handler.
    send([0x07, 0x03, ...int32(1), 0x00, 0x01, 0x02], DropReason.NOT_INTERPRETED)
    // A relay to oneself comes back stamped with one's own id, as from a Godot server.
    offender.send(Uint8Array.from([0x07, 0x03, ...int32(offender.id), 0x03, 0x41]))
    const total = Object.values(expected).reduce((a, b) => a + b, 0)
    // After the garbage, proper relays from the offender still work: unicast and broadcast.
    offender.send(Uint8Array.from([0x07, 0x03, ...int32(wb1), 0x03, ...Buffer.from('to wb1')]))
    offender.send(Uint8Array.from([0x07, 0x03, ...int32(0), 0x03, ...Buffer.from('to all')]))

    const [r0, r1, r2] = s.traffic.receivers as [(typeof s.traffic.receivers)[0], (typeof s.traffic.receivers)[0], (typeof s.traffic.receivers)[0]]
    const text = (r: typeof r0) => r.foreign.map((p) => `${p.from}:${Buffer.from(p.data).toString()}`)
    await until(() => r1.foreign.length >= 2 && r0.foreign.length >= 1 && r2.foreign.length >= 1 && s.traffic.serverReceiver.foreign.length >= 1, 'the offender’s valid relays')
    expect(text(r1)).toEqual([`${offender.id}:to wb1`, `${offender.id}:to all`])
    expect(text(r0)).toEqual([`${offender.id}:to all`])
    expect(text(r2)).toEqual([`${offender.id}:to all`])
    expect(text(s.traffic.serverReceiver)).toEqual([`${offender.id}:to all`])
    // The offender got its own relay back, and nothing else of its garbage.
    const echoes = offender.messages.filter((m) => m.data[0] === 0x07 && m.data[1] === 0x03 && m.data.readInt32LE(2) === offender.id)
    expect(echoes.map((m) => [...m.data.subarray(6)])).toEqual([[0x03, 0x41]])

    const stats = s.server.getPeerStats(offender.id)
    expect(stats?.dropped).toEqual(expected)
    expect(stats?.protocolErrors).toBe(total)
    expect(offender.close).toBeNull()
    cleanClients(s.traffic)
    await finish(s, [offender])
  })

  it('forwards a relayed SceneMultiplayer command (as Godot does); the receiving wsmp client drops and counts it', async () => {
    const s = await scene()
    const offender = await RawWs.connect(s.url)
    const [wb0] = s.traffic.clientIds as [number]
    const rpc = [0x00, 0x01, 0x02, 0x03]
    offender.send(Uint8Array.from([0x07, 0x03, ...int32(wb0), ...rpc]))
    const client = s.traffic.clients[0] as WebSocketMultiplayerPeer
    await until(() => (client.getStats().dropped[DropReason.NOT_INTERPRETED] ?? 0) === 1, 'client 0 to drop the relayed RPC')
    expect(s.server.getPeerStats(offender.id)?.dropped).toEqual({})
    expect(s.traffic.receivers[0]?.foreign).toEqual([])
    await finish(s, [offender])
  })

  it('parses text frames like binary ones: a text [0x03]… is a packet with wasStringPacket() true; garbage text is dropped and counted', async () => {
    const s = await scene()
    const offender = await RawWs.connect(s.url)
    const expected: Partial<Record<DropReason, number>> = {}
    const garbage = (text: string, reason: DropReason) => {
      offender.send(text, false)
      addCounts(expected, reason)
    }
    garbage('', DropReason.MALFORMED)
    garbage('\x03', DropReason.MALFORMED)
    garbage('hello', DropReason.NOT_INTERPRETED) // 'h' & 7 = 0: an RPC
    garbage('A', DropReason.NOT_INTERPRETED) // 'A' & 7 = 1
    garbage('\x07ab', DropReason.MALFORMED) // SYS shorter than 6 bytes
    garbage('\x07\x09abcd', DropReason.UNKNOWN_COMMAND)
    garbage('\x07\x01abcd', DropReason.NOT_INTERPRETED) // ADD_PEER from a client
    garbage('\x07\x03\x00\x00\x00\x00', DropReason.MALFORMED) // a relay without a packet
    // '{' is 0x7b, whose low three bits are 3 (RAW): Godot reads JSON text as a packet too.
    offender.send('{"json":true}', false)
    offender.send('\x03hello', false)
    offender.send(Uint8Array.from([0x03, ...Buffer.from('binary')]))
    offender.send('\x03héllo ✓', false)
    await until(() => s.traffic.serverReceiver.foreign.length >= 4, 'the text packets')
    const got = s.traffic.serverReceiver.foreign.map((p) => [Buffer.from(p.data).toString(), p.wasString])
    expect(got).toEqual([
      ['"json":true}', true],
      ['hello', true],
      ['binary', false],
      ['héllo ✓', true],
    ])
    expect(s.server.getPeerStats(offender.id)?.dropped).toEqual(expected)
    expect(offender.close).toBeNull()
    cleanClients(s.traffic)
    await finish(s, [offender])
  })

  it('closes a client whose text frame is not UTF-8 with 1007; others are untouched', async () => {
    const s = await scene()
    const offender = await RawWs.connect(s.url)
    offender.send(Uint8Array.from([0x03, 0xff, 0xfe, 0xc0]), false)
    const close = await offender.closed()
    expect(close.code).toBe(1007)
    await until(() => s.traffic.serverReceiver.events.includes(`-${offender.id}`), 'the server to drop the offender')
    await finish(s, [offender])
  })
})
