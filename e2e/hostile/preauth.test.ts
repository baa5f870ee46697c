import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { closeHonest, closeSockets, endChildren, figure, honestClient, rawRequest, secs, startServer, upgradeHead, type RawAnswer, type ServerChild } from './support.js'

/**
 * 1. Pre-auth crash: the upgrade request head fuzzed over raw TCP — request targets a URL parser
 * rejects, huge and malformed headers, bad Sec-WebSocket-Key/Version, bad subprotocol lists,
 * garbage bytes, slowloris partial heads — against a server with `onHandshake` set and against one
 * `attach()`ed to an application's http server (with and without a hook). Every request gets a
 * 4xx/5xx or is closed; the process is still alive and serves an honest client afterwards.
 */

afterEach(() => {
  closeHonest()
  closeSockets()
})
afterAll(() => endChildren())

const SCENARIO = 'pre-auth'

/** A deterministic PRNG (mulberry32): the fuzz is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Heads that must be refused (4xx/5xx) or closed, never upgraded. `P` stands for the served path. */
function badHeads(P: string, hook: boolean): [string, string | Buffer][] {
  const ok = (extra = '', target = P) => upgradeHead(target, extra)
  const without = (name: string) =>
    ok()
      .split('\r\n')
      .filter((line) => !line.startsWith(name))
      .join('\r\n')
  const replace = (name: string, value: string) => ok().replace(new RegExp(`${name}: [^\\r]*`), `${name}: ${value}`)
  return [
    // Request targets a URL parser rejects (the crash of issue 8).
    ['target //a:99999/x', ok('', '//a:99999/x')],
    ['target //[::1', ok('', '//[::1')],
    ['target http://a:99999/x', ok('', 'http://a:99999/x')],
    ['target //a:b/x', ok('', '//a:b/x')],
    ['target http://[zz]/', ok('', 'http://[zz]/')],
    ['target //user@:0/', ok('', '//user@:0/')],
    ['target with a NUL', ok('', `${P}\0`)],
    ['target 20 KiB long', ok('', `${P}?${'a'.repeat(20_000)}`)],
    // Malformed request lines and header blocks.
    ['HTTP/9.9', ok().replace('HTTP/1.1', 'HTTP/9.9')],
    ['lower-case method', ok().replace('GET', 'get')],
    ['POST upgrade', ok().replace('GET', 'POST')],
    ['CONNECT', ok().replace(`GET ${P}`, 'CONNECT 127.0.0.1:1')],
    ['header without a colon', ok('Broken header\r\n')],
    ['control byte in a header name', ok('X-\u0001: y\r\n')],
    ['obsolete line folding', ok('X-Fold: a\r\n  b\r\n')],
    ['negative Content-Length', ok('Content-Length: -1\r\n')],
    ['Content-Length and chunked', ok('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n')],
    ['two Content-Lengths', ok('Content-Length: 1\r\nContent-Length: 2\r\n')],
    ['a 20 KiB header', ok(`X-Big: ${'b'.repeat(20_000)}\r\n`)],
    ['300 headers', ok(Array.from({ length: 300 }, (_, i) => `X-H${i}: ${'v'.repeat(60)}\r\n`).join(''))],
    ['bare LF line ends', ok().replace(/\r\n/g, '\n')],
    // Bad WebSocket headers.
    ['no Sec-WebSocket-Key', without('Sec-WebSocket-Key')],
    ['short Sec-WebSocket-Key', replace('Sec-WebSocket-Key', 'c2hvcnQ=')],
    ['non-base64 Sec-WebSocket-Key', replace('Sec-WebSocket-Key', '!!!!!!!!!!!!!!!!!!!!!!==')],
    ['two Sec-WebSocket-Keys', ok('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n')],
    ['no Sec-WebSocket-Version', without('Sec-WebSocket-Version')],
    ['Sec-WebSocket-Version 99', replace('Sec-WebSocket-Version', '99')],
    ['Sec-WebSocket-Version abc', replace('Sec-WebSocket-Version', 'abc')],
    ['Sec-WebSocket-Version 13, 8', replace('Sec-WebSocket-Version', '13, 8')],
    ['Upgrade: h2c', replace('Upgrade', 'h2c')],
    ['Upgrade: websocket, h2c', replace('Upgrade', 'websocket, h2c')],
    // Bad subprotocol lists (this server supports none, so any offer is refused).
    ['subprotocols ",,, ,"', ok('Sec-WebSocket-Protocol: ,,, ,\r\n')],
    ['subprotocols "a b"', ok('Sec-WebSocket-Protocol: a b\r\n')],
    ['subprotocols "a, a"', ok('Sec-WebSocket-Protocol: a, a\r\n')],
    ['subprotocol with quotes', ok('Sec-WebSocket-Protocol: "wsmp"\r\n')],
    ['subprotocol with a DEL byte', ok('Sec-WebSocket-Protocol: a\u007f\r\n')],
    ['1000 subprotocols', ok(`Sec-WebSocket-Protocol: ${Array.from({ length: 1000 }, (_, i) => `p${i}`).join(', ')}\r\n`)],
    ...(hook ? [['a token the hook denies', ok('', `${P}?token=deny`)] as [string, string]] : []),
    // Garbage.
    ['a TLS ClientHello', Buffer.from('16030100a5010000a10303' + '00'.repeat(160), 'hex')],
    ['CRLF only', '\r\n\r\n'],
    ['binary garbage', Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) & 0xff))],
    ['a WebSocket frame before any head', Buffer.from([0x82, 0x85, 0, 0, 0, 0, 3, 1, 2, 3, 4])],
  ]
}

