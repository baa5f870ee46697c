// Failures, with real processes: an edge killed with SIGKILL, the authority killed, Redis restarted,
// Redis unreachable for a moment (the session resumes, nothing lost) and for longer than the grace
// period (clients closed with the stated code), and the graceful ends. Default timing
// (heartbeatMs 1000, timeoutMs 3000) where the test is about the stated detection time.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CloseCode } from '@wsmp/server'
import { RedisCluster } from '@wsmp/cluster'
import { closeAll, newSession, rawClient, startCluster, waitFor, wsmpClient, type Recorder } from './support/helpers.js'
import { endFixtures, startFixture } from './support/processes.js'
import { REDIS_MISSING, startRedis, stopRedis, type RedisServer } from './support/redis-server.js'

let redis: RedisServer | null = null

describe.skipIf(REDIS_MISSING !== null)('failures', () => {
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await stopRedis(redis)
  })
  afterEach(async () => {
    await closeAll()
    await endFixtures()
  })
  const url = (): string => (redis as RedisServer).url

  it('an edge killed with SIGKILL is noticed within 5 s: its clients leave for everyone', async () => {
    const cluster = await startCluster(url(), 0)
    const session = cluster.authority.session
    const doomed = await startFixture('edge', { url: url(), session, port: 0, bindAddress: '127.0.0.1' })
    const survivor = await startFixture('edge', { url: url(), session, port: 0, bindAddress: '127.0.0.1' })
    await waitFor(() => cluster.authority.getEdges().length === 2, 'both edges to join')
    const edgeUrl = (f: typeof doomed): string => `ws://127.0.0.1:${f.ready.port as number}`
    const [a, b] = [await wsmpClient(edgeUrl(doomed)), await wsmpClient(edgeUrl(doomed))] as Recorder[]
    const c = await wsmpClient(edgeUrl(survivor))
    await waitFor(() => c.peers.has(a.id()) && c.peers.has(b.id()), 'the survivor’s client to know the doomed edge’s clients')
    const [aId, bId] = [a.id(), b.id()]
    const started = Date.now()
    await doomed.kill('SIGKILL')
    await waitFor(
      () => cluster.log.includes(`peer_disconnected ${aId}`) && cluster.log.includes(`peer_disconnected ${bId}`) && !c.peers.has(aId) && !c.peers.has(bId),
      'the killed edge’s clients to leave for everyone',
      8_000,
    )
    const took = Date.now() - started
    expect(took).toBeLessThan(5000)
    expect(cluster.authority.getEdges().map((e) => e.id)).toEqual([survivor.ready.id])
    expect(cluster.authority.getStats().edgesLost).toBe(1)
    // The rest of the session goes on.
    c.send(1, 'still here')
    await waitFor(() => cluster.packets.some((p) => p.text === 'still here'), 'the survivor’s packet')
  })

  it('the authority killed: edges close their clients with 4010 "cluster: authority lost", refuse new ones, and serve the next authority', async () => {
    const session = newSession()
    const first = await startFixture('authority', { url: url(), session })
    const edges = [
      await RedisCluster.edge({ url: url(), session, port: 0, bindAddress: '127.0.0.1', logger: null }),
      await RedisCluster.edge({ url: url(), session, port: 0, bindAddress: '127.0.0.1', logger: null }),
    ]
    try {
      await Promise.all(edges.map((e) => e.whenServing()))
      const edgeUrl = (i: number): string => `ws://127.0.0.1:${edges[i]!.getLocalPort()}`
      const a = await wsmpClient(edgeUrl(0))
      const raw = await rawClient(edgeUrl(1))
      await first.waitMessage((m) => m.type === 'peer_connected' && m.id === a.id(), 'the authority to admit a')
      await first.kill('SIGKILL')
      await waitFor(() => raw.closed !== null && a.log.includes('server_disconnected'), 'the edges to close their clients', 8_000)
      expect(raw.closed).toEqual({ code: CloseCode.AUTHORITY_LOST, reason: 'cluster: authority lost' })
      expect(a.closeCode()).toBe(CloseCode.AUTHORITY_LOST)
      // No authority: upgrades are refused (503) rather than left hanging.
      await expect(rawClient(edgeUrl(0))).rejects.toThrow(/503/)
      // A new authority for the session: the edges serve it.
      const second = await startFixture('authority', { url: url(), session })
      await Promise.all(edges.map((e) => e.whenServing(10_000)))
      expect(edges[0]!.getAuthority()).toBe(second.ready.instance)
      const again = await wsmpClient(edgeUrl(1))
      again.send(1, 'hello again')
      await second.waitMessage((m) => m.type === 'packet' && m.text === 'hello again', 'the new authority to get a packet')
    } finally {
      await Promise.all(edges.map((e) => e.close()))
    }
  })

  it('Redis restarted: clients are closed with 4011 "cluster: Redis unavailable", then the session starts over', async () => {
    const cluster = await startCluster(url(), 2)
    const a = await wsmpClient(cluster.url(0))
    const raw = await rawClient(cluster.url(1))
    await waitFor(() => a.peers.has(raw.messages.length > 0 ? raw.id() : -1), 'both clients admitted')
    const aId = a.id()
    const lost: number[] = []
    cluster.edges[0]!.on('authority_lost', (code) => lost.push(code))
    await (redis as RedisServer).stop()
    await (redis as RedisServer).start()
    await waitFor(() => raw.closed !== null && a.log.includes('server_disconnected'), 'the clients to be closed', 10_000)
    expect(raw.closed).toEqual({ code: CloseCode.REDIS_UNAVAILABLE, reason: 'cluster: Redis unavailable' })
    expect(a.closeCode()).toBe(CloseCode.REDIS_UNAVAILABLE)
    expect(lost).toEqual([CloseCode.REDIS_UNAVAILABLE])
    await waitFor(() => cluster.log.includes(`peer_disconnected ${aId}`), 'the authority to see them leave')
    // Everyone rejoins the restarted Redis; new clients play.
    await Promise.all(cluster.edges.map((e) => e.whenServing(10_000)))
    const b = await wsmpClient(cluster.url(1))
    b.send(1, 'after the restart')
    await waitFor(() => cluster.packets.some((p) => p.text === 'after the restart'), 'a packet after the restart')
  })

  it('Redis unreachable for a moment (stopped 1 s, every connection killed): the session resumes and loses nothing', async () => {
    const cluster = await startCluster(url(), 2)
    const [a, b] = [await wsmpClient(cluster.url(0)), await wsmpClient(cluster.url(1))] as Recorder[]
    await waitFor(() => a.peers.has(b.id()) && b.peers.has(a.id()), 'a and b to meet')
    const N = 600
    let sent = 0
    const sender = setInterval(() => {
      for (let i = 0; i < 10 && sent < N; i++, sent++) {
        a.send(b.id(), `n${sent}`)
        a.send(1, `s${sent}`)
      }
      if (sent >= N) clearInterval(sender)
    }, 5)
    // Redis stops answering for 1 s (SIGSTOP), then every client connection is killed.
    await waitFor(() => sent >= 100, 'traffic to flow')
    process.kill((redis as RedisServer).pid(), 'SIGSTOP')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    process.kill((redis as RedisServer).pid(), 'SIGCONT')
    await waitFor(() => sent >= 400, 'more traffic')
    const { Redis } = await import('ioredis')
    const admin = new Redis(url())
    try {
      await admin.client('KILL', 'TYPE', 'normal')
    } finally {
      admin.disconnect()
    }
    await waitFor(() => b.packets.length === N && cluster.packets.length === N, 'every packet', 15_000)
    expect(b.packets.map((p) => p.text)).toEqual(Array.from({ length: N }, (_, i) => `n${i}`))
    expect(cluster.packets.map((p) => p.text)).toEqual(Array.from({ length: N }, (_, i) => `s${i}`))
    expect(a.log).not.toContain('server_disconnected')
    expect(cluster.authority.getStats().edgesLost).toBe(0)
    expect(cluster.edges.map((e) => e.getStats().authorityLost)).toEqual([0, 0])
  })

  it('Redis unreachable past the grace period: clients are closed with 4011 and the session resumes when it is back', async () => {
    const cluster = await startCluster(url(), 1, { heartbeatMs: 200, timeoutMs: 600 })
    const a = await wsmpClient(cluster.url(0))
    const raw = await rawClient(cluster.url(0))
    await waitFor(() => raw.messages.length > 0 && a.peers.has(raw.id()), 'both clients admitted')
    const [aId, rawId] = [a.id(), raw.id()]
    const down: string[] = []
    cluster.authority.on('redis_down', (why) => down.push(why))
    process.kill((redis as RedisServer).pid(), 'SIGSTOP')
    try {
      await waitFor(() => raw.closed !== null && down.length > 0, 'the edge to close its clients and the authority to give them up', 8_000)
    } finally {
      process.kill((redis as RedisServer).pid(), 'SIGCONT')
    }
    expect(raw.closed).toEqual({ code: CloseCode.REDIS_UNAVAILABLE, reason: 'cluster: Redis unavailable' })
    await waitFor(() => cluster.log.includes(`peer_disconnected ${rawId}`) && cluster.log.includes(`peer_disconnected ${aId}`), 'the authority to see them leave')
    await cluster.edges[0]!.whenServing(10_000)
    const b = await wsmpClient(cluster.url(0))
    b.send(1, 'back')
    await waitFor(() => cluster.packets.some((p) => p.text === 'back'), 'a packet once Redis is back')
  })

  it('ends gracefully: a closed edge’s clients leave for everyone (1001); a closed authority closes every client (1001) and the edges wait', async () => {
    const cluster = await startCluster(url(), 2)
    const a = await wsmpClient(cluster.url(0))
    const b = await wsmpClient(cluster.url(1))
    await waitFor(() => a.peers.has(b.id()), 'a to know b')
    const bId = b.id()
    await cluster.edges[1]!.close()
    await waitFor(() => b.log.includes('server_disconnected') && !a.peers.has(bId) && cluster.log.includes(`peer_disconnected ${bId}`), 'b to leave')
    expect(b.closeCode()).toBe(1001)
    await cluster.authority.close()
    await waitFor(() => a.log.includes('server_disconnected'), 'a to be closed')
    expect(a.closeCode()).toBe(1001)
    expect(cluster.edges[0]!.isServing()).toBe(false)
    await expect(rawClient(cluster.url(0))).rejects.toThrow(/503/)
  })
})
