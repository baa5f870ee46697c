import * as http from 'node:http'
import * as net from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket as WsClient } from 'ws'
import { ConnectionStatus, ErrorCode, LISTEN_BACKLOG, WebSocketMultiplayerPeer } from '@wsmp/server'
import { admitted, bytes, closeEverything, connectClient, drain, onCleanup, plainServer, rawClient, record, startServer, toHex, track, waitFor } from './helpers.js'

afterEach(() => {
  closeEverything()
  vi.restoreAllMocks()
})

/** Tries a plain `ws` upgrade and reports the HTTP status of a refusal, or 101. */
function upgradeStatus(url: string, protocols: string[] = []): Promise<{ status: number; headers: http.IncomingHttpHeaders; protocol: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WsClient(url, protocols, { perMessageDeflate: false })
    onCleanup(() => ws.terminate())
    ws.once('upgrade', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, protocol: String(res.headers['sec-websocket-protocol'] ?? '') }))
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, protocol: '' })
      ws.terminate()
    })
    ws.once('error', (err) => {
      if (!/Unexpected server response|Server sent/.test(err.message)) reject(err)
    })
  })
}

describe('handshakeTimeout on the server', () => {
  it('cuts a TCP client that connects and sends nothing', async () => {
    const { server, port } = await startServer({ handshakeTimeout: 0.3 })
    const socket = net.connect(port, '127.0.0.1')
    onCleanup(() => socket.destroy())
    let closed = false
    socket.on('close', () => (closed = true))
    socket.on('error', () => {})
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    await waitFor(() => closed, [server], 'the server to cut the silent client', 15_000)
  })

  it('cuts a client that stops half-way through the upgrade request, and keeps serving others', async () => {
    const { server, port, url } = await startServer({ handshakeTimeout: 0.3 })
    const socket = net.connect(port, '127.0.0.1')
    onCleanup(() => socket.destroy())
    let closed = false
    socket.on('close', () => (closed = true))
    socket.on('error', () => {})
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n')
    await waitFor(() => closed, [server], 'the server to cut the slow client', 15_000)
    const c = await connectClient(url, {}, [server])
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('does not cut a connected client that stays longer than the timeout', async () => {
    const { server, url } = await startServer({ handshakeTimeout: 0.2 })
    const c = await connectClient(url, {}, [server])
    const until = Date.now() + 600
    await waitFor(() => Date.now() > until, [server, c], 'three timeouts to pass')
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    c.putPacket(bytes('still here'))
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet')
  })
})

describe('handshakeHeaders', () => {
  it('a Node client sends them with the upgrade request', async () => {
    const fake = await plainServer()
    fake.wss.on('connection', (ws) => ws.send(Uint8Array.from([9, 0, 0, 0])))
    const c = await connectClient(fake.url, { handshakeHeaders: ['X-Token: secret-1', 'X-Game: demo'] })
    expect(c.getUniqueId()).toBe(9)
    expect(fake.requests[0]?.headers['x-token']).toBe('secret-1')
    expect(fake.requests[0]?.headers['x-game']).toBe('demo')
  })

  it('a server adds them to its 101 response', async () => {
    const { url } = await startServer({ handshakeHeaders: ['X-Server: wsmp', 'Set-Cookie: s=1'] })
    const answer = await upgradeStatus(url)
    expect(answer.status).toBe(101)
    expect(answer.headers['x-server']).toBe('wsmp')
    expect(answer.headers['set-cookie']).toEqual(['s=1'])
  })
})

describe('supportedProtocols', () => {
  it("the server picks the first of the client's protocols it supports (client order wins)", async () => {
    const { server, url } = await startServer({ supportedProtocols: ['beta', 'alpha'] })
    const c = await connectClient(url, { supportedProtocols: ['alpha', 'beta'] }, [server])
    expect(c.getPeer(1)?.getSelectedProtocol()).toBe('alpha')
    await admitted(server, [c.getUniqueId()])
    expect(server.getPeer(c.getUniqueId())?.getSelectedProtocol()).toBe('alpha')
    const d = await connectClient(url, { supportedProtocols: ['gamma', 'beta'] }, [server])
    expect(d.getPeer(1)?.getSelectedProtocol()).toBe('beta')
  })

  it('no protocol in common fails the connection', async () => {
    const { server, url } = await startServer({ supportedProtocols: ['alpha'] })
    const c = track(new WebSocketMultiplayerPeer({ logger: null, supportedProtocols: ['omega'] }))
    const log = record(c)
    c.createClient(url)
    await waitFor(() => log.length > 0, [c, server], 'the failure')
    expect(log).toEqual(['connection_failed'])
    expect((await upgradeStatus(url, ['omega'])).status).toBe(400)
  })

  it('a server that requires a protocol refuses a client that offers none, and one that supports none refuses offers', async () => {
    const { url } = await startServer({ supportedProtocols: ['alpha'] })
    expect((await upgradeStatus(url)).status).toBe(400)
    const plain = await startServer()
    expect((await upgradeStatus(plain.url, ['alpha'])).status).toBe(400)
    const none = await upgradeStatus(plain.url)
    expect(none.status).toBe(101)
    expect(none.protocol).toBe('')
  })
})

describe('refuseNewConnections', () => {
  it('answers new upgrades with HTTP 503 (clients get connection_failed); connected peers keep working; off again admits', async () => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    server.refuseNewConnections = true
    expect((await upgradeStatus(url)).status).toBe(503)
    const b = track(new WebSocketMultiplayerPeer({ logger: null }))
    const log = record(b)
    b.createClient(url)
    await waitFor(() => log.length > 0, [b, server], 'the refusal')
    expect(log).toEqual(['connection_failed'])
    expect(b.getLastError()).toMatch(/503/)
    a.putPacket(bytes('still here'))
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'a packet from the connected peer')
    server.refuseNewConnections = false
    const c = await connectClient(url, {}, [server])
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })
})

