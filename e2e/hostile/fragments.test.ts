import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RawTcp, closeHonest, closeSockets, endChildren, figure, honestClient, maskedFrame, mib, secs, startServer, track, until, type ServerChild } from './support.js'

/**
 * 8. Fragments: one message sent as thousands of tiny WebSocket fragments (a first binary frame
 * without FIN, then continuation frames; raw TCP, masked). `ws` keeps every fragment as a Buffer
 * view until the message completes, so a fragment costs far more than its bytes: measured here as
 * the server's memory per fragment. Two bounds stop it: `ws`'s own `maxFragments` (16,384
 * fragments per message on a server, closing with 1008 "Too many message fragments"), and
 * inboundBufferSize (the total passing it closes with 1009). Memory comes back after each.
 */

afterEach(() => {
  closeHonest()
  closeSockets()
})
afterAll(() => endChildren())

const SCENARIO = 'fragments'
const INBOUND = 65535
/** ws's default `maxFragments` for servers (ws ≥ 8.19's WebSocketServer option). */
const WS_MAX_FRAGMENTS = 16_384
const CONNECTIONS = 4

const ping = maskedFrame(Uint8Array.of(0x70), 0x9, true)

/** A message's first fragment (`[0x03]` and `size - 1` more bytes) and `count` continuation fragments of `size` bytes, as one buffer. */
function message(count: number, size: number, withFirst = true): Buffer {
  const first = maskedFrame(new Uint8Array(size).fill(0x03), 0x2, false)
  const continuation = maskedFrame(new Uint8Array(size).fill(0x46), 0x0, false)
  return Buffer.concat([...(withFirst ? [first] : []), ...Array.from({ length: count }, () => continuation)])
}

/** Sends a ping and waits for its pong: the server has parsed everything sent before it. */
async function parsed(raw: RawTcp): Promise<void> {
  const pongs = raw.frames.filter((f) => f.opcode === 0xa).length
  raw.write(ping)
  await until(() => raw.frames.filter((f) => f.opcode === 0xa).length > pongs || raw.ended, 'the pong after the fragments', 20_000)
}

/** Opens `CONNECTIONS` raw clients, sends each `fragments` fragments of `size` bytes (one message, not finished), and measures the server's memory per fragment. */
async function hold(server: ServerChild, fragments: number, size: number): Promise<{ raws: RawTcp[]; perFragment: number; baseline: number }> {
  const raws = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawTcp.upgraded(server.port)))
  for (const raw of raws) track(raw.socket)
  const before = await server.stats(true)
  const started = performance.now()
  const wire = message(fragments - 1, size)
  for (const raw of raws) raw.write(wire)
  await Promise.all(raws.map((raw) => parsed(raw)))
  const ms = performance.now() - started
  const held = await server.stats(true)
  const baseline = before.heapUsed + before.external
  const grown = held.heapUsed + held.external - baseline
  const perFragment = grown / (CONNECTIONS * fragments)
  figure(
    SCENARIO,
    `${CONNECTIONS} × ${fragments} fragments of ${size} B (${mib(CONNECTIONS * wire.length)} on the wire, parsed in ${secs(ms)}) held unfinished: server heap +${mib(held.heapUsed - before.heapUsed)}, external +${mib(held.external - before.external)}, RSS ${mib(before.rss)} → ${mib(held.rss)}: ${perFragment.toFixed(0)} B per fragment (${(perFragment / size).toFixed(0)}× its payload)`,
  )
  for (const raw of raws) expect(raw.ended, `closed early: ${JSON.stringify(raw.closeFrame)}`).toBe(false)
  return { raws, perFragment, baseline }
}

async function closedAll(server: ServerChild, raws: RawTcp[]): Promise<(number | string)[]> {
  await until(() => raws.every((raw) => raw.closeFrame !== null || raw.ended), 'every connection to be closed')
  await until(() => server.latest()?.peers === 0, 'the server to count them gone')
  return raws.map((raw) => raw.closeFrame?.code ?? 'none')
}

describe('8. a message in tiny fragments', () => {
  it(`1-byte fragments: ${WS_MAX_FRAGMENTS} per message at most (ws closes with 1008 past it); memory per fragment measured and given back`, async () => {
    const server = await startServer({ statsMs: 100 })
    const FRAGMENTS = 16_000
    const { raws, perFragment, baseline } = await hold(server, FRAGMENTS, 1)
    // At most 200 B per fragment (e2e/hostile/README.md): 16,384 fragments hold ≤ 3.2 MiB per connection.
    expect(perFragment).toBeLessThan(200)
    for (const raw of raws) raw.write(message(WS_MAX_FRAGMENTS - FRAGMENTS + 10, 1, false))
    const codes = await closedAll(server, raws)
    const after = await server.stats(true)
    const { ms } = await honestClient(server.url)
    figure(
      SCENARIO,
      `past ${WS_MAX_FRAGMENTS} fragments (${WS_MAX_FRAGMENTS} B, under inboundBufferSize): closed with ${[...new Set(codes)].join(', ')} ("Too many message fragments", ws's maxFragments); so a message costs the server at most ~${mib(perFragment * WS_MAX_FRAGMENTS)} in fragments; heap+external back to +${mib(after.heapUsed + after.external - baseline)}; an honest client got its id in ${ms.toFixed(0)} ms`,
    )
    expect(codes).toEqual(raws.map(() => 1008))
    expect(after.heapUsed + after.external - baseline).toBeLessThan(4 * 1024 * 1024)
    expect(server.alive()).toBe(true)
  })

  it('16-byte fragments up to inboundBufferSize: the total passing it closes with 1009; memory given back', async () => {
    const server = await startServer({ statsMs: 100 })
    const SIZE = 16
    const FRAGMENTS = Math.floor(INBOUND / SIZE) // 4095 × 16 B = 65,520 B: within the limit
    const { raws, perFragment, baseline } = await hold(server, FRAGMENTS, SIZE)
    expect(perFragment).toBeLessThan(200)
    for (const raw of raws) raw.write(message(2, SIZE, false))
    const codes = await closedAll(server, raws)
    const after = await server.stats(true)
    const { ms } = await honestClient(server.url)
    figure(
      SCENARIO,
      `${FRAGMENTS} × ${SIZE} B then 2 more (${(FRAGMENTS + 2) * SIZE} B > inboundBufferSize ${INBOUND}): closed with ${[...new Set(codes)].join(', ')}; heap+external back to +${mib(after.heapUsed + after.external - baseline)}; an honest client got its id in ${ms.toFixed(0)} ms`,
    )
    expect(codes).toEqual(raws.map(() => 1009))
    expect(after.heapUsed + after.external - baseline).toBeLessThan(4 * 1024 * 1024)
    expect(server.alive()).toBe(true)
  })
})
