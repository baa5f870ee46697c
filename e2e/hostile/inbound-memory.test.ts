import type * as net from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { MiB, RawTcp, closeSockets, endChildren, figure, maskedFrame, mib, scenePacket, secs, seqPayload, startServer, track, until } from './support.js'

/**
 * 3. Inbound memory: clients flooding a server whose game never reads their packets (it polls,
 * so signals fire, but never calls getPacket). The server stops reading a connection past
 * `maxQueuedPackets` packets or `inboundBufferSize` bytes unread, so its RSS growth stays within a
 * bound derived from inboundBufferSize × connections; and `getAvailablePacketCount()` never passes
 * `maxQueuedPackets` per connection, even when hundreds of small messages arrive in one TCP read.
 */

afterEach(() => closeSockets())
afterAll(() => endChildren())

const SCENARIO = 'inbound-memory'

/** Writes `frame` to `socket` as fast as the kernel takes it, until `ms` have passed; resolves with the bytes the kernel took. */
function flood(socket: net.Socket, frame: Buffer, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const deadline = performance.now() + ms
    const pump = (): void => {
      if (socket.destroyed || performance.now() > deadline) {
        socket.off('drain', pump)
        clearTimeout(timer)
        resolve(socket.bytesWritten - socket.writableLength)
        return
      }
      // Bounded per turn; the rest after 'drain' (or the deadline timer when the server stopped reading).
      for (let i = 0; i < 10_000 && socket.write(frame); i++);
    }
    const timer = setTimeout(pump, ms + 5)
    socket.on('drain', pump)
    pump()
  })
}

describe('3. inbound memory', () => {
  for (const [label, size] of [
    ['messages of 60,000 B', 60_000],
    ['messages of 100 B', 100],
  ] as const) {
    it(`two flooders (${label}) the game never reads: RSS growth bounded, getAvailablePacketCount() ≤ maxQueuedPackets per connection`, async () => {
      const INBOUND = 65535
      const MAX_QUEUED = 4096
      const server = await startServer({ read: false, pollMs: 50, statsMs: 50 })
      const flooders = [track(await RawTcp.upgraded(server.port)), track(await RawTcp.upgraded(server.port))]
      const baseline = await server.stats(true)
      const from = server.messages.length
      const frame = maskedFrame(scenePacket(seqPayload(0, size - 1)))
      const FLOOD_MS = 2000
      const written = await Promise.all(flooders.map((f) => flood(f.socket, frame, FLOOD_MS)))
      const during = server.allStats(from)
      const after = await server.stats(false)
      const afterGc = await server.stats(true)
      const peakRss = Math.max(after.rss, ...during.map((s) => s.rss))
      const peakExternal = Math.max(after.external, ...during.map((s) => s.external))
      const growth = peakRss - baseline.rss
      // Each connection holds at most inboundBufferSize bytes unread (reading stops there, or at
      // maxQueuedPackets packets), plus the message that crossed the line, what ws had read past
      // the pause (one socket read, ≤ 64 KiB) and a partial message in its parser; each packet
      // costs ~160 B of objects besides its bytes. Slack: the allocator's and V8's own growth.
      const bytesPerConnection = 2 * INBOUND + 64 * 1024
      const packetsPerConnection = Math.min(MAX_QUEUED, Math.ceil(bytesPerConnection / size))
      const perConnection = bytesPerConnection + packetsPerConnection * 160
      const SLACK = 16 * MiB
      const bound = 2 * perConnection + SLACK
      figure(
        SCENARIO,
        `2 flooders (${label}) wrote ${mib(written[0]! + written[1]!)} in ${secs(FLOOD_MS)}; the game read none: ${after.available} packets queued (max seen ${after.maxAvailable}); server RSS ${mib(baseline.rss)} → peak ${mib(peakRss)} (+${mib(growth)}, bound ${mib(bound)}), external ${mib(baseline.external)} → ${mib(peakExternal)}, heap after gc ${mib(baseline.heapUsed)} → ${mib(afterGc.heapUsed)}`,
      )
      expect(server.alive()).toBe(true)
      expect(after.maxAvailable).toBeLessThanOrEqual(2 * MAX_QUEUED)
      expect(growth).toBeLessThan(bound)
      // The server stopped reading them: far less came in than they tried to send (bounded by the kernel's buffers).
      expect(after.available * size).toBeLessThanOrEqual(2 * perConnection)
    })
  }

  it('hundreds of small messages in one TCP read never make getAvailablePacketCount() pass maxQueuedPackets; once read, all arrive in order', async () => {
    const MAX_QUEUED = 16
    const COUNT = 1000
    const server = await startServer({ read: false, seq: true, pollMs: 5, options: { maxQueuedPackets: MAX_QUEUED } })
    const attacker = track(await RawTcp.upgraded(server.port))
    // One write: 1000 masked frames of `[0x03][uint32 seq]`, 11 B each.
    const burst = Buffer.concat(Array.from({ length: COUNT }, (_, i) => maskedFrame(scenePacket(seqPayload(i, 4)))))
    attacker.write(burst)
    // The game ticks every 5 ms without reading: the queue fills to the limit and stays there.
    await until(() => (server.latest()?.available ?? 0) >= MAX_QUEUED, 'the queue to fill')
    const full = await server.stats()
    // The game reads again: everything arrives, in order.
    server.send({ cmd: 'read', on: true })
    await until(
      () => (server.latest()?.received ?? 0) >= COUNT,
      () => `all ${COUNT} packets to be read (${server.latest()?.received})`,
    )
    const stats = await server.stats()
    figure(
      SCENARIO,
      `${COUNT} messages in one TCP write (${burst.length} B) to a game not reading: getAvailablePacketCount() peaked at ${full.maxAvailable} (maxQueuedPackets ${MAX_QUEUED}); once read: ${stats.received} packets, ${stats.orderErrors} out of order`,
    )
    expect(full.maxAvailable).toBeLessThanOrEqual(MAX_QUEUED)
    expect(stats.maxAvailable).toBeLessThanOrEqual(MAX_QUEUED)
    expect(stats.received).toBe(COUNT)
    expect(stats.orderErrors).toBe(0)
  })
})
