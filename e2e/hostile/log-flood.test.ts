import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RawWs, closeHonest, closeSockets, endChildren, figure, honestClient, relayPacket, secs, startServer, until } from './support.js'

/**
 * 7. Log flood: clients reconnecting and misbehaving in a loop for ~3 s (malformed scene frames,
 * unknown commands, relays to absent peers, announcements a client may not send, oversize
 * messages, bursts over the rate limit) against a server that logs to stderr as it does by
 * default. Its log stays bounded — warnings rate-limited per kind across peers — and a summary
 * line counts what was suppressed.
 */

const sockets: RawWs[] = []
afterEach(() => {
  for (const s of sockets.splice(0)) s.ws.terminate()
  closeHonest()
  closeSockets()
})
afterAll(() => endChildren())

const SCENARIO = 'log-flood'
const RUN_MS = 3000
const LOOPS = 4
const MAX_LINES = 50

/** One visit of a misbehaving client: connects, sends every kind of bad input, leaves. */
async function misbehave(url: string, round: number): Promise<void> {
  const raw = await RawWs.connect(url)
  sockets.push(raw)
  raw.send(Uint8Array.of(0x03)) // a packet with no payload
  raw.send(Uint8Array.of(0x05, 1, 2, 3)) // an unknown command
  raw.send(Uint8Array.of(0x07)) // a truncated SYS
  raw.send(Uint8Array.of(0x07, 0x01, 2, 0, 0, 0)) // ADD_PEER from a client
  raw.send(Uint8Array.of(0x07, 0x09, 2, 0, 0, 0)) // an unknown SYS command
  raw.send(relayPacket(0x7fff0000 + round, Uint8Array.of(1))) // a relay to nobody
  raw.send('text that is not a frame', false)
  if (round % 2 === 0) {
    raw.send(new Uint8Array(70_000)) // over inboundBufferSize: closed with 1009
  } else {
    for (let i = 0; i < 12_000; i++) raw.send(Uint8Array.of(0x03, 1)) // over the default rate limit (4008) when read in under 0.2 s
  }
  // Bounded: a visit the server has not closed within 1.5 s ends by itself.
  await raw.closed(1500).catch(() => raw.ws.terminate())
}

describe('7. log flood', () => {
  it(`${LOOPS} clients reconnecting and misbehaving for ${RUN_MS / 1000} s: at most ${MAX_LINES} log lines, and a summary of what was suppressed`, async () => {
    const server = await startServer()
    const startLines = (await server.stats()).logLines
    const started = performance.now()
    let visits = 0
    await Promise.all(
      Array.from({ length: LOOPS }, async (_, loop) => {
        for (let round = loop; performance.now() - started < RUN_MS && round < 10_000; round += LOOPS) {
          await misbehave(server.url, round)
          visits++
        }
      }),
    )
    const runMs = performance.now() - started
    const duringRun = (await server.stats()).logLines - startLines
    // The limiter's window (10 s) ends: one line per kind sums up what it held back.
    await until(() => server.lines.some((l) => l.includes('suppressed')), 'a summary line of what was suppressed', 15_000)
    const stats = await server.stats()
    const total = stats.logLines - startLines
    const summaries = server.lines.filter((l) => l.includes('suppressed'))
    const suppressed = summaries.reduce((sum, l) => sum + Number(/(\d+) more like/.exec(l)?.[1] ?? 0), 0)
    const { client } = await honestClient(server.url)
    figure(
      SCENARIO,
      `${visits} misbehaving visits in ${secs(runMs)} (${LOOPS} clients reconnecting): the server printed ${duringRun} lines during the run, ${total} in all with ${summaries.length} summary lines counting ${suppressed} suppressed warnings; still serving (id ${client.getUniqueId()})`,
    )
    figure(SCENARIO, `first lines: ${server.lines.slice(0, 3).join(' | ')} … summary: ${summaries[0]}`)
    expect(visits).toBeGreaterThan(20)
    expect(total).toBeLessThanOrEqual(MAX_LINES)
    expect(suppressed).toBeGreaterThan(0)
  })
})
