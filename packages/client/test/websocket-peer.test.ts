import * as net from 'node:net'
import type { IncomingMessage } from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { ErrorCode, TLSOptions, WebSocketPeer, WebSocketState, WriteMode } from '@wsmp/client'

// WebSocketPeer on its own, against a plain `ws` server on 127.0.0.1, port 0.

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  vi.restoreAllMocks()
})

async function waitFor(condition: () => boolean, peers: { poll(): void }[], what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    for (const peer of peers) peer.poll()
    if (condition()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

interface Received {
  data: Buffer
  isBinary: boolean
}

/** A plain ws server; records every connection, request and message. */
async function plainServer(options: ConstructorParameters<typeof WebSocketServer>[0] = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const sockets: WebSocket[] = []
  const requests: IncomingMessage[] = []
  const received: Received[] = []
  const closes: { code: number; reason: string }[] = []
  wss.on('connection', (ws, req) => {
    sockets.push(ws)
    requests.push(req)
    ws.on('message', (data, isBinary) => received.push({ data: data as Buffer, isBinary }))
    ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }))
  })
  cleanups.push(() => {
    for (const ws of sockets) ws.terminate()
    wss.close()
  })
  const port = (wss.address() as net.AddressInfo).port
  return { wss, port, url: `ws://127.0.0.1:${port}/`, sockets, requests, received, closes }
}

function track(peer: WebSocketPeer): WebSocketPeer {
  cleanups.push(() => peer.close(-1))
  return peer
}

async function openPeer(url: string, options: ConstructorParameters<typeof WebSocketPeer>[0] = {}): Promise<WebSocketPeer> {
  const peer = track(new WebSocketPeer({ logger: null, ...options }))
  expect(peer.connectToUrl(url)).toBe(ErrorCode.OK)
  await waitFor(() => peer.getReadyState() !== WebSocketState.CONNECTING, [peer], 'the peer to open')
  expect(peer.getReadyState()).toBe(WebSocketState.OPEN)
  return peer
}

const text = (data: Uint8Array): string => new TextDecoder().decode(data)

describe('WebSocketPeer enums', () => {
  it("State and WriteMode have Godot's values, also exported on their own", () => {
    expect({ ...WebSocketPeer.State }).toEqual({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })
    expect({ ...WebSocketPeer.WriteMode }).toEqual({ TEXT: 0, BINARY: 1 })
    expect(WebSocketState).toBe(WebSocketPeer.State)
    expect(WriteMode).toBe(WebSocketPeer.WriteMode)
  })
})

describe('WebSocketPeer defaults and options', () => {
  it("has Godot's defaults", () => {
    const peer = new WebSocketPeer()
    expect(peer.handshakeHeaders).toEqual([])
    expect(peer.heartbeatInterval).toBe(0)
    expect(peer.inboundBufferSize).toBe(65535)
    expect(peer.maxQueuedPackets).toBe(4096)
    expect(peer.outboundBufferSize).toBe(65535)
    expect(peer.supportedProtocols).toEqual([])
    expect(peer.encodeBufferMaxSize).toBe(8 * 1024 * 1024)
    expect(peer.getReadyState()).toBe(WebSocketState.CLOSED)
    expect(peer.getCloseCode()).toBe(-1)
    expect(peer.getRequestedUrl()).toBe('')
    expect(peer.getSelectedProtocol()).toBe('')
    expect(peer.getAvailablePacketCount()).toBe(0)
    expect(peer.getCurrentOutboundBufferedAmount()).toBe(0)
  })

  it('takes every property in the constructor and rejects unknown options with TypeError', () => {
    const peer = new WebSocketPeer({
      handshakeHeaders: ['X-A: 1'],
      heartbeatInterval: 2,
      inboundBufferSize: 1000,
      maxQueuedPackets: 10,
      outboundBufferSize: 2000,
      supportedProtocols: [' p1 ', 'p2'],
      encodeBufferMaxSize: 5000,
      logger: null,
    })
    expect(peer.handshakeHeaders).toEqual(['X-A: 1'])
    expect(peer.heartbeatInterval).toBe(2)
    expect(peer.inboundBufferSize).toBe(1000)
    expect(peer.maxQueuedPackets).toBe(10)
    expect(peer.outboundBufferSize).toBe(2000)
    expect(peer.supportedProtocols).toEqual(['p1', 'p2']) // trimmed, as Godot does
    expect(peer.encodeBufferMaxSize).toBe(8192)
    expect(peer.logger).toBeNull()
    expect(() => new WebSocketPeer({ nope: 1 } as never)).toThrow(TypeError)
  })

  it('the list getters return copies', () => {
    const peer = new WebSocketPeer({ supportedProtocols: ['a'], handshakeHeaders: ['X-A: 1'] })
    peer.supportedProtocols.push('b')
    peer.handshakeHeaders.push('X-B: 2')
    expect(peer.supportedProtocols).toEqual(['a'])
    expect(peer.handshakeHeaders).toEqual(['X-A: 1'])
  })

  it('rejects a negative heartbeatInterval and a header line without a name, keeping the old value', () => {
    const peer = new WebSocketPeer({ logger: null, heartbeatInterval: 1, handshakeHeaders: ['X-A: 1'] })
    peer.heartbeatInterval = -1
    expect(peer.heartbeatInterval).toBe(1)
    peer.handshakeHeaders = ['no colon here']
    expect(peer.handshakeHeaders).toEqual(['X-A: 1'])
    expect(peer.getLastError()).toMatch(/handshakeHeaders/)
  })
})