/** Odd heads a server may upgrade (101) or refuse, as long as it answers and lives. */
function oddHeads(P: string): [string, string][] {
  const ok = (extra = '', target = P) => upgradeHead(target, extra)
  return [
    ['target with %', ok('', `${P}%`)],
    ['query %zz', ok('', `${P}?%zz=%&&==`)],
    ['garbage Cookie', ok('Cookie: =;;=;%;\u00ff=\r\n')],
    ['garbage Origin', ok('Origin: ::::\r\n')],
    ['no Host', ok().replace('Host: 127.0.0.1\r\n', '')],
    ['Host with a bad port', ok().replace('Host: 127.0.0.1', 'Host: a:99999')],
    ['garbage extensions', ok('Sec-WebSocket-Extensions: permessage-deflate; ===;;\r\n')],
    ['HTTP/1.0', ok().replace('HTTP/1.1', 'HTTP/1.0')],
    // Node's parser takes a request line without a version.
    ['no version', ok().replace(' HTTP/1.1', '')],
  ]
}

/** A valid head mutated at random: bytes flipped, inserted, deleted, lines duplicated or cut. */
function mutated(P: string, random: () => number): Buffer {
  const bytes = [...Buffer.from(upgradeHead(P, 'Sec-WebSocket-Protocol: wsmp\r\nCookie: a=b\r\n'), 'latin1')]
  const edits = 1 + Math.floor(random() * 6)
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * bytes.length)
    const kind = Math.floor(random() * 5)
    if (kind === 0) bytes[at] = Math.floor(random() * 256)
    else if (kind === 1) bytes.splice(at, 0, ...Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256)))
    else if (kind === 2) bytes.splice(at, 1 + Math.floor(random() * 20))
    else if (kind === 3) bytes.splice(at, 0, ...Buffer.from(['\r\n', ':', ',', '%', '//', '[', '\0', ' '][Math.floor(random() * 8)] as string, 'latin1'))
    else bytes.splice(at, 0, ...bytes.slice(at, at + Math.floor(random() * 80)))
  }
  return Buffer.from(bytes)
}

const REFUSED = /^HTTP\/1\.[01] [45]\d\d /

/** Runs `jobs` with `concurrency` at a time. */
async function inParallel<T>(items: T[], concurrency: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await job(items[next++] as T)
    }),
  )
}

interface Outcome {
  refused: number
  closed: number
  upgraded: number
  /** Answered by the application's own request handler (no longer an upgrade). */
  app: number
  hung: string[]
  wrong: string[]
  statuses: Map<string, number>
}

/**
 * Fires every hostile head at `server` (16 at a time). `hook`: the server has an onHandshake that
 * denies `?token=deny`; `app`: an application's http server answers plain requests (2xx allowed
 * for mutations that are no longer upgrades).
 */
