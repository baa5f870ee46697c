// The server's limits on the open internet (issue 8): maxPeers (503), allowedOrigins (403),
// per-client rate limits (close 4008), the silence watch (peerTimeout) that drops ghosts, and
// warnings rate-limited per kind. Real sockets on 127.0.0.1; a TCP relay stands in for a cable
// that stops carrying anything without a FIN.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket as WsClient } from 'ws'
import {
  CloseCode,
  DEFAULT_MAX_BYTES_PER_SECOND,
  DEFAULT_MAX_PACKETS_PER_SECOND,
  DEFAULT_MAX_PEERS,
  DEFAULT_PEER_TIMEOUT,
  LOG_LINES_PER_WINDOW,
  LOG_WINDOW_MS,
  LogLimiter,
  WebSocketMultiplayerPeer,
} from '@wsmp/server'
import { closeEverything, connectClient, onCleanup, rawClient, silentableRelay, startServer, waitFor } from './helpers.js'

afterEach(() => closeEverything())

/** Opens a plain ws client and resolves with the HTTP status of a refused upgrade, or 101. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WsClient(url, { headers, perMessageDeflate: false })
    onCleanup(() => ws.terminate())
    ws.once('open', () => resolve(101))
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.once('error', (err) => reject(err))
  })
}

/** A scene-framed packet, `[0x03][payload]`. */
function packet(size: number): Uint8Array {
  const out = new Uint8Array(size + 1)
  out[0] = 0x03
  return out
}

describe('server limits: defaults', () => {
  it('has every default named and exported, and rejects out-of-range values keeping the old ones', () => {
    const warnings: string[] = []
    const server = new WebSocketMultiplayerPeer({ logger: { warn: (m) => warnings.push(m) } })
    expect(server.maxPeers).toBe(DEFAULT_MAX_PEERS)
    expect(DEFAULT_MAX_PEERS).toBe(10_000)
    expect(server.allowedOrigins).toBeNull()
    expect(server.maxPacketsPerSecond).toBe(DEFAULT_MAX_PACKETS_PER_SECOND)
    expect(DEFAULT_MAX_PACKETS_PER_SECOND).toBe(10_000)
    expect(server.maxBytesPerSecond).toBe(DEFAULT_MAX_BYTES_PER_SECOND)
    expect(DEFAULT_MAX_BYTES_PER_SECOND).toBe(16 * 1024 * 1024)
    expect(server.peerTimeout).toBe(DEFAULT_PEER_TIMEOUT)
    expect(DEFAULT_PEER_TIMEOUT).toBe(15)
    expect(CloseCode.RATE_LIMITED).toBe(4008)

    server.maxPeers = 0
    expect(server.maxPeers).toBe(DEFAULT_MAX_PEERS)
    expect(server.getLastError()).toMatch(/maxPeers must be at least 1; keeping 10000/)
    expect(() => (server.maxPeers = 1.5)).toThrow(TypeError)
    server.peerTimeout = -1
    expect(server.peerTimeout).toBe(DEFAULT_PEER_TIMEOUT)
    server.maxPacketsPerSecond = -5
    server.maxBytesPerSecond = -5
    expect([server.maxPacketsPerSecond, server.maxBytesPerSecond]).toEqual([DEFAULT_MAX_PACKETS_PER_SECOND, DEFAULT_MAX_BYTES_PER_SECOND])
    expect(warnings).toHaveLength(4)

    server.allowedOrigins = ['HTTPS://Game.Example.com/', 'http://localhost:8080']
    expect(server.allowedOrigins).toEqual(['https://game.example.com', 'http://localhost:8080'])
    expect(() => (server.allowedOrigins = ['game.example.com'])).toThrow(/not an origin/)
    expect(() => (server.allowedOrigins = 'https://a.example' as unknown as string[])).toThrow(TypeError)
    server.allowedOrigins = null
    expect(server.allowedOrigins).toBeNull()
  })
})

describe('maxPeers', () => {
  it('answers 503 past maxPeers, and admits again once a client left', async () => {
    const { server, url } = await startServer({ maxPeers: 2, autoPoll: true })
    const a = await rawClient(url)
    await rawClient(url)
    await waitFor(() => countPeers(server) === 2, [], 'two peers')
    expect(await upgradeStatus(url)).toBe(503)
    a.ws.close()
    await waitFor(() => countPeers(server) === 1, [], 'the first client to leave')
    expect(await upgradeStatus(url)).toBe(101)
  })

  it('counts clients in their handshake hook: two slow hooks at maxPeers 1 admit one', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { url } = await startServer({ maxPeers: 1, autoPoll: true, onHandshake: () => gate.then(() => true) })
    const first = upgradeStatus(url)
    const second = upgradeStatus(url)
    release()
    expect([await first, await second].sort()).toEqual([101, 503])
  })
})

