import * as http from 'node:http'
import * as net from 'node:net'
import * as tls from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { ConnectionStatus, DEFAULT_HANDSHAKE_TIMEOUT, ErrorCode, TLSOptions, WebSocketMultiplayerPeer } from '@wsmp/server'
import { testCertificates } from './certs.js'
import { bytes, closeAll, connectClient, drain, startServer, track, waitFor } from './helpers.js'

afterEach(closeAll)
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

const TIMEOUT = 0.5
/** Loose upper bound for "cut at the timeout": the timeout plus generous slack for a loaded machine. */
const CUT_WITHIN_MS = TIMEOUT * 1000 + 4000

/** A raw TCP connection to 127.0.0.1:port that records when it closes. */
async function rawTcp(port: number): Promise<{ socket: net.Socket; closedAt: () => number; opened: number }> {
  const socket = net.connect(port, '127.0.0.1')
  cleanups.push(() => socket.destroy())
  let closedAt = 0
  socket.on('close', () => {
    closedAt = Date.now()
  })
  socket.on('error', () => {})
  socket.on('data', () => {})
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  return { socket, closedAt: () => closedAt, opened: Date.now() }
}

/** Asserts the server keeps admitting well-behaved clients. */
async function stillServes(server: WebSocketMultiplayerPeer, url: string): Promise<void> {
  const client = await connectClient(url, {}, [server])
  client.setTargetPeer(1)
  expect(client.putPacket(bytes('ok'))).toBe(ErrorCode.OK)
  await waitFor(() => server.getAvailablePacketCount() > 0, [server], 'a packet from a well-behaved client')
  expect(drain(server)).toEqual([[client.getUniqueId(), 'ok']])
}

describe('handshakeTimeout on the server (TCP accept → id)', () => {
  it('defaults to 3 seconds', () => {
    expect(DEFAULT_HANDSHAKE_TIMEOUT).toBe(3)
    expect(new WebSocketMultiplayerPeer().handshakeTimeout).toBe(3)
  })

  it('cuts a TCP connection that sends nothing', async () => {
    const { server, url, port } = await startServer({ handshakeTimeout: TIMEOUT })
    const raw = await rawTcp(port)
    await waitFor(() => raw.closedAt() !== 0, [server], 'the silent connection to be cut')
    expect(raw.closedAt() - raw.opened).toBeLessThan(CUT_WITHIN_MS)
    await stillServes(server, url)
  })

  it('cuts a slowloris sending the upgrade request one byte at a time', async () => {
    const { server, url, port } = await startServer({ handshakeTimeout: TIMEOUT })
    const raw = await rawTcp(port)
    const request = bytes(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Padding: ${'x'.repeat(400)}\r\n\r\n`,
    )
    let sent = 0
    // One byte every 10 ms would take over 5 s: the server must cut it long before the end.
    const drip = setInterval(() => {
      if (raw.closedAt() !== 0 || sent >= request.length) return clearInterval(drip)
      raw.socket.write(request.subarray(sent, sent + 1))
      sent++
    }, 10)
    cleanups.push(() => clearInterval(drip))
    await waitFor(() => raw.closedAt() !== 0, [server], 'the slowloris to be cut')
    expect(sent).toBeLessThan(request.length)
    expect(raw.closedAt() - raw.opened).toBeLessThan(CUT_WITHIN_MS)
    await stillServes(server, url)
  })

  it('cuts a client that completed the upgrade request line but never the headers, while others connect', async () => {
    const { server, url, port } = await startServer({ handshakeTimeout: TIMEOUT })
    const raw = await rawTcp(port)
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n')
    await stillServes(server, url)
    await waitFor(() => raw.closedAt() !== 0, [server], 'the half request to be cut')
    expect(raw.closedAt() - raw.opened).toBeLessThan(CUT_WITHIN_MS)
  })

  it('attached to an http server: counts from the upgrade request, cutting a hook that never answers', async () => {
    const httpServer = http.createServer()
    cleanups.push(() => httpServer.close())
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()))
    const port = (httpServer.address() as net.AddressInfo).port
    const server = track(new WebSocketMultiplayerPeer({ logger: null, handshakeTimeout: TIMEOUT, onHandshake: () => new Promise<boolean>(() => {}) }))
    expect(server.attach(httpServer, '/ws')).toBe(ErrorCode.OK)
    const raw = await rawTcp(port)
    raw.socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    await waitFor(() => raw.closedAt() !== 0, [server], 'the stalled upgrade to be cut')
    expect(raw.closedAt() - raw.opened).toBeLessThan(CUT_WITHIN_MS)
  })

  describe('over TLS', () => {
    async function startTls(): Promise<{ server: WebSocketMultiplayerPeer; port: number; url: string }> {
      const certs = testCertificates()
      const server = track(new WebSocketMultiplayerPeer({ logger: null, handshakeTimeout: TIMEOUT }))
      expect(await server.createServer(0, '127.0.0.1', TLSOptions.server(certs.server.key, certs.server.cert))).toBe(ErrorCode.OK)
      const port = server.getLocalPort()
      return { server, port, url: `wss://127.0.0.1:${port}` }
    }

    it('cuts a TCP connection that never starts TLS', async () => {
      const { server, port } = await startTls()
      const raw = await rawTcp(port)
      await waitFor(() => raw.closedAt() !== 0, [server], 'the silent connection to be cut')
      expect(raw.closedAt() - raw.opened).toBeLessThan(CUT_WITHIN_MS)
    })

    it('cuts a client that never finishes the TLS handshake (a truncated ClientHello)', async () => {
      const { server, port } = await startTls()
      const raw = await rawTcp(port)
      // A TLS record header announcing a 512-byte handshake message, and only 4 bytes of it.
      raw.socket.write(Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]))
      await waitFor(() => raw.closedAt() !== 0, [server], 'the stalled TLS handshake to be cut')
      expect(raw.closedAt() - raw.opened).toBeLessThan(CUT_WITHIN_MS)
    })

    it('cuts a client that finished TLS but never sends the upgrade request; a wss client still connects', async () => {
      const { server, port, url } = await startTls()
      const opened = Date.now()
      let closedAt = 0
      const socket = tls.connect({ host: '127.0.0.1', port, ca: testCertificates().ca })
      cleanups.push(() => socket.destroy())
      socket.on('error', () => {})
      socket.on('close', () => {
        closedAt = Date.now()
      })
      let secure = false
      socket.once('secureConnect', () => {
        secure = true
      })
      await waitFor(() => closedAt !== 0, [server], 'the idle TLS connection to be cut')
      expect(secure).toBe(true)
      expect(closedAt - opened).toBeLessThan(CUT_WITHIN_MS)

      const client = track(new WebSocketMultiplayerPeer({ logger: null }))
      expect(client.createClient(url, TLSOptions.client(testCertificates().ca))).toBe(ErrorCode.OK)
      await waitFor(() => client.getConnectionStatus() !== ConnectionStatus.CONNECTING, [client, server], 'a wss client')
      expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    })
  })
})