describe('bindAddress', () => {
  it("'*' (the default) listens on every interface: no host is given to listen()", async () => {
    // Listening on every interface for real would expose the test server; check what is asked of
    // Node and redirect the actual bind to loopback.
    const original = net.Server.prototype.listen as (this: net.Server, options: net.ListenOptions) => net.Server
    const calls: net.ListenOptions[] = []
    vi.spyOn(net.Server.prototype, 'listen').mockImplementation(function (this: net.Server, ...args: unknown[]) {
      const options = args[0] as net.ListenOptions
      calls.push(options)
      return original.call(this, { ...options, host: '127.0.0.1' })
    } as typeof net.Server.prototype.listen)
    const server = track(new WebSocketMultiplayerPeer({ logger: null }))
    expect(await server.createServer(0)).toBe(ErrorCode.OK)
    server.close()
    expect(await server.createServer(0, '*')).toBe(ErrorCode.OK)
    server.close()
    expect(await server.createServer(0, '127.0.0.1')).toBe(ErrorCode.OK)
    // Node listens on :: (dual-stack, IPv4 and IPv6) when no host is given. The backlog is
    // raised from Node's 511 (join storms).
    expect(calls.map((c) => c.host)).toEqual([undefined, undefined, '127.0.0.1'])
    expect(calls.map((c) => [c.port, c.backlog])).toEqual([
      [0, LISTEN_BACKLOG],
      [0, LISTEN_BACKLOG],
      [0, LISTEN_BACKLOG],
    ])
    expect(LISTEN_BACKLOG).toBe(4096)
  })

  it('an explicit address is used: ::1 serves IPv6 loopback', async () => {
    const server = track(new WebSocketMultiplayerPeer({ logger: null }))
    const err = await server.createServer(0, '::1')
    if (err !== ErrorCode.OK) {
      // No IPv6 on this machine: the error must say so, not be OK.
      expect(err).toBe(ErrorCode.ERR_INVALID_PARAMETER)
      return
    }
    const c = await connectClient(`ws://[::1]:${server.getLocalPort()}`, {}, [server])
    expect(server.getPeerAddress(c.getUniqueId())).toBe('::1')
  })
})

