// What an edge enforces where the socket is — the handshake (refusing, the hook, subprotocols),
// TLS, inboundBufferSize (1009), outboundBufferSize (4000), and the authority's maxQueuedPackets
// through pause/resume of the client's socket — and SceneMultiplayer auth through an edge.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConnectionStatus, DropReason, ErrorCode, TLSOptions, WebSocketMultiplayerPeer } from '@wsmp/server'
import { RedisCluster, type RedisEdge } from '@wsmp/cluster'
import { testCertificates } from '../../server/test/certs.js'
import { silentableRelay } from '../../server/test/helpers.js'
import { bytes, closeAll, newSession, rawClient, startCluster, text, waitFor, wsmpClient } from './support/helpers.js'
import { REDIS_MISSING, startRedis, stopRedis, type RedisServer } from './support/redis-server.js'

let redis: RedisServer | null = null

describe.skipIf(REDIS_MISSING !== null)('an edge', () => {
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await stopRedis(redis)
  })
  afterEach(closeAll)
  const url = (): string => (redis as RedisServer).url

  it('answers upgrades with 503 while it has no authority, and while refuseNewConnections is set', async () => {
    const session = newSession()
    const edge = await RedisCluster.edge({ url: url(), session, port: 0, bindAddress: '127.0.0.1', logger: null })
    try {
      const edgeUrl = `ws://127.0.0.1:${edge.getLocalPort()}`
      expect(edge.isServing()).toBe(false)
      await expect(rawClient(edgeUrl)).rejects.toThrow(/503/)
      const game = new WebSocketMultiplayerPeer({ logger: null, autoPoll: true })
      const authority = await RedisCluster.authority(game, { url: url(), session, logger: null })
      try {
        await edge.whenServing()
        expect(edge.getAuthority()).toBe(authority.instanceId)
        edge.refuseNewConnections = true
        await expect(rawClient(edgeUrl)).rejects.toThrow(/503/)
        edge.refuseNewConnections = false
        const client = await rawClient(edgeUrl)
        await waitFor(() => client.messages.length === 1, 'the id')
      } finally {
        await authority.close()
      }
    } finally {
      await edge.close()
    }
  })

  it('runs the handshake hook and subprotocol choice where the client connects; the authority sees the protocol', async () => {
    const seen: string[] = []
    const cluster = await startCluster(url(), 1, {
      edgeOptions: {
        supportedProtocols: ['wsmp'],
        onHandshake: (req) => {
          seen.push(`${req.path}?${req.query.get('token') ?? ''} from ${req.remoteAddress}`)
          if (req.query.get('token') === 'no') return { status: 401, reason: 'bad token' }
          return true
        },
      },
    })
    await expect(rawClient(`${cluster.url(0)}/play?token=no`, ['wsmp'])).rejects.toThrow(/401/)
    await expect(rawClient(`${cluster.url(0)}/play?token=ok`, ['other'])).rejects.toThrow(/400/)
    const client = await rawClient(`${cluster.url(0)}/play?token=ok`, ['other', 'wsmp'])
    expect(client.ws.protocol).toBe('wsmp')
    await waitFor(() => client.messages.length === 1, 'the id')
    const peer = cluster.game.getPeer(client.id())
    expect(peer?.getSelectedProtocol()).toBe('wsmp')
    expect(peer?.getRequestedUrl()).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/play\?token=ok$/)
    expect(seen).toEqual(['/play?no from 127.0.0.1', '/play?ok from 127.0.0.1', '/play?ok from 127.0.0.1'])
  })

  it('serves wss:// with TLS options', async () => {
    const certs = testCertificates()
    const cluster = await startCluster(url(), 1, { edgeOptions: { tlsServerOptions: TLSOptions.server(certs.server.key, certs.server.cert) } })
    const port = cluster.edges[0]!.getLocalPort()
    const client = await wsmpClient(`wss://127.0.0.1:${port}`, {}, TLSOptions.client(certs.ca))
    client.send(1, 'over tls')
    await waitFor(() => cluster.packets.length === 1, 'the packet')
    expect(cluster.packets[0]).toEqual({ from: client.id(), text: 'over tls' })
    expect(cluster.game.getPeer(client.id())?.getRequestedUrl()).toMatch(/^wss:\/\//)
  })

  it('closes a client whose message passes inboundBufferSize with 1009; it leaves the game, counted as oversize', async () => {
    const cluster = await startCluster(url(), 1, { edgeOptions: { inboundBufferSize: 1000 } })
    const other = await wsmpClient(cluster.url(0))
    const raw = await rawClient(cluster.url(0))
    await waitFor(() => raw.messages.length > 0 && other.peers.has(raw.id()), 'the plain client admitted')
    const rawId = raw.id()
    raw.ws.send(new Uint8Array(2000).fill(3))
    await waitFor(() => raw.closed !== null && cluster.log.includes(`peer_disconnected ${rawId}`) && !other.peers.has(rawId), 'the client to be closed and leave')
    expect(raw.closed?.code).toBe(1009)
    expect(cluster.game.getStats().dropped[DropReason.OVERSIZE]).toBe(1)
    // Under the limit, traffic goes on.
    other.send(1, 'x'.repeat(900))
    await waitFor(() => cluster.packets.length === 1, 'a packet under the limit')
  })

  it('drops a client that went silent without a FIN within the edge’s peerTimeout: it leaves for the authority and the others', async () => {
    const cluster = await startCluster(url(), 1, { edgeOptions: { peerTimeout: 1 } })
    const edgePort = (cluster.edges[0] as RedisEdge).getLocalPort()
    const relay = await silentableRelay(edgePort)
    try {
      const other = await wsmpClient(cluster.url(0))
      const ghost = await wsmpClient(`ws://127.0.0.1:${relay.port}`)
      const ghostId = ghost.id()
      await waitFor(() => other.peers.has(ghostId), 'the other client to know the ghost')
      relay.cut()
      const cutAt = Date.now()
      await waitFor(() => cluster.log.includes(`peer_disconnected ${ghostId}`), 'the authority to see the ghost leave', 5_000)
      expect(Date.now() - cutAt).toBeLessThan(2_500)
      await waitFor(() => !other.peers.has(ghostId), 'DEL_PEER at the other client')
    } finally {
      relay.close()
    }
  })

  it('applies the game’s maxPeers to the whole session: a client past it is closed with 1013 "server full", without an id', async () => {
    const cluster = await startCluster(url(), 2, { gameOptions: { maxPeers: 2 } })
    const a = await rawClient(cluster.url(0))
    const b = await rawClient(cluster.url(1))
    await waitFor(() => a.messages.length > 0 && b.messages.length > 0, 'two clients admitted')
    const third = await rawClient(cluster.url(0))
    await waitFor(() => third.closed !== null, 'the third client to be closed')
    expect(third.closed).toEqual({ code: 1013, reason: 'server full' })
    expect(third.messages).toEqual([])
    a.ws.close()
    await waitFor(() => cluster.log.includes(`peer_disconnected ${a.id()}`), 'the first client to leave')
    const fourth = await rawClient(cluster.url(1))
    await waitFor(() => fourth.messages.length > 0, 'a place freed is taken again')
  })

  it("pauses a client's socket on its edge when the authority's queue for it is full (maxQueuedPackets), and loses nothing", async () => {
    const game = new WebSocketMultiplayerPeer({ logger: null, maxQueuedPackets: 8 })
    const cluster = await startCluster(url(), 1, { game, listen: false })
    const client = await wsmpClient(cluster.url(0))
    const N = 300
    for (let i = 0; i < N; i++) client.send(1, `p${i}`)
    const peer = game.getPeer(client.id()) as unknown as { _paused: boolean }
    await waitFor(() => {
      game.poll()
      return peer._paused
    }, 'the authority to pause the client')
    const read: string[] = []
    await waitFor(
      () => {
        game.poll()
        while (game.getAvailablePacketCount() > 0) read.push(text(game.getPacket()))
        return read.length >= N
      },
      'every packet',
      15_000,
    )
    expect(read).toEqual(Array.from({ length: N }, (_, i) => `p${i}`))
    expect(peer._paused).toBe(false)
  })

  it('cuts a client that does not read (outboundBufferSize) rather than lose packets silently; the others get everything', async () => {
    const cluster = await startCluster(url(), 1, { edgeOptions: { outboundBufferSize: 256 * 1024 }, gameOptions: { outboundBufferSize: 256 * 1024 } })
    const fast = await wsmpClient(cluster.url(0), { inboundBufferSize: 1 << 20 })
    const slow = await rawClient(cluster.url(0))
    await waitFor(() => slow.messages.length > 0 && fast.peers.has(slow.id()), 'both admitted')
    const slowId = slow.id()
    // The slow client stops reading: its TCP buffers fill, then the edge's.
    ;(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const chunk = 'y'.repeat(60_000)
    let sent = 0
    await waitFor(
      () => {
        if (cluster.log.includes(`peer_disconnected ${slowId}`)) return true
        if (sent < 400) {
          cluster.game.setTargetPeer(0)
          cluster.game.putPacket(bytes(`${sent++}:${chunk}`))
        }
        return false
      },
      'the slow client to be cut',
      20_000,
    )
    const edge = cluster.edges[0]!.getStats()
    const dropped = cluster.game.getStats().dropped[DropReason.OUTBOUND_FULL] ?? 0
    expect(edge.outboundFull + dropped).toBeGreaterThanOrEqual(1)
    await waitFor(() => fast.packets.length === sent, 'the fast client to get every packet', 20_000)
    expect(fast.packets.map((p) => Number(p.text.split(':')[0]))).toEqual(Array.from({ length: sent }, (_, i) => i))
  })

  it('passes SceneMultiplayer authentication through an edge, byte for byte', async () => {
    const game = new WebSocketMultiplayerPeer({
      logger: null,
      autoPoll: true,
      authCallback: (id, data) => {
        if (text(data) === 'token-42') {
          game.sendAuth(id, bytes('welcome'))
          game.completeAuth(id)
        }
      },
    })
    const cluster = await startCluster(url(), 1, { game })
    const got: string[] = []
    const client = new WebSocketMultiplayerPeer({
      logger: null,
      autoPoll: true,
      authCallback: (_id, data) => {
        got.push(text(data))
        client.completeAuth(1)
      },
    })
    const log: string[] = []
    client.on('peer_authenticating', () => {
      log.push('authenticating')
      client.sendAuth(1, bytes('token-42'))
    })
    client.on('connected_to_server', () => log.push('connected_to_server'))
    expect(client.createClient(cluster.url(0))).toBe(ErrorCode.OK)
    try {
      await waitFor(() => log.includes('connected_to_server') && cluster.log.includes(`peer_connected ${client.getUniqueId()}`), 'admission on both sides')
      expect(got).toEqual(['welcome'])
      expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    } finally {
      client.close()
    }
  })
})
