import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CloseCode } from '@wsmp/server'
import {
  RawTcp,
  RawWs,
  closeHonest,
  closeSockets,
  endChildren,
  figure,
  honestClient,
  maskedFrame,
  rawRequest,
  scenePacket,
  secs,
  seqPayload,
  startServer,
  track,
  until,
  upgradeHead,
  type ServerChild,
} from './support.js'

/**
 * 6. Rate limits and Origin: `maxPacketsPerSecond` and `maxBytesPerSecond` (a token bucket per
 * client; a breach closes with 4008 RATE_LIMITED) against a burst while an honest client under the
 * limit keeps sending; `allowedOrigins` (an Origin not listed gets HTTP 403, no Origin is
 * admitted); `maxPeers` (over it HTTP 503, upgrades in flight counted).
 */

const sockets: RawWs[] = []
afterEach(() => {
  for (const s of sockets.splice(0)) s.ws.terminate()
  closeHonest()
  closeSockets()
})
afterAll(() => endChildren())

const SCENARIO = 'rate-origin'

async function rawWs(url: string, options: ConstructorParameters<typeof RawWs>[1] = {}): Promise<RawWs> {
  const raw = await RawWs.connect(url, options)
  sockets.push(raw)
  return raw
}

/** Sends `count` packets of `size` B every `everyMs` ms from `raw`; resolves once all are sent. */
async function paced(raw: RawWs, count: number, size: number, everyMs: number): Promise<void> {
  let sent = 0
  const timer = setInterval(() => {
    if (sent < count && raw.close === null) raw.send(scenePacket(seqPayload(sent++, size)))
  }, everyMs)
  try {
    await until(() => sent >= count || raw.close !== null, 'the honest sender to finish', 30_000)
  } finally {
    clearInterval(timer)
  }
}

/** What the game read from `id`. */
async function readFrom(server: ServerChild, id: number): Promise<{ packets: number; bytes: number }> {
  return (await server.stats(false, false, true)).perPeer?.[String(id)] ?? { packets: 0, bytes: 0 }
}

describe('6. rate limits', () => {
  it('maxPacketsPerSecond: a burst over it is cut with 4008; an honest client at half the rate is not', async () => {
    const LIMIT = 200
    const server = await startServer({ pollMs: 20, options: { maxPacketsPerSecond: LIMIT } })
    const honest = await rawWs(server.url)
    const attacker = await rawWs(server.url)
    const honestRun = paced(honest, 200, 16, 10) // 100 packets/s for 2 s
    const started = performance.now()
    const BURST = 2000
    for (let i = 0; i < BURST; i++) attacker.send(scenePacket(seqPayload(i, 16)))
    const close = await attacker.closed()
    const cutMs = performance.now() - started
    await honestRun
    const fromAttacker = await readFrom(server, attacker.id)
    let fromHonest = await readFrom(server, honest.id)
    for (let i = 0; i < 50 && fromHonest.packets < 200; i++) fromHonest = await readFrom(server, honest.id)
    figure(
      SCENARIO,
      `maxPacketsPerSecond ${LIMIT}: a burst of ${BURST} was cut with ${close.code} "${close.reason}" after ${secs(cutMs)}, the game read ${fromAttacker.packets} of its packets; an honest client sending 100/s for 2 s kept its connection, ${fromHonest.packets} of 200 read`,
    )
    expect(close.code).toBe(CloseCode.RATE_LIMITED)
    // A token bucket: one second's worth at once, plus what refilled while the burst arrived (its cut came at cutMs at the latest).
    expect(fromAttacker.packets).toBeLessThanOrEqual(Math.floor(LIMIT * (1 + cutMs / 1000)) + 1)
    expect(honest.close).toBeNull()
    expect(fromHonest.packets).toBe(200)
  })

  it('maxBytesPerSecond: a burst over it is cut with 4008; an honest client at half the rate is not', async () => {
    const LIMIT = 100_000
    const server = await startServer({ pollMs: 20, options: { maxBytesPerSecond: LIMIT } })
    const honest = await rawWs(server.url)
    const attacker = await rawWs(server.url)
    const honestRun = paced(honest, 20, 5000, 100) // 50 KB/s for 2 s
    const started = performance.now()
    const BURST = 40
    for (let i = 0; i < BURST; i++) attacker.send(scenePacket(seqPayload(i, 10_000)))
    const close = await attacker.closed()
    const cutMs = performance.now() - started
    await honestRun
    const fromAttacker = await readFrom(server, attacker.id)
    let fromHonest = await readFrom(server, honest.id)
    for (let i = 0; i < 50 && fromHonest.packets < 20; i++) fromHonest = await readFrom(server, honest.id)
    figure(
      SCENARIO,
      `maxBytesPerSecond ${LIMIT}: a burst of ${BURST} × 10 kB was cut with ${close.code} "${close.reason}" after ${secs(cutMs)}, the game read ${fromAttacker.bytes} B of it; an honest client sending 50 kB/s for 2 s kept its connection, ${fromHonest.packets} of 20 packets read`,
    )
    expect(close.code).toBe(CloseCode.RATE_LIMITED)
    // One second's worth, what refilled while the burst arrived, and the message that crossed the line.
    expect(fromAttacker.bytes).toBeLessThanOrEqual(Math.floor(LIMIT * (1 + cutMs / 1000)) + 10_001)
    expect(honest.close).toBeNull()
    expect(fromHonest.packets).toBe(20)
  })

  it('the defaults (10,000 packets/s) cut a raw-TCP burst of 30,000 messages in one write with 4008', async () => {
    const server = await startServer()
    const attacker = track(await RawTcp.upgraded(server.port))
    const frame = maskedFrame(scenePacket(Uint8Array.of(1)))
    const started = performance.now()
    attacker.write(Buffer.concat(Array.from({ length: 30_000 }, () => frame)))
    await until(() => attacker.closeFrame !== null || attacker.ended, 'the burst to be cut')
    const { client } = await honestClient(server.url)
    figure(
      SCENARIO,
      `default limits: 30,000 messages in one TCP write cut with ${attacker.closeFrame?.code ?? 'no close frame'} after ${secs(performance.now() - started)}; an honest client still connects (id ${client.getUniqueId()})`,
    )
    expect(attacker.closeFrame?.code).toBe(CloseCode.RATE_LIMITED)
  })
})