describe('attach(httpServer, path)', () => {
  async function appServer(): Promise<{ http: http.Server; port: number }> {
    const app = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' })
      res.end(`app ${req.url}`)
    })
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', () => resolve()))
    onCleanup(() => app.close())
    return { http: app, port: (app.address() as net.AddressInfo).port }
  }

  async function get(port: number, path: string): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`)
    return res.text()
  }

  it('shares the port with normal HTTP routes, serving WebSockets at path only', async () => {
    const app = await appServer()
    const server = track(new WebSocketMultiplayerPeer({ logger: null }))
    expect(server.attach(app.http, '/ws')).toBe(ErrorCode.OK)
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    expect(server.getUniqueId()).toBe(1)
    expect(server.isServer()).toBe(true)
    expect(server.getLocalPort()).toBe(app.port)
    expect(await get(app.port, '/hello')).toBe('app /hello')
    const c = await connectClient(`ws://127.0.0.1:${app.port}/ws`, {}, [server])
    c.putPacket(bytes('over the shared port'))
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet')
    expect(drain(server)).toEqual([[c.getUniqueId(), 'over the shared port']])
    expect((await upgradeStatus(`ws://127.0.0.1:${app.port}/elsewhere`)).status).toBe(404)
    expect(await get(app.port, '/ws')).toBe('app /ws') // plain HTTP at the path is the app's
  })

  it('returns ERR_ALREADY_IN_USE when in use; close() detaches and leaves the HTTP server running', async () => {
    const app = await appServer()
    const server = track(new WebSocketMultiplayerPeer({ logger: null }))
    expect(server.attach(app.http, '/ws')).toBe(ErrorCode.OK)
    expect(server.attach(app.http, '/ws')).toBe(ErrorCode.ERR_ALREADY_IN_USE)
    const c = await connectClient(`ws://127.0.0.1:${app.port}/ws`, {}, [server])
    const log = record(c)
    server.close()
    await waitFor(() => log.includes('server_disconnected'), [c], 'the client to see the server go')
    expect(await get(app.port, '/still')).toBe('app /still')
    expect(app.http.listenerCount('upgrade')).toBe(0)
    expect(() => server.attach({} as http.Server)).toThrow(TypeError)
    expect(() => server.attach(app.http, 'no-slash')).toThrow(TypeError)
  })

  it('two peers can share one HTTP server on different paths', async () => {
    const app = await appServer()
    const one = track(new WebSocketMultiplayerPeer({ logger: null }))
    const two = track(new WebSocketMultiplayerPeer({ logger: null }))
    one.attach(app.http, '/one')
    two.attach(app.http, '/two')
    const c1 = await connectClient(`ws://127.0.0.1:${app.port}/one`, {}, [one])
    const c2 = await connectClient(`ws://127.0.0.1:${app.port}/two`, {}, [two])
    await admitted(one, [c1.getUniqueId()])
    await admitted(two, [c2.getUniqueId()])
    expect(one.getPeer(c2.getUniqueId())).toBeNull()
    expect(two.getPeer(c1.getUniqueId())).toBeNull()
  })
})

describe("framing 'raw'", () => {
  it('packets travel verbatim client ↔ server; no relay, no announcements; targets on a client are ignored', async () => {
    const { server, url } = await startServer({ framing: 'raw' })
    const a = await connectClient(url, { framing: 'raw' }, [server])
    const aLog = record(a)
    const b = await connectClient(url, { framing: 'raw' }, [server])
    const [aId, bId] = [a.getUniqueId(), b.getUniqueId()]
    await admitted(server, [aId, bId])
    expect(a.isServerRelaySupported()).toBe(false)
    expect(server.isServerRelaySupported()).toBe(false)
    a.setTargetPeer(bId) // ignored: a raw client only talks to the server
    expect(a.putPacket(Uint8Array.from([0x07, 0x03, 0, 0, 0, 0, 0x03, 0x41]))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the raw packet')
    expect(server.getPacketPeer()).toBe(aId)
    expect(toHex(server.getPacket())).toBe('07 03 00 00 00 00 03 41') // not interpreted
    server.setTargetPeer(0)
    server.putPacket(Uint8Array.from([0x03]))
    await waitFor(() => a.getAvailablePacketCount() === 1 && b.getAvailablePacketCount() === 1, [a, b], 'the broadcast')
    expect(toHex(a.getPacket())).toBe('03')
    expect(toHex(b.getPacket())).toBe('03')
    expect(aLog).toEqual([]) // never told about b
  })

  it('on the wire: the id, then each message is one packet', async () => {
    const { server, url } = await startServer({ framing: 'raw' })
    const raw = await rawClient(url)
    await raw.waitMessages(1, 'the id')
    const id = raw.id()
    await admitted(server, [id])
    server.setTargetPeer(id)
    server.putPacket(Uint8Array.from([0xaa, 0xbb]))
    await raw.waitMessages(2, 'the packet')
    expect(toHex(raw.messages[1]?.data ?? new Uint8Array())).toBe('aa bb')
    raw.send(Uint8Array.from([0x00, 0x01]))
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet')
    expect(toHex(server.getPacket())).toBe('00 01')
  })
})
