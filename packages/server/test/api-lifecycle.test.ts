import * as net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionStatus, ErrorCode, TLSOptions, WebSocketMultiplayerPeer } from '@wsmp/server'
import { admitted, bytes, closeEverything, connectClient, deadPort, plainServer, record, startServer, track, waitFor } from './helpers.js'

afterEach(closeEverything)

const quiet = (options = {}) => track(new WebSocketMultiplayerPeer({ logger: null, ...options }))

describe('createServer', () => {
  it('is CONNECTING while pending, then CONNECTED with id 1; port 0 picks a port read by getLocalPort()', async () => {
    const server = quiet()
    expect(server.getLocalPort()).toBe(0)
    const pending = server.createServer(0, '127.0.0.1')
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.CONNECTING)
    expect(await pending).toBe(ErrorCode.OK)
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    expect(server.getUniqueId()).toBe(1)
    const port = server.getLocalPort()
    expect(port).toBeGreaterThan(0)
    // Something really listens there.
    const socket = net.connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    socket.destroy()
  })

  it('resolves ERR_ALREADY_IN_USE on a taken port, and goes back to DISCONNECTED', async () => {
    const { port } = await startServer()
    const second = quiet()
    expect(await second.createServer(port, '127.0.0.1')).toBe(ErrorCode.ERR_ALREADY_IN_USE)
    expect(second.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(second.getUniqueId()).toBe(0)
    expect(second.isServer()).toBe(false)
    expect(second.getLastError()).toMatch(/EADDRINUSE/)
  })

  it('resolves ERR_ALREADY_IN_USE when the peer is already in use (server or client)', async () => {
    const { server, url } = await startServer()
    expect(await server.createServer(0, '127.0.0.1')).toBe(ErrorCode.ERR_ALREADY_IN_USE)
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    const c = quiet()
    c.createClient(url)
    expect(await c.createServer(0, '127.0.0.1')).toBe(ErrorCode.ERR_ALREADY_IN_USE)
  })

  it('resolves ERR_INVALID_PARAMETER for a bad port, a bad address or client TLS options', async () => {
    const server = quiet()
    for (const port of [-1, 65536, 1.5, Number.NaN]) {
      expect(await server.createServer(port, '127.0.0.1')).toBe(ErrorCode.ERR_INVALID_PARAMETER)
      expect(server.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    }
    expect(server.getLastError()).toMatch(/port/)
    expect(await server.createServer(0, '')).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    // 192.0.2.1 (TEST-NET-1) is no address of this machine.
    expect(await server.createServer(0, '192.0.2.1')).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(await server.createServer(0, '127.0.0.1', TLSOptions.client())).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(await server.createServer(0, '127.0.0.1')).toBe(ErrorCode.OK)
  })

  it('can serve again after close()', async () => {
    const { server } = await startServer()
    server.close()
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(server.getUniqueId()).toBe(0)
    expect(server.getLocalPort()).toBe(0)
    expect(await server.createServer(0, '127.0.0.1')).toBe(ErrorCode.OK)
    const c = await connectClient(`ws://127.0.0.1:${server.getLocalPort()}`, {}, [server])
    expect(c.getUniqueId()).toBeGreaterThan(1)
  })
})

describe('createClient', () => {
  it('returns OK and is CONNECTING with id 0, then CONNECTED with its id after poll', async () => {
    const { server, url } = await startServer()
    const c = quiet()
    expect(c.createClient(url)).toBe(ErrorCode.OK)
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.CONNECTING)
    expect(c.getUniqueId()).toBe(0)
    // The id arrives on the event loop; the status changes only inside poll().
    await waitFor(() => c.getStats().packetsIn >= 1, [], 'the id message to arrive')
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.CONNECTING)
    expect(c.getUniqueId()).toBe(0)
    c.poll()
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    const id = c.getUniqueId()
    expect(id).toBeGreaterThanOrEqual(2)
    expect(id).toBeLessThanOrEqual(2 ** 31 - 1)
    await admitted(server, [id])
  })

  it('returns ERR_ALREADY_IN_USE unless DISCONNECTED', async () => {
    const { server, url } = await startServer()
    const c = quiet()
    expect(c.createClient(url)).toBe(ErrorCode.OK)
    expect(c.createClient(url)).toBe(ErrorCode.ERR_ALREADY_IN_USE)
    await waitFor(() => c.getConnectionStatus() === ConnectionStatus.CONNECTED, [c, server], 'connected')
    expect(c.createClient(url)).toBe(ErrorCode.ERR_ALREADY_IN_USE)
    expect(c.getLastError()).toMatch(/in use/)
    expect(server.createClient(url)).toBe(ErrorCode.ERR_ALREADY_IN_USE)
  })

  it('returns ERR_INVALID_PARAMETER for bad URLs, other schemes and server TLS options, staying DISCONNECTED', () => {
    const c = quiet()
    for (const url of ['', '   ', 'http://127.0.0.1:1', 'https://127.0.0.1:1', 'ftp://x', 'ws://', 'ws://[bad']) {
      expect(c.createClient(url), url).toBe(ErrorCode.ERR_INVALID_PARAMETER)
      expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
      expect(c.getLastError()).not.toBe('')
    }
    expect(c.createClient('ws://127.0.0.1:1', TLSOptions.server('key', 'cert'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
  })

  it("emits connected_to_server then peer_connected(1) (SceneMultiplayer's order), inside poll()", async () => {
    const { server, url } = await startServer()
    const c = quiet()
    const log = record(c)
    c.createClient(url)
    await waitFor(() => c.getStats().packetsIn >= 1, [server], 'the id')
    expect(log).toEqual([])
    c.poll()
    expect(log).toEqual(['connected_to_server', 'peer_connected 1'])
  })

  it('a refused connection (dead port) fails quickly with connection_failed, not by the timeout', async () => {
    const port = await deadPort()
    const c = quiet({ handshakeTimeout: 60 })
    const reasons: string[] = []
    c.on('connection_failed', (reason) => reasons.push(reason))
    const log = record(c)
    expect(c.createClient(`ws://127.0.0.1:${port}`)).toBe(ErrorCode.OK)
    await waitFor(() => log.length > 0, [c], 'connection_failed', 30_000)
    expect(log).toEqual(['connection_failed'])
    expect(reasons[0]).toMatch(/ECONNREFUSED/)
    expect(reasons[0]).not.toMatch(/timed out/)
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(c.getLastError()).toMatch(/ECONNREFUSED/)
    // And it can try again.
    expect(c.createClient(`ws://127.0.0.1:${port}`)).toBe(ErrorCode.OK)
  })

  it('a server that never sends the id fails the client after handshakeTimeout', async () => {
    const silent = await plainServer()
    const c = quiet({ handshakeTimeout: 0.3 })
    const reasons: string[] = []
    c.on('connection_failed', (reason) => reasons.push(reason))
    const log = record(c)
    c.createClient(silent.url)
    await waitFor(() => silent.sockets.length === 1, [c], 'the upgrade')
    await waitFor(() => log.length > 0, [c], 'connection_failed', 15_000)
    expect(log).toEqual(['connection_failed'])
    expect(reasons[0]).toMatch(/timed out/)
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    // The client dropped the connection.
    await waitFor(() => silent.sockets[0]?.readyState === 3, [], 'the server to see the drop')
  })

  it('an invalid id message fails the connection', async () => {
    for (const id of [
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [255, 255, 255, 255],
      [2, 0, 0],
      [2, 0, 0, 0, 0],
    ]) {
      const fake = await plainServer()
      fake.wss.on('connection', (ws) => ws.send(Uint8Array.from(id)))
      const c = quiet()
      const log = record(c)
      c.createClient(fake.url)
      await waitFor(() => log.length > 0, [c], 'connection_failed')
      expect(log, JSON.stringify(id)).toEqual(['connection_failed'])
      expect(c.getLastError()).toMatch(/invalid id/)
    }
  })
})

describe('close()', () => {
  it('on a server: emits nothing, drops everything, clients see the server go', async () => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    await admitted(server, [a.getUniqueId(), b.getUniqueId()])
    const log = record(server)
    const packets: number[] = []
    server.on('packet', (_data, from) => packets.push(from))
    // I/O that arrives before close() but is never polled.
    a.putPacket(bytes('late'))
    b.close()
    await waitFor(() => server.getStats().packetsIn >= 1 && server.getPeer(b.getUniqueId()) === null, [], 'the packet and the leave to arrive')
    server.close()
    server.poll()
    expect(log).toEqual([])
    expect(packets).toEqual([])
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(server.getUniqueId()).toBe(0)
    expect(server.getAvailablePacketCount()).toBe(0)
    const aLog = record(a)
    await waitFor(() => aLog.includes('server_disconnected'), [a, server], 'the client to see the server go')
    expect(aLog.at(-2)).toBe('peer_disconnected 1')
    server.poll()
    expect(log).toEqual([])
  })

  it('on a client: emits no signal and no client event', async () => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    const aId = a.getUniqueId()
    await admitted(server, [aId, b.getUniqueId()])
    const log = record(a)
    // Traffic and a departure reach a's inbox, unpolled.
    server.setTargetPeer(aId)
    server.putPacket(bytes('unread'))
    b.close()
    await waitFor(() => a.getStats().packetsIn >= 4, [server], 'the packet and DEL_PEER to reach a') // id, ADD b, packet, DEL b
    a.close()
    a.poll()
    expect(log).toEqual([])
    expect(a.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(a.getUniqueId()).toBe(0)
    expect(a.getAvailablePacketCount()).toBe(0)
    // The server notices a leaving.
    const serverLog = record(server)
    await waitFor(() => serverLog.includes(`peer_disconnected ${aId}`), [server], 'the server to see a leave')
    a.poll()
    expect(log).toEqual([])
  })

  it('on a connecting client: emits nothing, not even connection_failed', async () => {
    const silent = await plainServer()
    const c = quiet({ handshakeTimeout: 0.2 })
    const log = record(c)
    c.createClient(silent.url)
    await waitFor(() => silent.sockets.length === 1, [], 'the upgrade')
    c.close()
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    await waitFor(() => silent.sockets[0]?.readyState === 3, [c], 'the socket to close')
    // Past the handshake timeout too.
    const until = Date.now() + 400
    await waitFor(() => Date.now() > until, [c], 'the timeout to have passed')
    expect(log).toEqual([])
  })
})

describe('close() with a failure waiting to be polled', () => {
  it('a client closed before polling its connection failure emits nothing', async () => {
    const port = await deadPort()
    const c = quiet({ handshakeTimeout: 60 })
    const log = record(c)
    c.createClient(`ws://127.0.0.1:${port}`)
    // The failure is recorded on the event loop; connection_failed waits for poll().
    await waitFor(() => /ECONNREFUSED/.test(c.getLastError()), [], 'the refusal to arrive')
    c.close()
    c.poll()
    expect(log).toEqual([])
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
  })
})

describe('disconnectPeer', () => {
  it('without force: the server emits peer_disconnected, the client server_disconnected, others DEL_PEER', async () => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    const [aId, bId] = [a.getUniqueId(), b.getUniqueId()]
    await admitted(server, [a.getUniqueId(), b.getUniqueId()])
    const bLog = record(b)
    await waitFor(() => bLog.length === 0 && b.getStats().packetsIn >= 2, [b], 'b to know a') // id + ADD a
    const serverLog = record(server)
    const aLog = record(a)
    server.disconnectPeer(aId)
    await waitFor(
      () => serverLog.includes(`peer_disconnected ${aId}`) && aLog.includes('server_disconnected') && bLog.includes(`peer_disconnected ${aId}`),
      [server, a, b],
      'everyone to see a go',
    )
    expect(serverLog).toEqual([`peer_disconnected ${aId}`])
    expect(aLog).not.toContain('connection_failed')
    expect(aLog).toContain(`peer_disconnected ${bId}`)
    expect(aLog.slice(-2)).toEqual(['peer_disconnected 1', 'server_disconnected'])
    expect(bLog).toEqual([`peer_disconnected ${aId}`])
    expect(a.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(server.getPeer(aId)).toBeNull()
  })

  it('with force: the peer goes at once without the local signal; other clients still get DEL_PEER', async () => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    const aId = a.getUniqueId()
    await admitted(server, [a.getUniqueId(), b.getUniqueId()])
    await waitFor(() => b.getStats().packetsIn >= 2, [b], 'b to know a')
    const serverLog = record(server)
    const bLog = record(b)
    const aLog = record(a)
    const socket = server.getPeer(aId)
    if (!socket) throw new Error('no socket for a')
    server.disconnectPeer(aId, true)
    expect(server.getPeer(aId)).toBeNull()
    await waitFor(() => aLog.includes('server_disconnected') && bLog.includes(`peer_disconnected ${aId}`), [server, a, b], 'a and b to see a go')
    // Until the server's side of the connection has closed too (the socket, now on its own, is polled directly).
    await waitFor(() => socket.getReadyState() === 3, [server, socket], "the server's socket to close")
    server.poll()
    expect(serverLog).toEqual([])
    expect(bLog).toEqual([`peer_disconnected ${aId}`])
  })

  it('on a client, without force: peer_disconnected(1) and server_disconnected follow in a later poll', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    const id = c.getUniqueId()
    const log = record(c)
    const serverLog = record(server)
    c.disconnectPeer(1)
    expect(log).toEqual([])
    await waitFor(() => log.includes('server_disconnected'), [c, server], 'the close to finish')
    expect(log).toEqual(['peer_disconnected 1', 'server_disconnected'])
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(c.getLastError()).toMatch(/by this client \(1000\)/)
    await waitFor(() => serverLog.includes(`peer_disconnected ${id}`), [server], 'the server to see it')
  })

  it("on a client, with force: DISCONNECTED at once; server_disconnected at the next poll, as Godot's SceneMultiplayer says", async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    const id = c.getUniqueId()
    const log = record(c)
    const serverLog = record(server)
    c.disconnectPeer(1, true)
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(c.getUniqueId()).toBe(0)
    expect(log).toEqual([])
    await waitFor(() => serverLog.includes(`peer_disconnected ${id}`), [server], 'the server to see it')
    c.poll()
    expect(log).toEqual(['server_disconnected'])
    expect(c.getLastError()).toMatch(/this client/)
  })

  it('an unknown peer records an error and changes nothing', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    server.disconnectPeer(12345)
    expect(server.getLastError()).toMatch(/12345/)
    c.disconnectPeer(7)
    expect(c.getLastError()).toMatch(/not connected/)
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    expect(server.getPeer(c.getUniqueId())).not.toBeNull()
  })
})

