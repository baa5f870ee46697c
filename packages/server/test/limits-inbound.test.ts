import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import { CloseCode, ConnectionStatus, DEFAULT_INBOUND_BUFFER_SIZE, ErrorCode, WebSocketMultiplayerPeer, WebSocketPeer } from '@wsmp/server'
import { bytes, closeAll, connectClient, drain, startServer, waitFor } from './helpers.js'

afterEach(closeAll)

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

function payload(size: number, fill = 0x61): Uint8Array {
  return new Uint8Array(size).fill(fill)
}

/** Sends `text` from `a` to the server and waits for it, proving `a` is still served. */
async function roundTrip(server: WebSocketMultiplayerPeer, a: WebSocketMultiplayerPeer, text: string): Promise<void> {
  a.setTargetPeer(1)
  expect(a.putPacket(bytes(text))).toBe(ErrorCode.OK)
  server.setTargetPeer(a.getUniqueId())
  expect(server.putPacket(bytes(`${text} back`))).toBe(ErrorCode.OK)
  await waitFor(() => server.getAvailablePacketCount() > 0 && a.getAvailablePacketCount() > 0, [server, a], `round trip '${text}'`)
  expect(drain(server)).toEqual([[a.getUniqueId(), text]])
  expect(drain(a)).toEqual([[1, `${text} back`]])
}