describe('allowedOrigins', () => {
  it('answers 403 to a browser page of another origin; admits listed origins and clients that send none', async () => {
    const { url } = await startServer({ allowedOrigins: ['https://game.example.com'] })
    expect(await upgradeStatus(url, { Origin: 'https://evil.example.com' })).toBe(403)
    expect(await upgradeStatus(url, { Origin: 'https://game.example.com.evil.example' })).toBe(403)
    expect(await upgradeStatus(url, { Origin: 'null' })).toBe(403)
    expect(await upgradeStatus(url, { Origin: 'https://GAME.example.com' })).toBe(101)
    expect(await upgradeStatus(url)).toBe(101)
  })

  it('admits any origin by default', async () => {
    const { url } = await startServer()
    expect(await upgradeStatus(url, { Origin: 'https://anywhere.example' })).toBe(101)
  })
})

describe('rate limits', () => {
  it('closes a client over maxPacketsPerSecond with 4008 "rate limit"; a burst within one second’s worth passes; others are untouched', async () => {
    const warnings: string[] = []
    const { server, url } = await startServer({ maxPacketsPerSecond: 100, autoPoll: true, logger: { warn: (m) => warnings.push(m) } })
    const calm = await rawClient(url)
    const flooder = await rawClient(url)
    await waitFor(() => countPeers(server) === 2, [], 'both admitted')
    for (let i = 0; i < 60; i++) calm.send(packet(1))
    for (let i = 0; i < 300; i++) flooder.send(packet(1))
    await waitFor(() => flooder.closed !== null, [], 'the flooder to be closed')
    expect(flooder.closed).toEqual({ code: CloseCode.RATE_LIMITED, reason: 'rate limit' })
    expect(calm.closed).toBeNull()
    expect(warnings.some((w) => w.includes(`peer ${flooder.id()}: over the rate limit (maxPacketsPerSecond = 100)`))).toBe(true)
    await waitFor(() => countPeers(server) === 1, [], 'the flooder to leave')
  })

  it('closes a client over maxBytesPerSecond with 4008', async () => {
    const { url } = await startServer({ maxBytesPerSecond: 10_000, autoPoll: true })
    const client = await rawClient(url)
    client.send(packet(6_000))
    client.send(packet(6_000))
    await waitFor(() => client.closed !== null, [], 'the client to be closed')
    expect(client.closed?.code).toBe(CloseCode.RATE_LIMITED)
  })

  it('refills: a client sending within its rate over several seconds stays', async () => {
    const { server, url } = await startServer({ maxPacketsPerSecond: 50, autoPoll: true })
    const client = await rawClient(url)
    let received = 0
    server.on('packet', () => received++)
    // 40 packets every 400 ms is 100/s — over 50/s — so the client must be cut in the second
    // second; 15 every 400 ms (37.5/s) must not be, however long it goes on.
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 15; i++) client.send(packet(1))
      const want = (round + 1) * 15
      await waitFor(() => received >= want, [], `round ${round + 1} received`)
      await new Promise((resolve) => setTimeout(resolve, 400)) // pacing the sender, not a condition
    }
    expect(client.closed).toBeNull()
    for (let round = 0; round < 8 && client.closed === null; round++) {
      for (let i = 0; i < 40; i++) client.send(packet(1))
      await new Promise((resolve) => setTimeout(resolve, 400))
    }
    await waitFor(() => client.closed !== null, [], 'the faster sender to be cut')
    expect(client.closed?.code).toBe(CloseCode.RATE_LIMITED)
  })

  it('0 turns a limit off', async () => {
    const { server, url } = await startServer({ maxPacketsPerSecond: 0, maxBytesPerSecond: 0, autoPoll: true })
    const client = await rawClient(url)
    let received = 0
    server.on('packet', () => received++)
    for (let i = 0; i < 30_000; i++) client.send(packet(1))
    await waitFor(() => received === 30_000, [], 'every packet', 30_000)
    expect(client.closed).toBeNull()
  })
})