describe('server_disconnected', () => {
  it('follows peer_disconnected of every announced peer and of 1 when the server goes', async () => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    const bId = b.getUniqueId()
    await waitFor(() => a.getStats().packetsIn >= 2, [server], 'a to hear of b')
    const log = record(a)
    a.poll()
    expect(log).toEqual([`peer_connected ${bId}`])
    const reasons: string[] = []
    a.on('server_disconnected', (reason) => reasons.push(reason))
    server.close()
    await waitFor(() => log.includes('server_disconnected'), [a], 'server_disconnected')
    expect(log).toEqual([`peer_connected ${bId}`, `peer_disconnected ${bId}`, 'peer_disconnected 1', 'server_disconnected'])
    expect(reasons[0]).toMatch(/1001/)
    expect(a.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(a.getUniqueId()).toBe(0)
  })
})

describe('generateUniqueId and assigned ids', () => {
  it('is in 2 … 2^31-1', () => {
    const peer = quiet()
    for (let i = 0; i < 5000; i++) {
      const id = peer.generateUniqueId()
      expect(id).toBeGreaterThanOrEqual(2)
      expect(id).toBeLessThanOrEqual(2 ** 31 - 1)
    }
  })

  it('gives distinct ids to many clients', async () => {
    const { server, url } = await startServer()
    const clients = []
    for (let i = 0; i < 40; i++) clients.push(await connectClient(url, {}, [server]))
    const ids = clients.map((c) => c.getUniqueId())
    expect(new Set(ids).size).toBe(40)
    for (const id of ids) {
      expect(id).toBeGreaterThanOrEqual(2)
      expect(id).toBeLessThanOrEqual(2 ** 31 - 1)
      expect(server.getPeer(id)).not.toBeNull()
    }
  })
})