describe('WebSocketPeer.connectToUrl', () => {
  it('rejects empty URLs, other schemes and server TLS options with ERR_INVALID_PARAMETER', () => {
    const peer = new WebSocketPeer({ logger: null })
    expect(peer.connectToUrl('')).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(peer.connectToUrl('http://127.0.0.1:1/')).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(peer.getLastError()).toMatch(/scheme/)
    expect(peer.connectToUrl('ftp://127.0.0.1/')).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(peer.connectToUrl('ws://')).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(peer.connectToUrl('ws://127.0.0.1:1/', TLSOptions.server('k', 'c'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(peer.getReadyState()).toBe(WebSocketState.CLOSED)
  })

  it('connects, reports CONNECTING until poll() applies the open, and keeps the requested URL', async () => {
    const server = await plainServer()
    const peer = track(new WebSocketPeer({ logger: null }))
    const url = `${server.url}some/path?x=1`
    expect(peer.connectToUrl(url)).toBe(ErrorCode.OK)
    expect(peer.getReadyState()).toBe(WebSocketState.CONNECTING)
    expect(peer.getRequestedUrl()).toBe(url)
    // The server sees the connection on the event loop; the peer's state changes only in poll().
    await waitFor(() => server.sockets.length === 1, [], 'the server to accept')
    expect(server.requests[0]?.url).toBe('/some/path?x=1')
    await new Promise((resolve) => setImmediate(resolve))
    expect(peer.getReadyState()).toBe(WebSocketState.CONNECTING)
    await waitFor(() => peer.getReadyState() === WebSocketState.OPEN, [peer], 'open')
  })

  it('a URL without a scheme gets ws://', async () => {
    const server = await plainServer()
    const peer = track(new WebSocketPeer({ logger: null }))
    expect(peer.connectToUrl(`127.0.0.1:${server.port}/`)).toBe(ErrorCode.OK)
    await waitFor(() => peer.getReadyState() === WebSocketState.OPEN, [peer], 'open')
  })

  it('returns ERR_ALREADY_IN_USE while connecting or open', async () => {
    const server = await plainServer()
    const peer = track(new WebSocketPeer({ logger: null }))
    expect(peer.connectToUrl(server.url)).toBe(ErrorCode.OK)
    expect(peer.connectToUrl(server.url)).toBe(ErrorCode.ERR_ALREADY_IN_USE)
    await waitFor(() => peer.getReadyState() === WebSocketState.OPEN, [peer], 'open')
    expect(peer.connectToUrl(server.url)).toBe(ErrorCode.ERR_ALREADY_IN_USE)
  })

  it('a refused connection ends CLOSED with close code -1 and a reason', async () => {
    const port = await deadPort()
    const peer = track(new WebSocketPeer({ logger: null }))
    expect(peer.connectToUrl(`ws://127.0.0.1:${port}/`)).toBe(ErrorCode.OK)
    await waitFor(() => peer.getReadyState() === WebSocketState.CLOSED, [peer], 'the refused connection to close')
    expect(peer.getCloseCode()).toBe(-1)
    expect(peer.getLastError()).toMatch(/ECONNREFUSED/)
  })

  it('sends handshakeHeaders with the upgrade request (Node)', async () => {
    const server = await plainServer()
    await openPeer(server.url, { handshakeHeaders: ['X-Token: abc123', 'X-Other: two words'] })
    expect(server.requests[0]?.headers['x-token']).toBe('abc123')
    expect(server.requests[0]?.headers['x-other']).toBe('two words')
  })

  it('offers supportedProtocols in order and reports the one the server selected', async () => {
    const offered: string[][] = []
    const server = await plainServer({
      handleProtocols: (protocols) => {
        offered.push([...protocols])
        return protocols.has('beta') ? 'beta' : false
      },
    })
    const peer = await openPeer(server.url, { supportedProtocols: ['alpha', 'beta'] })
    expect(offered).toEqual([['alpha', 'beta']])
    expect(peer.getSelectedProtocol()).toBe('beta')
    const plain = await openPeer(server.url)
    expect(plain.getSelectedProtocol()).toBe('')
  })
})

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()))
  const port = (probe.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

describe('WebSocketPeer data', () => {
  it('queues messages at poll(), with wasStringPacket telling text from binary', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    const ws = server.sockets[0] as WebSocket
    ws.send(Buffer.from([1, 2, 3]), { binary: true })
    ws.send('héllo', { binary: false })
    await waitFor(() => peer.getAvailablePacketCount() === 2, [peer], 'two packets')
    expect([...peer.getPacket()]).toEqual([1, 2, 3])
    expect(peer.getPacketError()).toBe(ErrorCode.OK)
    expect(peer.wasStringPacket()).toBe(false)
    expect(text(peer.getPacket())).toBe('héllo')
    expect(peer.wasStringPacket()).toBe(true)
    expect(peer.getPacket()).toEqual(new Uint8Array(0))
    expect(peer.getPacketError()).toBe(ErrorCode.ERR_UNAVAILABLE)
  })

  it('messages become visible only in poll()', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    ;(server.sockets[0] as WebSocket).send(Buffer.from('x'))
    // The message has arrived (counted on the event loop) but is not readable before poll().
    await waitFor(() => peer.getStats().packetsIn === 1, [], 'the message to arrive')
    expect(peer.getAvailablePacketCount()).toBe(0)
    await waitFor(() => peer.getAvailablePacketCount() === 1, [peer], 'the packet after poll')
  })

  it('send() is binary by default and text with WriteMode.TEXT; sendText sends text; putPacket binary', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    expect(peer.send(Uint8Array.from([9, 8]))).toBe(ErrorCode.OK)
    expect(peer.send(new TextEncoder().encode('as text'), WriteMode.TEXT)).toBe(ErrorCode.OK)
    expect(peer.sendText('plain text ✓')).toBe(ErrorCode.OK)
    expect(peer.putPacket([7])).toBe(ErrorCode.OK)
    await waitFor(() => server.received.length === 4, [], 'four messages')
    expect(server.received.map((m) => m.isBinary)).toEqual([true, false, false, true])
    expect([...(server.received[0] as Received).data]).toEqual([9, 8])
    expect((server.received[1] as Received).data.toString()).toBe('as text')
    expect((server.received[2] as Received).data.toString()).toBe('plain text ✓')
    expect([...(server.received[3] as Received).data]).toEqual([7])
  })

  it('send() of invalid UTF-8 as text returns ERR_INVALID_PARAMETER', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    expect(peer.send(Uint8Array.from([0xff, 0xfe]), WriteMode.TEXT)).toBe(ErrorCode.ERR_INVALID_PARAMETER)
  })

  it('putPacket of zero bytes returns OK and sends nothing', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    expect(peer.putPacket(new Uint8Array(0))).toBe(ErrorCode.OK)
    expect(peer.putPacket([1])).toBe(ErrorCode.OK)
    await waitFor(() => server.received.length === 1, [], 'the marker')
    expect([...(server.received[0] as Received).data]).toEqual([1])
  })

  it('a send that would pass outboundBufferSize is ERR_OUT_OF_MEMORY and sends nothing', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url, { outboundBufferSize: 100 })
    expect(peer.putPacket(new Uint8Array(101))).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(peer.getLastError()).toMatch(/outboundBufferSize/)
    expect(peer.putPacket(new Uint8Array(100))).toBe(ErrorCode.OK)
    await waitFor(() => server.received.length === 1, [], 'the message that fits')
    expect(server.received[0]?.data.length).toBe(100)
  })

  it('send() returns FAILED unless OPEN', () => {
    const peer = new WebSocketPeer({ logger: null })
    expect(peer.send([1])).toBe(ErrorCode.FAILED)
    expect(peer.sendText('x')).toBe(ErrorCode.FAILED)
  })

  it('putVar/getVar round-trip through a plain echo server', async () => {
    const server = await plainServer()
    server.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
    const peer = await openPeer(server.url)
    const value = { n: 1, big: 2n ** 70n, list: [new Int32Array([1, -1]), new Map([['k', Uint8Array.from([5])]])] }
    expect(peer.putVar(value)).toBe(ErrorCode.OK)
    await waitFor(() => peer.getAvailablePacketCount() === 1, [peer], 'the echo')
    expect(peer.getVar()).toEqual(value)
  })

  it('getCurrentOutboundBufferedAmount counts bytes not yet written, back to 0 once sent', async () => {
    const server = await plainServer({ maxPayload: 64 * 1024 * 1024 })
    const peer = await openPeer(server.url, { outboundBufferSize: 0 })
    expect(peer.getCurrentOutboundBufferedAmount()).toBe(0)
    // Large enough that the kernel cannot take it all in one write.
    expect(peer.putPacket(new Uint8Array(32 * 1024 * 1024))).toBe(ErrorCode.OK)
    expect(peer.getCurrentOutboundBufferedAmount()).toBeGreaterThan(0)
    await waitFor(() => server.received.length === 1, [], 'the big message', 30_000)
    await waitFor(() => peer.getCurrentOutboundBufferedAmount() === 0, [peer], 'the buffer to drain')
  })
})