async function attack(server: ServerChild, P: string, label: string, hook: boolean, app: boolean): Promise<Outcome> {
  const out: Outcome = { refused: 0, closed: 0, upgraded: 0, app: 0, hung: [], wrong: [], statuses: new Map() }
  const record = (name: string, a: RawAnswer, mayUpgrade: boolean): void => {
    const code = a.status.split(' ')[1] ?? (a.closed ? 'closed' : 'none')
    out.statuses.set(code, (out.statuses.get(code) ?? 0) + 1)
    if (REFUSED.test(a.status)) out.refused++
    else if (/^HTTP\/1\.[01] 101 /.test(a.status)) {
      out.upgraded++
      if (!mayUpgrade) out.wrong.push(`${name}: ${a.status}`)
    } else if (app && mayUpgrade && /^HTTP\/1\.[01] 2\d\d /.test(a.status)) {
      out.app++
    } else if (a.status === '' && a.closed) out.closed++
    else if (a.status === '') out.hung.push(name)
    else out.wrong.push(`${name}: ${JSON.stringify(a.status)}`)
  }
  const random = prng(0x8badf00d)
  const cases: [string, string | Buffer, boolean][] = [
    ...badHeads(P, hook).map(([n, h]): [string, string | Buffer, boolean] => [n, h, false]),
    ...oddHeads(P).map(([n, h]): [string, string | Buffer, boolean] => [n, h, true]),
    ...Array.from({ length: 300 }, (_, i): [string, string | Buffer, boolean] => [`mutation #${i}`, mutated(P, random), true]),
  ]
  await inParallel(cases, 16, async ([name, head, mayUpgrade]) => {
    // The client half-closes after its head: an incomplete one is then answered or closed at once.
    record(name, await rawRequest(server.port, head, { end: true, timeoutMs: 8000 }), mayUpgrade)
  })
  figure(
    SCENARIO,
    `${label}: ${cases.length} hostile heads: ${out.refused} refused (${[...out.statuses].map(([s, n]) => `${s}×${n}`).join(' ')}), ${out.closed} closed, ${out.upgraded} upgraded (odd but valid)${app ? `, ${out.app} answered by the application (no longer upgrades)` : ''}, ${out.hung.length} hung`,
  )
  return out
}

/** Slowloris: heads trickled a few bytes at a time; each must be cut within handshakeTimeout (+2 s). */
async function slowloris(server: ServerChild, P: string, timeoutS: number, label: string): Promise<void> {
  const head = upgradeHead(P)
  const parts = Array.from({ length: 60 }, (_, i) => head.slice(i * 2, i * 2 + 2))
  const started = performance.now()
  const answers = await Promise.all(Array.from({ length: 40 }, () => rawRequest(server.port, parts, { gapMs: 250, timeoutMs: (timeoutS + 5) * 1000 })))
  const slowest = Math.max(...answers.map((a) => a.ms))
  figure(
    SCENARIO,
    `${label}: 40 slowloris heads (2 bytes per 250 ms) all cut, the last after ${secs(slowest)} (handshakeTimeout ${timeoutS} s); ${secs(performance.now() - started)} in all`,
  )
  for (const a of answers) {
    expect(a.closed || REFUSED.test(a.status), JSON.stringify(a)).toBe(true)
    expect(a.ms).toBeLessThan((timeoutS + 2) * 1000)
  }
}

async function stillServes(server: ServerChild, url: string, label: string): Promise<void> {
  expect(server.alive(), `the server process exited (code ${server.child.exitCode}); it printed:\n${server.lines.slice(-10).join('\n')}`).toBe(true)
  const { client, ms } = await honestClient(url)
  expect(client.getUniqueId()).toBeGreaterThan(1)
  // A packet reaches the game.
  const before = (await server.stats()).received
  client.setTargetPeer(1)
  client.putPacket(new Uint8Array([1, 2, 3]))
  let stats = await server.stats()
  for (let i = 0; i < 100 && stats.received <= before; i++) stats = await server.stats()
  expect(stats.received).toBeGreaterThan(before)
  const failures = server.lines.filter((l) => l.includes('answered 500') || l.includes('Error'))
  figure(
    SCENARIO,
    `${label}: process alive (pid ${server.pid}), an honest client got id ${client.getUniqueId()} in ${ms.toFixed(0)} ms and its packet was read; ${failures.length} internal errors logged`,
  )
  expect(failures).toEqual([])
}

describe('1. pre-auth crash: fuzzed upgrade request heads', () => {
  it('createServer with onHandshake (sync): every hostile head refused or closed; still serving', async () => {
    const server = await startServer({ hook: 'sync', options: { handshakeTimeout: 1 } })
    const out = await attack(server, '/', 'createServer + onHandshake', true, false)
    await slowloris(server, '/', 1, 'createServer + onHandshake')
    expect(out.hung).toEqual([])
    expect(out.wrong).toEqual([])
    await stillServes(server, server.url, 'createServer + onHandshake')
  })

  for (const hook of [null, 'async'] as const) {
    const label = `attach()${hook ? ' + async onHandshake' : ''}`
    it(`${label}: every hostile head refused or closed; still serving`, async () => {
      const server = await startServer({ mode: 'attach', path: '/ws', hook, options: { handshakeTimeout: 1 } })
      const out = await attack(server, '/ws', label, hook !== null, true)
      expect(out.hung).toEqual([])
      expect(out.wrong).toEqual([])
      await stillServes(server, `${server.url}/ws`, label)
    })
  }
})
