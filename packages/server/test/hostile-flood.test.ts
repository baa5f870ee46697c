import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode, DropReason, WebSocketPeer } from '@wsmp/server'
import { closeAll } from './helpers.js'
import { RawTcp, RawWs, backpressure, clientFrame, finish, internals, scene, stopTraffic, until } from './hostile-helpers.js'

/**
 * Floods: a plain `ws` client sends as fast as it can while well-behaved wsmp clients keep
 * exchanging reliable, sequence-numbered packets through the server.
 */

afterEach(() => {
  stopTraffic()
  closeAll()
})

function seqPacket(seq: number, size: number, header: number[] = [0x03]): Uint8Array {
  const out = new Uint8Array(header.length + size).fill(0x46)
  out.set(header)
  new DataView(out.buffer).setUint32(header.length, seq, true)
  return out
}

function seqOf(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true)
}

describe('floods', () => {
  it('stops reading a flooder while the application does not poll (maxQueuedPackets), others unaffected; after polling everything arrives in order', async () => {
    const MAX_QUEUED = 256
    // The well-behaved broadcasts' server share queues up too while the server does not poll:
    // they stay under the per-connection limit.
    // inboundBufferSize is raised so that the packet count, not the unread-bytes budget
    // (inboundBufferSize bytes; hostile-inbound.test.ts), is what stops the reading here.
    const s = await scene({ maxQueuedPackets: MAX_QUEUED, inboundBufferSize: 1 << 20 }, { pollServer: false, maxBroadcasts: 150 })
    const flooder = await RawWs.connect(s.url)
    const COUNT = 4000
    const SIZE = 1000
    for (let i = 0; i < COUNT; i++) flooder.send(seqPacket(i, SIZE))
    const peer = s.server.getPeer(flooder.id)
    expect(peer).not.toBeNull()
    if (!peer) return
    await until(() => backpressure(peer).paused, 'the server to pause the flooder')
    // The server stops reading: more well-behaved traffic flows, the flooder's count stands still.
    const before = s.server.getPeerStats(flooder.id)?.packetsIn ?? 0
    await s.traffic.runTicks(100)
    const after = s.server.getPeerStats(flooder.id)?.packetsIn ?? 0
    expect(after).toBe(before)
    // At most what one socket read held came in past the limit (ws parses a whole chunk).
    expect(after).toBeLessThan(MAX_QUEUED + 100)
    expect(backpressure(peer).unread).toBeGreaterThanOrEqual(MAX_QUEUED)
    expect(backpressure(peer).paused).toBe(true)
    // Nothing was dropped to make room.
    expect(s.server.getPeerStats(flooder.id)?.dropped).toEqual({})
    // Every well-behaved client got everything sent meanwhile (relays do not wait for the server's poll).
    for (const r of s.traffic.receivers) expect(r.foreign).toEqual([])

    // The application polls again: the flood arrives whole and in order, reading resumes.
    s.traffic.pollServer = true
    await until(
      () => s.traffic.serverReceiver.foreign.length === COUNT,
      () => `the whole flood (${s.traffic.serverReceiver.foreign.length} of ${COUNT})`,
      30_000,
    )
    const seqs = s.traffic.serverReceiver.foreign.map((p) => seqOf(p.data))
    expect(seqs.every((seq, i) => seq === i)).toBe(true)
    expect(s.traffic.serverReceiver.foreign.every((p) => p.from === flooder.id && p.data.length === SIZE)).toBe(true)
    expect(backpressure(peer).paused).toBe(false)
    await flooder.flushed()
    s.traffic.serverReceiver.foreign.length = 0
    await finish(s, [flooder])
  })

  it('a flooder that disconnects while paused: its packets read so far arrive in order, then peer_disconnected, nothing after', async () => {
    const MAX_QUEUED = 64
    const s = await scene({ maxQueuedPackets: MAX_QUEUED }, { pollServer: false, maxBroadcasts: 40 })
    const flooder = await RawWs.connect(s.url)
    const fid = flooder.id
    for (let i = 0; i < 2000; i++) flooder.send(seqPacket(i, 1000))
    const peer = s.server.getPeer(fid)
    if (!peer) throw new Error('no flooder')
    await until(() => backpressure(peer).paused, 'the server to pause the flooder')
    // Gone abruptly: what is still in its send buffer is lost with it, what the server read is not.
    flooder.ws.terminate()
    const queue = internals(s.server)._queue as unknown as Iterable<{ from: number }>
    let countAtSignal = -1
    s.server.on('peer_disconnected', (id) => {
      if (id !== fid) return
      countAtSignal = s.traffic.serverReceiver.foreign.filter((p) => p.from === fid).length + [...queue].filter((p) => p.from === fid).length
    })
    s.traffic.pollServer = true
    await until(() => countAtSignal >= 0, 'peer_disconnected of the flooder')
    await s.traffic.runTicks(5)
    const got = s.traffic.serverReceiver.foreign.filter((p) => p.from === fid)
    expect(got.length).toBe(countAtSignal)
    expect(got.length).toBeGreaterThanOrEqual(MAX_QUEUED)
    expect(got.map((p) => seqOf(p.data)).every((seq, i) => seq === i)).toBe(true)
    s.traffic.serverReceiver.foreign.length = 0
    await finish(s)
  })

  it('relays a flood of unicasts to a well-behaved client that keeps polling, without losing anyone', async () => {
    const s = await scene()
    const flooder = await RawWs.connect(s.url)
    const victim = s.traffic.clientIds[0] as number
    const COUNT = 3000
    const target = Buffer.alloc(4)
    target.writeInt32LE(victim)
    for (let i = 0; i < COUNT; i++) flooder.send(seqPacket(i, 100, [0x07, 0x03, ...target, 0x03]))
    const r = s.traffic.receivers[0]
    if (!r) throw new Error('no receiver')
    await until(
      () => r.foreign.length === COUNT || r.serverDisconnected,
      () => `the victim to get the flood (${r.foreign.length} of ${COUNT})`,
      30_000,
    )
    expect(r.serverDisconnected).toBe(false)
    expect(r.foreign.map((p) => seqOf(p.data)).every((seq, i) => seq === i)).toBe(true)
    expect(r.foreign.every((p) => p.from === flooder.id)).toBe(true)
    r.foreign.length = 0
    await finish(s, [flooder])
  })

  it('disconnects a client that stops reading once relays to it no longer fit (4000 "outbound buffer full"); others unaffected', async () => {
    const s = await scene()
    const slow = await RawTcp.upgraded(s.port)
    slow.socket.pause() // never reads again
    const flooder = await RawWs.connect(s.url)
    const target = Buffer.alloc(4)
    target.writeInt32LE(slow.id)
    const relay = Uint8Array.from([0x07, 0x03, ...target, 0x03, ...new Uint8Array(30_000).fill(0x53)])
    let sent = 0
    const peer = s.server.getPeer(slow.id)
    if (!peer) throw new Error('no slow peer')
    // Bounded: at most 64 MiB of relays, sent as the flooder's buffer drains.
    await until(
      () => {
        while (flooder.ws.bufferedAmount < 1_000_000 && sent < 2000 && peer.getReadyState() === WebSocketPeer.State.OPEN) {
          flooder.send(relay)
          sent++
        }
        return peer.getReadyState() !== WebSocketPeer.State.OPEN
      },
      () => `the slow client to be cut (${sent} relays sent)`,
      30_000,
    )
    await until(() => s.traffic.serverReceiver.events.includes(`-${slow.id}`), 'peer_disconnected of the slow client')
    // Counted once; the flooder was not blamed (relays still in flight to the departed peer are
    // dropped as absent_target) and stays connected.
    expect(s.server.getStats().dropped[DropReason.OUTBOUND_FULL]).toBe(1)
    expect(flooder.close).toBeNull()
    const drops = s.server.getPeerStats(flooder.id)?.dropped ?? {}
    expect(Object.keys(drops).filter((reason) => reason !== DropReason.ABSENT_TARGET)).toEqual([])
    // Its socket does not linger for ws's 30 s close timeout: dropped after a short grace.
    await until(() => peer.getReadyState() === WebSocketPeer.State.CLOSED, 'the slow client’s socket to be dropped', 10_000)
    slow.socket.resume()
    await until(() => slow.closeFrame !== null || slow.ended, 'the slow client to see the close')
    if (slow.closeFrame) expect(slow.closeFrame).toEqual({ code: CloseCode.OUTBOUND_BUFFER_FULL, reason: 'outbound buffer full' })
    await finish(s, [flooder], [slow.socket])
  })

  it('cuts a ping flood from a client that never reads the pongs, before the pongs pile up; others unaffected', async () => {
    const s = await scene()
    const raw = await RawTcp.upgraded(s.port)
    raw.socket.pause()
    const peer = s.server.getPeer(raw.id)
    if (!peer) throw new Error('no peer')
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => clientFrame(0x9, new Uint8Array(125))))
    let sent = 0
    let maxBuffered = 0
    // Bounded: at most 200 batches (26 MB of pings).
    await until(
      () => {
        maxBuffered = Math.max(maxBuffered, peer.getCurrentOutboundBufferedAmount())
        while (!raw.ended && raw.socket.writableLength < 1_000_000 && sent < 200) {
          raw.socket.write(batch)
          sent++
        }
        return raw.ended || peer.getReadyState() === WebSocketPeer.State.CLOSED
      },
      'the ping flooder to be cut',
      30_000,
    )
    expect(sent).toBeLessThan(200)
    // The pongs owed to it never grew past a bounded amount.
    expect(maxBuffered).toBeLessThan(1024 * 1024)
    await until(() => s.traffic.serverReceiver.events.includes(`-${raw.id}`), 'peer_disconnected of the ping flooder')
    await finish(s, [], [raw.socket])
  })

  it('drops and counts a flood of garbage, warning once per reason, and keeps serving the flooder', async () => {
    const warnings: string[] = []
    // Rate limits off: this is about garbage dropped and counted (limits-rate.test.ts has the limits).
    const s = await scene({ logger: { warn: (m) => warnings.push(m) }, maxPacketsPerSecond: 0 })
    const flooder = await RawWs.connect(s.url)
    const COUNT = 20_000
    for (let i = 0; i < COUNT; i++) flooder.send(Uint8Array.from([i % 2 === 0 ? 0x00 : 0x03]))
    flooder.send(Uint8Array.from([0x03, 0x21]))
    await until(() => s.traffic.serverReceiver.foreign.length === 1, 'the packet after the garbage', 30_000)
    expect(s.server.getPeerStats(flooder.id)?.dropped).toEqual({ [DropReason.NOT_INTERPRETED]: COUNT / 2, [DropReason.MALFORMED]: COUNT / 2 })
    const about = warnings.filter((w) => w.includes(`from peer ${flooder.id}`))
    expect(about).toHaveLength(2)
    await finish(s, [flooder])
  })
})