describe('WebSocketPeer connection details', () => {
  it('getConnectedHost/Port are the remote address and port', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    expect(peer.getConnectedHost()).toBe('127.0.0.1')
    expect(peer.getConnectedPort()).toBe(server.port)
  })

  it('setNoDelay toggles TCP_NODELAY on the socket', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    const spy = vi.spyOn(net.Socket.prototype, 'setNoDelay')
    peer.setNoDelay(false)
    peer.setNoDelay(true)
    expect(spy.mock.calls.map((call) => call[0])).toEqual([false, true])
    expect(peer.putPacket([1])).toBe(ErrorCode.OK)
    await waitFor(() => server.received.length === 1, [], 'a message after setNoDelay')
  })
})

describe('WebSocketPeer close', () => {
  it('close(code, reason) sends them, goes CLOSING, then CLOSED after poll with the code echoed', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    peer.close(4321, 'bye now')
    expect(peer.getReadyState()).toBe(WebSocketState.CLOSING)
    await waitFor(() => server.closes.length === 1, [], 'the server to see the close')
    expect(server.closes[0]).toEqual({ code: 4321, reason: 'bye now' })
    await waitFor(() => peer.getReadyState() === WebSocketState.CLOSED, [peer], 'CLOSED')
    expect(peer.getCloseCode()).toBe(4321)
    expect(peer.getCloseReason()).toBe('bye now')
  })

  it('cuts a close reason to the 123 bytes a close frame can carry, and replaces a code it may not send with 1000', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    peer.close(4000, 'é'.repeat(100)) // 200 bytes of UTF-8
    await waitFor(() => server.closes.length === 1, [peer], 'the close')
    const reason = server.closes[0]?.reason ?? ''
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123)
    expect(reason).toBe('é'.repeat(61))
    const second = await openPeer(server.url)
    second.close(1005, 'reserved code')
    await waitFor(() => server.closes.length === 2, [second], 'the second close')
    expect(server.closes[1]?.code).toBe(1000)
    expect(second.getLastError()).toMatch(/1005/)
  })

  it("reports the other side's close code and reason", async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    ;(server.sockets[0] as WebSocket).close(4100, 'server says bye')
    await waitFor(() => peer.getReadyState() === WebSocketState.CLOSED, [peer], 'CLOSED')
    expect(peer.getCloseCode()).toBe(4100)
    expect(peer.getCloseReason()).toBe('server says bye')
  })

  it('messages that arrived before the other side closed stay readable after CLOSED (Godot #107442 fixed)', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    const ws = server.sockets[0] as WebSocket
    ws.send('last words')
    ws.close(1000)
    await waitFor(() => peer.getReadyState() === WebSocketState.CLOSED, [peer], 'CLOSED')
    expect(peer.getAvailablePacketCount()).toBe(1)
    expect(text(peer.getPacket())).toBe('last words')
  })

  it('an unclean close reports -1', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    ;(server.sockets[0] as WebSocket).terminate()
    await waitFor(() => peer.getReadyState() === WebSocketState.CLOSED, [peer], 'CLOSED')
    expect(peer.getCloseCode()).toBe(-1)
  })

  it('a negative code drops the connection at once without a close frame', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    peer.close(-1)
    expect(peer.getReadyState()).toBe(WebSocketState.CLOSED)
    await waitFor(() => server.closes.length === 1, [], 'the server to see the drop')
    expect(server.closes[0]?.code).toBe(1006) // no close frame arrived
  })

  it('close while CONNECTING goes CLOSED at once', async () => {
    const server = await plainServer()
    const peer = track(new WebSocketPeer({ logger: null }))
    peer.connectToUrl(server.url)
    peer.close()
    expect(peer.getReadyState()).toBe(WebSocketState.CLOSED)
  })

  it('close discards unread packets, and the peer can connect again', async () => {
    const server = await plainServer()
    const peer = await openPeer(server.url)
    ;(server.sockets[0] as WebSocket).send('unread')
    await waitFor(() => peer.getAvailablePacketCount() === 1, [peer], 'a packet')
    peer.close()
    expect(peer.getAvailablePacketCount()).toBe(0)
    await waitFor(() => peer.getReadyState() === WebSocketState.CLOSED, [peer], 'CLOSED')
    expect(peer.connectToUrl(server.url)).toBe(ErrorCode.OK)
    await waitFor(() => peer.getReadyState() === WebSocketState.OPEN, [peer], 'open again')
  })
})
