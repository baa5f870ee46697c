// The Godot contract, cluster-wide: one authority and three edges in this process, on a real
// redis-server; wsmp clients and plain `ws` clients (standing in for Godot peers) spread over the
// edges. Ids, announcements, the authority's targets, relay across edges, exclusion, kick, leave
// and per-sender order must hold exactly as with one server.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TransferMode, WebSocketMultiplayerPeer } from '@wsmp/server'
import { announced, bytes, closeAll, rawClient, startCluster, text, waitFor, wsmpClient, type Recorder } from './support/helpers.js'
import { REDIS_MISSING, startRedis, stopRedis, type RedisServer } from './support/redis-server.js'

let redis: RedisServer | null = null

describe.skipIf(REDIS_MISSING !== null)('the Godot contract across an authority and 3 edges', () => {
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await stopRedis(redis)
  })
  afterEach(closeAll)
  const url = (): string => (redis as RedisServer).url

  /** Every client knows every other client and the server. */
  async function meshed(clients: Recorder[]): Promise<void> {
    const ids = clients.map((c) => c.id())
    await waitFor(() => clients.every((c) => ids.every((id) => id === c.id() || c.peers.has(id)) && c.peers.has(1)), 'every client to know every other')
  }

  it('gives session-wide unique ids, announces peers across edges, and the authority sees every peer with its address and port', async () => {
    const cluster = await startCluster(url(), 3)
    const clients: Recorder[] = []
    for (let i = 0; i < 6; i++) clients.push(await wsmpClient(cluster.url(i % 3)))
    const raw = await rawClient(cluster.url(1))
    await meshed(clients)
    const ids = clients.map((c) => c.id())
    await waitFor(() => raw.messages.length > 0, 'the plain client’s id')
    ids.push(raw.id())
    expect(new Set(ids).size).toBe(7)
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(2)
    // Godot's order on a client: connected_to_server, then peer_connected(1).
    for (const c of clients) expect(c.log.slice(0, 2)).toEqual(['connected_to_server', 'peer_connected 1'])
    await waitFor(() => ids.every((id) => cluster.log.includes(`peer_connected ${id}`)), 'peer_connected of all 7 at the authority')
    await waitFor(() => clients.every((c) => c.peers.has(raw.id())), 'the plain client announced to everyone')
    // The plain client hears of the six others.
    await waitFor(() => announced(raw).size === 6, 'six ADD_PEER at the plain client')
    expect([...announced(raw)].sort()).toEqual(ids.slice(0, 6).sort())
    // getPeerAddress / getPeerPort: the client's side of its TCP connection to the edge.
    const rawPort = (raw.ws as unknown as { _socket: { localPort: number } })._socket.localPort
    expect(cluster.game.getPeerAddress(raw.id())).toBe('127.0.0.1')
    expect(cluster.game.getPeerPort(raw.id())).toBe(rawPort)
    for (const id of ids) expect(cluster.game.getPeer(id)).not.toBeNull()
    expect(cluster.authority.getStats()).toMatchObject({ edges: 3, remotePeers: 7 })
    expect(
      cluster.authority
        .getEdges()
        .map((e) => e.clients)
        .sort(),
    ).toEqual([2, 2, 3])
  })

  it("delivers the authority's putPacket to 0, n and −n on every edge, with its transfer modes and channels, in order", async () => {
    const cluster = await startCluster(url(), 3)
    const [a, b, c] = [await wsmpClient(cluster.url(0)), await wsmpClient(cluster.url(1)), await wsmpClient(cluster.url(2))] as Recorder[]
    const raw = await rawClient(cluster.url(2))
    await meshed([a, b, c])
    await waitFor(() => raw.messages.length > 0 && a.peers.has(raw.id()), 'the plain client to be admitted')
    const game = cluster.game
    game.setTargetPeer(0)
    game.putPacket(bytes('to everyone'))
    game.setTargetPeer(b.id())
    game.putPacket(bytes('to b'))
    game.setTargetPeer(-b.id())
    game.putPacket(bytes('to all but b'))
    game.transferMode = TransferMode.UNRELIABLE_ORDERED
    game.transferChannel = 3
    game.setTargetPeer(0)
    game.putPacket(bytes('ordered on 3'))
    game.transferMode = TransferMode.UNRELIABLE
    game.putPacket(bytes('unreliable'))
    game.transferMode = TransferMode.RELIABLE
    game.transferChannel = 0
    game.putPacket(bytes('last'))
    await waitFor(() => [a, b, c].every((r) => r.packets.some((p) => p.text === 'last')), 'the last broadcast everywhere')
    const seen = (r: Recorder): string[] => r.packets.filter((p) => p.from === 1).map((p) => p.text)
    expect(seen(a)).toEqual(['to everyone', 'to all but b', 'ordered on 3', 'unreliable', 'last'])
    expect(seen(b)).toEqual(['to everyone', 'to b', 'ordered on 3', 'unreliable', 'last'])
    expect(seen(c)).toEqual(['to everyone', 'to all but b', 'ordered on 3', 'unreliable', 'last'])
    // The plain client gets the same as [0x03][payload].
    await waitFor(() => raw.messages.some(({ data }) => text(data.subarray(1)) === 'last'), 'the plain client’s last packet')
    const rawPackets = raw.messages.filter(({ data }) => data[0] === 0x03).map(({ data }) => text(data.subarray(1)))
    expect(rawPackets).toEqual(['to everyone', 'to all but b', 'ordered on 3', 'unreliable', 'last'])
    // A target that is nobody fails as on one server.
    game.setTargetPeer(123456)
    expect(game.putPacket(bytes('x'))).not.toBe(0)
  })

  it('relays between clients on different edges: to n, to everyone, to everyone but n (exclusion), to oneself', async () => {
    const cluster = await startCluster(url(), 3)
    const [a, b, c] = [await wsmpClient(cluster.url(0)), await wsmpClient(cluster.url(1)), await wsmpClient(cluster.url(2))] as Recorder[]
    await meshed([a, b, c])
    a.send(b.id(), 'a to b')
    a.send(0, 'a to all')
    a.send(-b.id(), 'a to all but b')
    c.send(1, 'c to server')
    a.send(a.id(), 'a to a')
    b.send(-1, 'b to all but the server')
    await waitFor(() => a.packets.length >= 2 && b.packets.length >= 2 && c.packets.length >= 3 && cluster.packets.length >= 3, 'every relay to arrive')
    const from = (r: { packets: { from: number; text: string }[] }): string[] => r.packets.map((p) => `${p.from}:${p.text}`)
    expect(from(b)).toEqual([`${a.id()}:a to b`, `${a.id()}:a to all`])
    expect(from(c)).toEqual([`${a.id()}:a to all`, `${a.id()}:a to all but b`, `${b.id()}:b to all but the server`])
    expect(from(a)).toEqual([`${a.id()}:a to a`, `${b.id()}:b to all but the server`])
    expect(from(cluster)).toEqual([`${a.id()}:a to all`, `${a.id()}:a to all but b`, `${c.id()}:c to server`])
  })

  it('keeps each sender’s order end to end, across edges, relays and broadcasts interleaved', async () => {
    const cluster = await startCluster(url(), 3)
    const [a, b, c] = [await wsmpClient(cluster.url(0)), await wsmpClient(cluster.url(1)), await wsmpClient(cluster.url(2))] as Recorder[]
    await meshed([a, b, c])
    const N = 300
    for (let i = 0; i < N; i++) {
      a.send(b.id(), `a${i}`)
      a.send(1, `s${i}`)
      c.send(0, `c${i}`)
      cluster.game.setTargetPeer(0)
      cluster.game.putPacket(bytes(`g${i}`))
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    const series = (r: { packets: { text: string }[] }, prefix: string): string[] => r.packets.map((p) => p.text).filter((t) => t.startsWith(prefix))
    await waitFor(
      () => series(b, 'a').length === N && series(cluster, 's').length === N && series(cluster, 'c').length === N && series(b, 'g').length === N && series(a, 'c').length === N,
      'every packet',
      20_000,
    )
    const expected = (prefix: string): string[] => Array.from({ length: N }, (_, i) => `${prefix}${i}`)
    expect(series(b, 'a')).toEqual(expected('a'))
    expect(series(cluster, 's')).toEqual(expected('s'))
    expect(series(cluster, 'c')).toEqual(expected('c'))
    expect(series(a, 'c')).toEqual(expected('c'))
    expect(series(b, 'c')).toEqual(expected('c'))
    for (const r of [a, b, c]) expect(series(r, 'g')).toEqual(expected('g'))
    expect(cluster.authority.getStats().undeliverable).toBe(0)
  })

  it('kicks (disconnectPeer, plain and forced) and lets clients leave, for everyone on every edge', async () => {
    const cluster = await startCluster(url(), 3)
    const [a, b, c, d] = [await wsmpClient(cluster.url(0)), await wsmpClient(cluster.url(1)), await wsmpClient(cluster.url(2)), await wsmpClient(cluster.url(0))] as Recorder[]
    await meshed([a, b, c, d])
    const bId = b.id()
    cluster.game.disconnectPeer(bId)
    await waitFor(() => b.log.includes('server_disconnected'), 'b to be disconnected')
    expect(b.closeCode()).toBe(1000)
    await waitFor(() => [a, c, d].every((r) => !r.peers.has(bId)) && cluster.log.includes(`peer_disconnected ${bId}`), 'everyone to see b leave')
    // Forced: no local signal, but the others hear DEL_PEER.
    const dId = d.id()
    cluster.game.disconnectPeer(dId, true)
    await waitFor(() => [a, c].every((r) => !r.peers.has(dId)) && d.log.includes('server_disconnected'), 'everyone to see d leave')
    expect(cluster.log).not.toContain(`peer_disconnected ${dId}`)
    // A client leaving on its own.
    const cId = c.id()
    c.peer.close()
    await waitFor(() => !a.peers.has(cId) && cluster.log.includes(`peer_disconnected ${cId}`), 'everyone to see c leave')
    expect(cluster.game.getPeer(cId)).toBeNull()
    expect(cluster.authority.getStats().remotePeers).toBe(1)
  })

  it('serves plain ws clients (Godot peers) through an edge byte for byte: id, ADD_PEER, packets both ways', async () => {
    const cluster = await startCluster(url(), 2)
    const a = await wsmpClient(cluster.url(0))
    const raw = await rawClient(cluster.url(1))
    await waitFor(() => raw.messages.length >= 2, 'id and ADD_PEER')
    expect(raw.messages[0]?.data.length).toBe(4)
    expect([...announced(raw)]).toEqual([a.id()])
    raw.ws.send(Uint8Array.from([0x03, ...bytes('to server')]))
    const relay = new Uint8Array(7 + 5)
    relay.set([0x07, 0x03])
    new DataView(relay.buffer).setInt32(2, a.id(), true)
    relay.set([0x03, ...bytes('to a')], 6)
    raw.ws.send(relay.subarray(0, 11))
    await waitFor(() => cluster.packets.length === 1 && a.packets.length === 1, 'the plain client’s packets')
    expect(cluster.packets[0]).toEqual({ from: raw.id(), text: 'to server' })
    expect(a.packets[0]).toEqual({ from: raw.id(), text: 'to a' })
    // A relayed packet reaches the plain client with the source stamped: [07 03 source][03 payload].
    a.send(raw.id(), 'hi raw')
    await waitFor(() => raw.messages.some(({ data }) => data[0] === 0x07 && data[1] === 0x03), 'the relay to the plain client')
    const got = raw.messages.find(({ data }) => data[0] === 0x07 && data[1] === 0x03)?.data as Uint8Array
    expect(new DataView(got.buffer, got.byteOffset).getInt32(2, true)).toBe(a.id())
    expect(text(got.subarray(7))).toBe('hi raw')
  })

  it('lets a game that serves its own clients be the authority too: local and edge clients see and reach each other', async () => {
    const game = new WebSocketMultiplayerPeer({ logger: null, autoPoll: true })
    expect(await game.createServer(0, '127.0.0.1')).toBe(0)
    const cluster = await startCluster(url(), 1, { game })
    const local = await wsmpClient(`ws://127.0.0.1:${game.getLocalPort()}`)
    const remote = await wsmpClient(cluster.url(0))
    await meshed([local, remote])
    local.send(remote.id(), 'local to remote')
    remote.send(local.id(), 'remote to local')
    await waitFor(() => local.packets.length === 1 && remote.packets.length === 1, 'both relays')
    expect(remote.packets[0]).toEqual({ from: local.id(), text: 'local to remote' })
    expect(local.packets[0]).toEqual({ from: remote.id(), text: 'remote to local' })
    // Closing the cluster: the edge's clients leave, the game goes on serving its own.
    await cluster.authority.close()
    await waitFor(() => remote.log.includes('server_disconnected') && !local.peers.has(remote.id()), 'the remote client to leave')
    expect(remote.closeCode()).toBe(1001)
    expect(game.isServer()).toBe(true)
    expect(game.getPeer(local.id())).not.toBeNull()
  })

  it('keeps sessions on one Redis apart, every key under its own prefix', async () => {
    const one = await startCluster(url(), 1)
    const two = await startCluster(url(), 1)
    const a = await wsmpClient(one.url(0))
    const b = await wsmpClient(two.url(0))
    a.send(0, 'one')
    b.send(0, 'two')
    await waitFor(() => one.packets.length === 1 && two.packets.length === 1, 'each authority’s packet')
    expect(one.packets[0]?.text).toBe('one')
    expect(two.packets[0]?.text).toBe('two')
    expect(a.peers).toEqual(new Set([1]))
    expect(b.peers).toEqual(new Set([1]))
    expect(one.game.getPeer(b.id())).toBeNull()
    expect(one.authority.session).not.toBe(two.authority.session)
    const { Redis } = await import('ioredis')
    const admin = new Redis((redis as RedisServer).url)
    try {
      const keys = await admin.keys('*')
      expect(keys.length).toBeGreaterThan(0)
      for (const key of keys) expect(key.startsWith(`wsmp:{${one.authority.session}}:`) || key.startsWith(`wsmp:{${two.authority.session}}:`)).toBe(true)
    } finally {
      admin.disconnect()
    }
  })

  it('sends a broadcast over Redis once per edge, and batches a client burst into a few stream entries', async () => {
    const cluster = await startCluster(url(), 3)
    const clients: Recorder[] = []
    for (let i = 0; i < 12; i++) clients.push(await wsmpClient(cluster.url(i % 3)))
    await meshed(clients)
    const before = cluster.authority.getStats()
    const payload = 'x'.repeat(1000)
    cluster.game.setTargetPeer(0)
    cluster.game.putPacket(bytes(payload))
    await waitFor(() => clients.every((c) => c.packets.some((p) => p.text === payload)), 'the broadcast everywhere')
    const after = cluster.authority.getStats()
    // Three entries of ~1 KB (heartbeats may add a few bytes), not twelve.
    expect(after.bytesOut - before.bytesOut).toBeLessThan(4 * 1001)
    expect(after.batchesOut - before.batchesOut).toBeLessThanOrEqual(6)
    // 200 packets sent at once by one client: far fewer stream entries than packets.
    const edge = cluster.edges[0]!
    const edgeBefore = edge.getStats().batchesOut
    for (let i = 0; i < 200; i++) clients[0]!.send(1, `burst ${i}`)
    await waitFor(() => cluster.packets.filter((p) => p.text.startsWith('burst')).length === 200, 'the burst at the authority')
    expect(edge.getStats().batchesOut - edgeBefore).toBeLessThan(50)
  })
})
