import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DropReason } from '@wsmp/server'
import { closeAll } from './helpers.js'
import { RawWs, finish, scene, stopTraffic, until, type Receiver } from './hostile-helpers.js'

/**
 * The server's decode path under fast-check: random messages from a plain `ws` client into a
 * real server, beside well-behaved traffic. Every message must have exactly the effect the
 * framing rules give it (a packet for the server, a relay to the right peers, or a drop counted
 * by reason), the server must never throw and must keep serving everyone.
 */

afterEach(() => {
  stopTraffic()
  closeAll()
})

type Counts = Partial<Record<DropReason, number>>

interface Expected {
  offenderDrops: Counts
  server: string[]
  clients: Map<number, { packets: string[]; drops: Counts }>
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

function add(counts: Counts, reason: DropReason): void {
  counts[reason] = (counts[reason] ?? 0) + 1
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

function int32(value: number): number[] {
  const b = Buffer.alloc(4)
  b.writeInt32LE(value)
  return [...b]
}

/**
 * What a wsmp peer without a scene handler does with a relayed inner packet: a RAW one is a
 * packet; an inner SYS is an unknown command; RPC, path cache and replication are not interpreted.
 */
function innerEffect(inner: Uint8Array): DropReason | 'packet' {
  if (inner.length < 2) return DropReason.MALFORMED
  const cmd = (inner[0] as number) & 0x07
  if (cmd === 0x03) return 'packet'
  return cmd === 0x07 ? DropReason.UNKNOWN_COMMAND : DropReason.NOT_INTERPRETED
}

/** What a wsmp client does with `[0x07][0x03][source][inner]` from the server. */
function clientGets(inner: Uint8Array, into: { packets: string[]; drops: Counts }): void {
  const effect = innerEffect(inner)
  if (effect === 'packet') into.packets.push(hex(inner.subarray(1)))
  else add(into.drops, effect)
}

/** The framing rules of DESIGN.md, applied to one client → server message. */
function model(bytes: Uint8Array, wasString: boolean, offender: number, wellBehaved: number[], e: Expected): void {
  const drop = (reason: DropReason) => add(e.offenderDrops, reason)
  if (bytes.length === 0) return drop(DropReason.MALFORMED)
  const cmd = (bytes[0] as number) & 0x07
  if (cmd === 0x03) {
    if (bytes.length < 2) return drop(DropReason.MALFORMED)
    e.server.push(`${hex(bytes.subarray(1))}/${wasString}`)
    return
  }
  // RPC, path cache, replication: no scene handler on this server.
  if (cmd !== 0x07) return drop(DropReason.NOT_INTERPRETED)
  if (bytes.length < 2) return drop(DropReason.MALFORMED)
  const sys = bytes[1] as number
  // AUTH after admission: a bare "completed" is ignored (as Godot does), data is not expected.
  if (sys === 0) return bytes.length === 2 ? undefined : drop(DropReason.NOT_INTERPRETED)
  if (bytes.length < 6) return drop(DropReason.MALFORMED)
  if (sys === 1 || sys === 2) return drop(DropReason.NOT_INTERPRETED)
  if (sys !== 3) return drop(DropReason.UNKNOWN_COMMAND)
  if (bytes.length < 7) return drop(DropReason.MALFORMED)
  const target = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readInt32LE(2)
  const inner = bytes.subarray(6)
  // An inner packet of one byte carries nothing (a lone `[0x03]`, or any lone command byte).
  if (inner.length < 2) return drop(DropReason.MALFORMED)
  if (target > 1) {
    // To oneself: echoed back (as Godot); to an absent peer: dropped.
    if (target === offender) return
    if (!wellBehaved.includes(target)) return drop(DropReason.ABSENT_TARGET)
    clientGets(inner, e.clients.get(target)!)
    return
  }
  // A relay to 1 is for the server alone (DESIGN).
  if (target <= 0) for (const id of wellBehaved) if (id !== -target) clientGets(inner, e.clients.get(id)!)
  if (target === -1) return
  const effect = innerEffect(inner)
  if (effect === 'packet') e.server.push(`${hex(inner.subarray(1))}/${wasString}`)
  else drop(effect)
}

function minus(after: Counts, before: Counts): Counts {
  const out: Counts = {}
  for (const [k, v] of Object.entries(after) as [DropReason, number][]) {
    const d = v - (before[k] ?? 0)
    if (d !== 0) out[k] = d
  }
  return out
}

describe('server decode path under fast-check', () => {
  it('gives every random message exactly its framing effect, never throws, keeps serving', { timeout: 120_000 }, async () => {
    const s = await scene()
    const offender = await RawWs.connect(s.url)
    const ids = s.traffic.clientIds
    let absent = 2
    while (ids.includes(absent) || absent === offender.id) absent++
    const target = fc.oneof(fc.constantFrom(0, 1, -1, offender.id, -offender.id, absent, ...ids, ...ids.map((id) => -id)), fc.integer({ min: -0x80000000, max: 0x7fffffff }))
    const inner = fc.oneof(
      fc.uint8Array({ maxLength: 6 }),
      fc.uint8Array({ minLength: 1, maxLength: 8 }).map((p) => Uint8Array.from([0x03, ...p])),
      fc.constantFrom(Uint8Array.of(0x03), Uint8Array.of(0x0b), Uint8Array.of(0x00, 0x01)),
    )
    const message = fc.oneof(
      fc.uint8Array({ maxLength: 16 }),
      fc.tuple(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 0x0b, 0x0f, 0x43, 0xff), fc.uint8Array({ maxLength: 8 })).map(([c, rest]) => Uint8Array.from([c, ...rest])),
      fc.tuple(fc.constantFrom(0, 1, 2, 3, 3, 3, 4, 255), target, inner).map(([sys, t, i]) => Uint8Array.from([0x07, sys, ...int32(t), ...i])),
      fc.tuple(fc.constantFrom(0, 1, 2, 3), fc.uint8Array({ maxLength: 4 })).map(([sys, rest]) => Uint8Array.from([0x07, sys, ...rest])),
    )
    const messages = fc.array(fc.record({ bytes: message, asText: fc.boolean() }), { minLength: 10, maxLength: 30 })

    const receivers: [number, Receiver][] = s.traffic.receivers.map((r) => [r.peer.getUniqueId(), r])
    const mark = (r: Receiver) => r.foreign.length
    let run = 0
    let total = 0
    await fc.assert(
      fc.asyncProperty(messages, async (batch) => {
        run++
        const expected: Expected = { offenderDrops: {}, server: [], clients: new Map(ids.map((id) => [id, { packets: [], drops: {} }])) }
        const serverMark = mark(s.traffic.serverReceiver)
        const clientMarks = receivers.map(([, r]) => mark(r))
        const dropsBefore = { ...(s.server.getPeerStats(offender.id)?.dropped ?? {}) }
        const clientDropsBefore = s.traffic.clients.map((c) => ({ ...c.getStats().dropped }))
        for (const { bytes, asText } of batch) {
          const text = asText && isUtf8(bytes)
          if (text) offender.send(Buffer.from(bytes).toString('utf8'), false)
          else offender.send(bytes)
          model(bytes, text, offender.id, ids, expected)
          total++
        }
        // A sentinel broadcast relay: everything before it has been handled once it arrives everywhere.
        const sentinel = Uint8Array.from([0x07, 0x03, ...int32(0), 0x03, ...Buffer.from(`end ${run}`)])
        offender.send(sentinel)
        const isSentinel = (r: Receiver, from: number) => r.foreign.slice(from).some((p) => Buffer.from(p.data).toString() === `end ${run}`)
        await until(() => isSentinel(s.traffic.serverReceiver, serverMark) && receivers.every(([, r], i) => isSentinel(r, clientMarks[i]!)), `the sentinel of run ${run}`)
        expect(offender.close).toBeNull()
        const serverGot = s.traffic.serverReceiver.foreign
          .slice(serverMark)
          .filter((p) => Buffer.from(p.data).toString() !== `end ${run}`)
          .map((p) => `${hex(p.data)}/${p.wasString}`)
        expect(serverGot).toEqual(expected.server)
        expect(minus(s.server.getPeerStats(offender.id)?.dropped ?? {}, dropsBefore)).toEqual(expected.offenderDrops)
        receivers.forEach(([id, r], i) => {
          const got = r.foreign.slice(clientMarks[i]).filter((p) => Buffer.from(p.data).toString() !== `end ${run}`)
          expect(got.every((p) => p.from === offender.id)).toBe(true)
          expect(got.map((p) => hex(p.data))).toEqual(expected.clients.get(id)!.packets)
          const client = s.traffic.clients[i]!
          expect(minus(client.getStats().dropped, clientDropsBefore[i]!)).toEqual(expected.clients.get(id)!.drops)
        })
      }),
      { numRuns: 10 },
    )
    expect(total).toBeGreaterThanOrEqual(10)
    // The well-behaved side lost nothing, the server still serves, and the tables are clean.
    await finish(s, [offender])
  })
})