describe('6. allowedOrigins and maxPeers', () => {
  it('allowedOrigins: an unlisted Origin gets 403; a listed one (any case, default port) and none are admitted', async () => {
    const server = await startServer({ options: { allowedOrigins: ['https://game.example.com'] } })
    const cases: [string, string | null, number][] = [
      ['listed', 'https://game.example.com', 101],
      ['listed, upper case', 'HTTPS://GAME.EXAMPLE.COM', 101],
      ['listed, explicit default port', 'https://game.example.com:443', 101],
      ['no Origin (Node, Godot)', null, 101],
      ['another site', 'https://evil.example', 403],
      ['a look-alike', 'https://game.example.com.evil.example', 403],
      ['http instead of https', 'http://game.example.com', 403],
      ['another port', 'https://game.example.com:8443', 403],
      ['"null" (sandboxed page, file://)', 'null', 403],
      ['garbage', '::::', 403],
    ]
    const results: string[] = []
    for (const [name, origin, expected] of cases) {
      const answer = await rawRequest(server.port, upgradeHead('/', origin === null ? '' : `Origin: ${origin}\r\n`))
      const status = Number(answer.status.split(' ')[1] ?? 0)
      results.push(`${name} → ${status || 'closed'}`)
      expect(status, name).toBe(expected)
    }
    // A browser-like ws client with a listed Origin, and the library's own client (no Origin), both connect.
    const browserLike = await rawWs(server.url, { origin: 'https://game.example.com' })
    const { client } = await honestClient(server.url)
    figure(
      SCENARIO,
      `allowedOrigins ['https://game.example.com']: ${results.join('; ')}; a ws client with the listed Origin got id ${browserLike.id}, a wsmp client (no Origin) id ${client.getUniqueId()}`,
    )
  })

  it('maxPeers: 50 upgrades at once against maxPeers 20 → exactly 20 admitted, the rest 503; a place freed is taken again', async () => {
    const MAX = 20
    const server = await startServer({ options: { maxPeers: MAX } })
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        RawWs.connect(server.url).then(
          (raw) => {
            sockets.push(raw)
            return 'admitted'
          },
          (err: Error) => (/503/.test(err.message) ? '503' : err.message),
        ),
      ),
    )
    const admitted = answers.filter((a) => a === 'admitted').length
    const refused = answers.filter((a) => a === '503').length
    const over = await rawRequest(server.port, upgradeHead('/'))
    // One leaves: its place is taken again.
    sockets[0]?.ws.close()
    await until(() => server.latest()?.peers === MAX - 1, 'the server to count one gone', 10_000)
    const again = await rawWs(server.url)
    figure(
      SCENARIO,
      `maxPeers ${MAX}: 50 concurrent upgrades → ${admitted} admitted, ${refused} answered 503; one more → "${over.status}"; after one left a new client got id ${again.id}`,
    )
    expect(admitted).toBe(MAX)
    expect(refused).toBe(50 - MAX)
    expect(over.status).toMatch(/^HTTP\/1\.1 503 /)
  })
})
