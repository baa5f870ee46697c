import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CloseCode, type WebSocketMultiplayerPeer } from '@wsmp/server'
import { MeteredReader, RawWs, closeHonest, closeSockets, endChildren, figure, honestClient, mib, relayPacket, secs, seqPayload, startServer, until } from './support.js'

/**
 * 2. Kick-by-proxy: a victim reading at ~1 MB/s (a raw TCP WebSocket client that stops reading
 * its socket whenever it is ahead of that pace) while an attacker relays to it at full speed
 * (SYS RELAY to the victim's id). The victim keeps its connection and every reliable packet, in
 * order; the attacker is slowed (the server stops reading it) or cut with a stated close code.
 * And a receiver that does not read the server's own traffic to everyone is still dropped (4000).
 */

afterEach(() => {
  closeHonest()
  closeSockets()
})
afterAll(() => endChildren())

const SCENARIO = 'kick-by-proxy'
const RATE = 1_000_000

/** The relayed packets in `messages` from `source`: `[0x07][0x03][int32 source][0x03][payload]`, their payload's sequence numbers. */
function relayedSeqs(messages: Buffer[], source: number): number[] {
  const out: number[] = []
  for (const m of messages) if (m.length >= 11 && m[0] === 0x07 && m[1] === 0x03 && m.readInt32LE(2) === source && m[6] === 0x03) out.push(m.readUInt32LE(7))
  return out
}