describe('inboundBufferSize', () => {
  it('defaults to 65535 on both classes', () => {
    expect(DEFAULT_INBOUND_BUFFER_SIZE).toBe(65535)
    expect(new WebSocketMultiplayerPeer().inboundBufferSize).toBe(65535)
    expect(new WebSocketPeer().inboundBufferSize).toBe(65535)
  })

  it('server: accepts a message of exactly inboundBufferSize bytes (framing included), closes a larger one with 1009, others untouched', async () => {
    const limit = 1000
    const { server, url } = await startServer({ inboundBufferSize: limit })
    const joined: number[] = []
    const left: number[] = []
    server.on('peer_connected', (id) => joined.push(id))
    server.on('peer_disconnected', (id) => left.push(id))
    const bystander = await connectClient(url, {}, [server])
    const sender = await connectClient(url, {}, [server])
    await waitFor(() => joined.length === 2, [server], 'both admitted')
    const senderId = sender.getUniqueId()
    const onServer = server.getPeer(senderId) as WebSocketPeer

    // [0x03] + 999 bytes = 1000: the largest message accepted.
    sender.setTargetPeer(1)
    expect(sender.putPacket(payload(limit - 1))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet at the limit')
    expect(server.getPacketPeer()).toBe(senderId)
    expect(server.getPacket().length).toBe(limit - 1)

    // One byte more: the connection closes with 1009.
    let reason = ''
    sender.on('server_disconnected', (why) => {
      reason = why
    })
    expect(sender.putPacket(payload(limit))).toBe(ErrorCode.OK)
    await waitFor(() => left.includes(senderId) && reason !== '', [server, sender, bystander], 'the oversize sender to be cut')
    expect(reason).toBe("closed by the server (1009 message too big: over the server's inboundBufferSize)")
    expect(sender.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(onServer.getLastError()).toMatch(/inboundBufferSize \(1000 bytes\)/)
    expect(server.getAvailablePacketCount()).toBe(0)
    expect(server.getStats().dropped.oversize).toBe(1)

    // The bystander never noticed.
    expect(bystander.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    await roundTrip(server, bystander, 'still fine')
  })

  it('server: a relay too big for the server closes only its sender', async () => {
    const { server, url } = await startServer({ inboundBufferSize: 200 })
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    const bId = b.getUniqueId()
    const aLeft: number[] = []
    a.on('peer_disconnected', (id) => aLeft.push(id))
    await waitFor(() => server.getPeer(a.getUniqueId()) !== null && server.getPeer(bId) !== null, [server], 'both admitted')
    b.setTargetPeer(a.getUniqueId())
    expect(b.putPacket(payload(300))).toBe(ErrorCode.OK)
    await waitFor(() => aLeft.includes(bId), [server, a, b], 'a to hear b left')
    expect(aLeft).toEqual([bId])
    expect(a.getAvailablePacketCount()).toBe(0)
    await roundTrip(server, a, 'a is fine')
  })

  it('Node client: a message over its inboundBufferSize closes with 1009 and server_disconnected names the limit', async () => {
    const { server, url } = await startServer()
    const small = await connectClient(url, { inboundBufferSize: 500 }, [server])
    const other = await connectClient(url, {}, [server])
    const id = small.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null && server.getPeer(other.getUniqueId()) !== null, [server], 'both admitted')
    const onServer = server.getPeer(id) as WebSocketPeer
    const left: number[] = []
    server.on('peer_disconnected', (peer) => left.push(peer))
    let reason = ''
    small.on('server_disconnected', (why) => {
      reason = why
    })

    server.setTargetPeer(id)
    expect(server.putPacket(payload(499))).toBe(ErrorCode.OK) // 500 bytes with framing: fits
    await waitFor(() => small.getAvailablePacketCount() === 1, [small], 'the packet at the limit')
    expect(small.getPacket().length).toBe(499)

    expect(server.putPacket(payload(500))).toBe(ErrorCode.OK) // 501 bytes: too big
    await waitFor(() => reason !== '' && left.includes(id), [small, server], 'the client to close')
    expect(reason).toMatch(/inboundBufferSize \(500 bytes\)/)
    expect(reason).toMatch(/1009/)
    expect(onServer.getCloseCode()).toBe(CloseCode.MESSAGE_TOO_BIG)
    expect(small.getStats().dropped.oversize).toBe(1)
    expect(small.getAvailablePacketCount()).toBe(0)
    await roundTrip(server, other, 'others unaffected')
  })

  it('a server broadcast too big for one client closes only that client', async () => {
    const { server, url } = await startServer()
    const small = await connectClient(url, { inboundBufferSize: 100 }, [server])
    const big = await connectClient(url, {}, [server])
    const smallId = small.getUniqueId()
    await waitFor(() => server.getPeer(smallId) !== null && server.getPeer(big.getUniqueId()) !== null, [server], 'both admitted')
    const left: number[] = []
    server.on('peer_disconnected', (peer) => left.push(peer))
    server.setTargetPeer(0)
    expect(server.putPacket(payload(150))).toBe(ErrorCode.OK)
    await waitFor(() => left.includes(smallId) && big.getAvailablePacketCount() === 1, [server, small, big], 'small cut, big served')
    expect(big.getPacket().length).toBe(150)
    expect(left).toEqual([smallId])
    expect(small.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    await roundTrip(server, big, 'big still here')
  })

  it('standalone WebSocketPeer: a message over the limit closes the connection with 1009', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    cleanups.push(() => wss.close())
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    const closes: number[] = []
    wss.on('connection', (ws: WsSocket) => {
      ws.on('close', (code) => closes.push(code))
      ws.send(payload(64))
      ws.send(payload(65))
    })
    const port = (wss.address() as { port: number }).port
    const peer = new WebSocketPeer({ logger: null, inboundBufferSize: 64 })
    cleanups.push(() => peer.close(-1))
    expect(peer.connectToUrl(`ws://127.0.0.1:${port}`)).toBe(ErrorCode.OK)
    await waitFor(() => peer.getReadyState() === WebSocketPeer.State.CLOSED && closes.length === 1, [peer], 'the peer to close')
    expect(closes).toEqual([CloseCode.MESSAGE_TOO_BIG])
    expect(peer.getLastError()).toMatch(/inboundBufferSize \(64 bytes\)/)
    expect(peer.getStats().dropped.oversize).toBe(1)
    expect(peer.getStats().packetsIn).toBe(1)
  })
})