describe('peerTimeout: ghosts', () => {
  it('drops a client that went silent without a FIN within peerTimeout: peer_disconnected, DEL_PEER to the others', async () => {
    const warnings: string[] = []
    const { server, port } = await startServer({ peerTimeout: 1, logger: { warn: (m) => warnings.push(m) } })
    const relay = await silentableRelay(port)
    const other = await connectClient(`ws://127.0.0.1:${port}`, {}, [server])
    const ghost = await connectClient(`ws://127.0.0.1:${relay.port}`, {}, [server])
    const ghostId = ghost.getUniqueId()
    const left: number[] = []
    const otherSaw: number[] = []
    const otherKnows = new Set<number>()
    server.on('peer_disconnected', (id) => left.push(id))
    other.on('peer_connected', (id) => otherKnows.add(id))
    other.on('peer_disconnected', (id) => otherSaw.push(id))
    await waitFor(() => otherKnows.has(ghostId), [server, other], 'the other client to know the ghost')
    relay.cut()
    const cutAt = Date.now()
    await waitFor(() => left.includes(ghostId), [server, other], 'the ghost to be dropped', 5_000)
    const after = Date.now() - cutAt
    expect(after).toBeLessThan(2_500) // peerTimeout 1 s: dropped within it, plus a sweep's jitter
    await waitFor(() => otherSaw.includes(ghostId), [server, other], 'DEL_PEER at the other client')
    expect(warnings.some((w) => w.includes(`peer ${ghostId}: nothing heard at 3 sweeps in a row`) && w.includes('(peerTimeout 1 s)'))).toBe(true)
  })

  it('keeps a quiet but live client: it is pinged and its pongs count', async () => {
    const { server, url } = await startServer({ peerTimeout: 0.4, autoPoll: true })
    const quiet = await rawClient(url)
    let pings = 0
    quiet.ws.on('ping', () => pings++)
    // Six pings need at least 6 silent sweeps, twice what drops a ghost.
    await waitFor(() => pings >= 6, [], 'six pings', 10_000)
    expect(quiet.closed).toBeNull()
    expect(countPeers(server)).toBe(1)
  })

  it('0 turns the watch off (no timer runs); setting it again while serving restarts it', async () => {
    const { server, url } = await startServer({ peerTimeout: 0 })
    const sweep = (): unknown => (server as unknown as { _role: { _sweep: unknown } })._role._sweep
    expect(sweep()).toBeNull()
    server.peerTimeout = 0.4
    expect(sweep()).not.toBeNull()
    const quiet = await rawClient(url)
    let pings = 0
    quiet.ws.on('ping', () => pings++)
    await waitFor(() => pings >= 1, [], 'a ping once the watch runs again')
    server.peerTimeout = 0
    expect(sweep()).toBeNull()
  })
})

describe('warnings an attacker cannot flood', () => {
  it('writes at most LOG_LINES_PER_WINDOW lines of one kind per window, then one line with the count', () => {
    vi.useFakeTimers()
    try {
      const lines: string[] = []
      const limiter = new LogLimiter(() => ({ warn: (m) => lines.push(m) }))
      for (let i = 0; i < 100; i++) limiter.warn(`dropped a message from peer ${1000 + i}: malformed (further ones are only counted)`)
      limiter.warn("handshakeHeaders: 'x' is not a 'Name: value' line")
      expect(lines).toHaveLength(LOG_LINES_PER_WINDOW + 1)
      vi.advanceTimersByTime(LOG_WINDOW_MS)
      expect(lines.at(-1)).toBe(`95 more like "dropped a message from peer #: malformed (further ones are only counted)" in the last ${LOG_WINDOW_MS / 1000} s (suppressed)`)
      limiter.warn('dropped a message from peer 7: malformed (further ones are only counted)')
      expect(lines.at(-1)).toMatch(/^dropped a message from peer 7/)
    } finally {
      vi.useRealTimers()
    }
  })

  it('a server writes a few lines for many misbehaving clients, not one each', async () => {
    const lines: string[] = []
    const { server, url } = await startServer({ autoPoll: true, logger: { warn: (m) => lines.push(m) } })
    for (let i = 0; i < 30; i++) {
      const client = await rawClient(url)
      client.send(Uint8Array.from([0x05])) // not a frame SceneMultiplayer knows: malformed
      await waitFor(() => (server.getPeerStats(client.id())?.protocolErrors ?? 0) > 0, [], 'the drop')
      client.ws.close()
    }
    expect(lines.filter((l) => l.startsWith('dropped a message')).length).toBe(LOG_LINES_PER_WINDOW)
  })
})

function countPeers(server: WebSocketMultiplayerPeer): number {
  return (server as unknown as { _role: { _peers: Map<number, unknown> } })._role._peers.size
}