describe('handshakeTimeout on the client (until the id arrives)', () => {
  async function failingClient(url: string): Promise<{ reason: string; elapsed: number }> {
    const client = track(new WebSocketMultiplayerPeer({ logger: null, handshakeTimeout: TIMEOUT }))
    let reason = ''
    client.on('connection_failed', (why) => {
      reason = why
    })
    const start = Date.now()
    expect(client.createClient(url)).toBe(ErrorCode.OK)
    await waitFor(() => reason !== '', [client], 'connection_failed')
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    return { reason, elapsed: Date.now() - start }
  }

  it('fails a connection whose server upgrades but never sends the id', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    cleanups.push(() => wss.close())
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    const sockets: import('ws').WebSocket[] = []
    wss.on('connection', (ws) => sockets.push(ws))
    cleanups.push(() => sockets.forEach((ws) => ws.terminate()))
    const { reason, elapsed } = await failingClient(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`)
    expect(reason).toMatch(/handshake timed out: no id from the server within 0\.5 s/)
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT * 1000 - 50)
    expect(elapsed).toBeLessThan(CUT_WITHIN_MS)
    expect(sockets.length).toBe(1)
  })

  it('fails a connection whose server never answers the upgrade request', async () => {
    const tcp = net.createServer((socket) => {
      socket.on('error', () => {})
      cleanups.push(() => socket.destroy())
    })
    cleanups.push(() => tcp.close())
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()))
    const { reason, elapsed } = await failingClient(`ws://127.0.0.1:${(tcp.address() as net.AddressInfo).port}`)
    expect(reason).toMatch(/handshake timed out/)
    expect(elapsed).toBeLessThan(CUT_WITHIN_MS)
  })
})

describe('refuseNewConnections', () => {
  it('answers upgrades with HTTP 503: a client fails quickly with a reason naming 503; connected peers stay', async () => {
    const { server, url } = await startServer()
    const inside = await connectClient(url, {}, [server])
    server.refuseNewConnections = true
    const client = track(new WebSocketMultiplayerPeer({ logger: null, handshakeTimeout: 30 }))
    let reason = ''
    client.on('connection_failed', (why) => {
      reason = why
    })
    expect(client.createClient(url)).toBe(ErrorCode.OK)
    // Far below the client's 30 s handshake timeout: the server answers at once.
    await waitFor(() => reason !== '', [client, server], 'connection_failed', 10_000)
    expect(reason).toMatch(/503/)
    expect(reason).toMatch(/refusing new connections/)
    expect(reason).not.toMatch(/timed out/)
    expect(client.getLastError()).toBe(reason)
    expect(inside.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)

    server.refuseNewConnections = false
    await stillServes(server, url)
  })

  it('a raw HTTP upgrade gets a 503 status line, not a hang', async () => {
    const { server, port } = await startServer()
    server.refuseNewConnections = true
    const raw = await rawTcp(port)
    let answer = ''
    raw.socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString()
    })
    raw.socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    await waitFor(() => raw.closedAt() !== 0, [server], 'the refusal')
    expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/)
  })
})