describe('2. kick-by-proxy', () => {
  it('a victim reading at 1 MB/s keeps its connection and every relayed packet in order while an attacker relays to it at full speed', async () => {
    const server = await startServer()
    const victim = new MeteredReader(server.port, Infinity)
    await victim.opened()
    const attacker = await RawWs.connect(server.url)
    // The attacker's announcement reaches the victim first.
    await until(() => victim.messages.some((m) => m[0] === 0x07 && m[1] === 0x01 && m.readInt32LE(2) === attacker.id), 'the victim to hear of the attacker')
    // 8 s of relays at the victim's rate: long past what the kernel's socket buffers hold (~5 MB here).
    const COUNT = 8000
    const SIZE = 1000
    const baseline = await server.stats(true)
    victim.meter(RATE)
    const started = performance.now()
    for (let i = 0; i < COUNT; i++) attacker.send(relayPacket(victim.id, seqPayload(i, SIZE)))
    // What the server has read from the attacker (its getPeerStats bytesIn), every 500 ms: slowed, it
    // reads the attacker about as fast as the victim drains, not as fast as the attacker sends.
    const intake: { t: number; bytesIn: number }[] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling && server.alive()) {
        const stats = await server.stats(false, false, false, [attacker.id])
        const bytesIn = stats.peerStats?.[String(attacker.id)]?.bytesIn
        if (bytesIn !== undefined) intake.push({ t: performance.now() - started, bytesIn })
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    })()
    let peakRss = baseline.rss
    await until(
      () => {
        const latest = server.latest()
        if (latest && latest.rss > peakRss) peakRss = latest.rss
        return relayedSeqs(victim.messages, attacker.id).length >= COUNT || victim.ended || attacker.close !== null
      },
      () => `the victim to get all ${COUNT} relayed packets (has ${relayedSeqs(victim.messages, attacker.id).length})`,
      45_000,
    )
    const elapsed = performance.now() - started
    sampling = false
    await sampler
    const seqs = relayedSeqs(victim.messages, attacker.id)
    const inOrder = seqs.every((s, i) => s === i)
    const total = COUNT * (SIZE + 7 + 6) // payload, relay header, frame header (masked)
    const at = (ms: number) => intake.filter((s) => s.t <= ms).pop()
    const a = at(2000)
    const b = at(4000)
    const slope = a && b && b.t > a.t ? ((b.bytesIn - a.bytesIn) / (b.t - a.t)) * 1000 : NaN
    const attackerFate = attacker.close
      ? `attacker closed with ${attacker.close.code} ${attacker.close.reason} after ${secs(elapsed)}`
      : `attacker slowed: the server had read ${mib(a?.bytesIn ?? 0)} of its ${mib(total)} after ${secs(a?.t ?? 0)}, then read it at ${(slope / 1e6).toFixed(2)} MB/s`
    const victimFate =
      victim.ended || victim.closeCode !== 0
        ? `, then was CUT with ${victim.closeCode || 'no close frame'} (${server.lines.find((l) => l.includes(`peer ${victim.id}:`))?.trim() ?? ''})`
        : ''
    figure(
      SCENARIO,
      `victim (reading at ${(RATE / 1e6).toFixed(1)} MB/s) kept ${((100 * seqs.length) / COUNT).toFixed(0)}% of ${COUNT} packets of ${SIZE} B${inOrder ? ' in order' : ' OUT OF ORDER'} in ${secs(elapsed)} (${((COUNT * SIZE) / elapsed / 1000).toFixed(2)} MB/s)${victimFate}; ${attackerFate}; server RSS ${mib(baseline.rss)} → peak ${mib(peakRss)}`,
    )
    // Whatever happened to the attacker, the victim must not have been cut and must have everything sent before a cut.
    expect(
      victim.ended,
      `victim closed with ${victim.closeCode} after ${secs(elapsed)}, ${mib(victim.bytesRead)} read, ${relayedSeqs(victim.messages, attacker.id).length} packets; server said: ${server.lines.join(' | ')}`,
    ).toBe(false)
    expect(victim.closeCode).toBe(0)
    expect(inOrder).toBe(true)
    if (attacker.close) {
      // Cut: with a stated wsmp close code, and the victim still got every packet the server read from it, in order.
      expect(attacker.close.code).toBeGreaterThanOrEqual(4000)
    } else {
      expect(seqs.length).toBe(COUNT)
      // Slowed: 2 s in, the server had not read everything the attacker sent at once (it stopped
      // reading it), and between 2 s and 4 s it read it no faster than twice the victim's rate.
      expect(a?.bytesIn ?? 0).toBeLessThan(total)
      expect(slope).toBeLessThan(2 * RATE)
    }
    // The server still serves.
    expect(server.alive()).toBe(true)
    const { ms } = await honestClient(server.url)
    expect(ms).toBeLessThan(2000)
  })

  it('a receiver that does not read the server’s own broadcast is still dropped (4000), while a reading client gets everything', async () => {
    const server = await startServer({ events: true })
    const { client: reader } = await honestClient(server.url)
    const slow = new MeteredReader(server.port, Infinity)
    await slow.opened()
    slow.meter(0) // never reads again (until the end, to see how it was closed)
    const SIZE = 16_000
    const PER_TICK = 8
    const TICKS = 120 // 6 s of 2.56 MB/s at the 20 Hz tick
    const started = performance.now()
    server.send({ cmd: 'broadcast', size: SIZE, perTick: PER_TICK, ticks: TICKS })
    let next = 0
    let outOfOrder = 0
    const read = (r: WebSocketMultiplayerPeer): void => {
      r.poll()
      while (r.getAvailablePacketCount() > 0) {
        const data = r.getPacket()
        if (data.length !== SIZE) continue
        const seq = new DataView(data.buffer, data.byteOffset).getUint32(0, true)
        if (seq !== next) outOfOrder++
        next = seq + 1
      }
    }
    // The server's peer_disconnected of the slow receiver: when it was cut.
    let slowCutAt = 0
    await until(
      () => {
        read(reader)
        if (slowCutAt === 0 && server.messages.some((m) => m.type === 'peer' && m.id === slow.id && m.joined === false)) slowCutAt = performance.now()
        return slowCutAt !== 0 && next >= PER_TICK * TICKS
      },
      () => `the slow receiver to be cut (${slowCutAt ? 'it was' : 'it was not'}) and the reader to get all ${PER_TICK * TICKS} packets (has ${next})`,
      30_000,
    )
    const readBeforeCut = slow.bytesRead
    // It reads again: what it was sent ends with the close frame (or the connection is gone).
    slow.unmeter()
    await until(() => slow.closeCode !== 0 || slow.ended, 'the slow receiver to see its close')
    figure(
      SCENARIO,
      `a receiver not reading the server's broadcast (${((SIZE * PER_TICK * 20) / 1e6).toFixed(2)} MB/s) was cut after ${secs(slowCutAt - started)} with close code ${slow.closeCode || 'none (connection dropped)'} (${mib(readBeforeCut)} read before); a reading client got ${next} of ${PER_TICK * TICKS} packets, ${outOfOrder} out of order, and stayed connected`,
    )
    // 4000 on the wire when it reads again before the server drops the socket (1 s later); the server states it in its log either way.
    expect([CloseCode.OUTBOUND_BUFFER_FULL, 0]).toContain(slow.closeCode)
    expect(server.lines.filter((l) => l.includes(`peer ${slow.id}:`) && l.includes('disconnecting the slow peer'))).toHaveLength(1)
    expect(outOfOrder).toBe(0)
    expect(next).toBe(PER_TICK * TICKS)
    expect(reader.getConnectionStatus()).toBe(2)
  })
})
