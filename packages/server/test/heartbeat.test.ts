import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { CloseCode, ConnectionStatus, ErrorCode, WebSocketMultiplayerPeer, WebSocketPeer } from '@wsmp/server'
import { closeAll, connectClient, startServer, track, waitFor } from './helpers.js'

afterEach(closeAll)
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

const INTERVAL = 0.5
/** "Within two intervals", with slack for a loaded machine. */
const DETECT_WITHIN_MS = 2 * INTERVAL * 1000 + 1500

/** A raw `ws` client; `autoPong: false` makes it a peer that is connected but never answers pings. */
function rawClient(url: string, autoPong: boolean): { ws: WebSocket; pings: () => number; close: () => { code: number; reason: string } | null; id: () => number } {
  const ws = new WebSocket(url, { autoPong })
  cleanups.push(() => ws.terminate())
  let pings = 0
  let id = 0
  let close: { code: number; reason: string } | null = null
  ws.on('ping', () => pings++)
  ws.on('message', (data: Buffer) => {
    if (id === 0) id = data.readInt32LE(0)
  })
  ws.on('close', (code, reason) => {
    close = { code, reason: reason.toString() }
  })
  ws.on('error', () => {})
  return { ws, pings: () => pings, close: () => close, id: () => id }
}

/** A bare `ws` server that admits a Node client (sends it an id) and, with `autoPong: false`, never answers its pings. */
async function fakeServer(autoPong: boolean): Promise<{ url: string; pings: () => number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong })
  const sockets: WebSocket[] = []
  let pings = 0
  wss.on('connection', (ws) => {
    sockets.push(ws)
    ws.on('ping', () => pings++)
    ws.on('error', () => {})
    const id = Buffer.alloc(4)
    id.writeInt32LE(12345)
    ws.send(id)
  })
  cleanups.push(() => {
    for (const ws of sockets) ws.terminate()
    wss.close()
  })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, pings: () => pings }
}

describe('heartbeatInterval', () => {
  it('defaults to 0 (off); negative values are rejected and the old value kept', () => {
    const peer = new WebSocketPeer({ logger: null })
    expect(peer.heartbeatInterval).toBe(0)
    peer.heartbeatInterval = 2
    peer.heartbeatInterval = -1
    expect(peer.heartbeatInterval).toBe(2)
    expect(peer.getLastError()).toMatch(/heartbeatInterval must be at least 0/)
    const multi = new WebSocketMultiplayerPeer({ logger: null })
    expect(multi.heartbeatInterval).toBe(0)
    multi.heartbeatInterval = -3
    expect(multi.heartbeatInterval).toBe(0)
    expect(() => new WebSocketMultiplayerPeer({ heartbeatInterval: Number.NaN })).toThrow(TypeError)
  })

  it('server: every new peer gets the server heartbeatInterval and is pinged each interval', async () => {
    const { server, url } = await startServer({ heartbeatInterval: INTERVAL })
    const healthy = rawClient(url, true)
    await waitFor(() => healthy.id() !== 0, [server], 'admission')
    expect(server.getPeer(healthy.id())?.heartbeatInterval).toBe(INTERVAL)
    const start = Date.now()
    await waitFor(() => healthy.pings() >= 3, [server], 'three pings', 10_000)
    // Three pings need at least (nearly) three intervals.
    expect(Date.now() - start).toBeGreaterThanOrEqual(2 * INTERVAL * 1000)
    expect(healthy.close()).toBeNull()
    expect(server.getPeer(healthy.id())).not.toBeNull()
  })

  it('server: a peer that stops answering pings is closed within two intervals, reported as peer_disconnected; answering peers stay', async () => {
    const { server, url } = await startServer({ heartbeatInterval: INTERVAL })
    const left: number[] = []
    server.on('peer_disconnected', (id) => left.push(id))
    const wsmpClient = await connectClient(url, {}, [server])
    const healthy = rawClient(url, true)
    const dead = rawClient(url, false)
    await waitFor(() => dead.id() !== 0 && healthy.id() !== 0, [server], 'admission')
    const admitted = Date.now()
    const deadOnServer = server.getPeer(dead.id()) as WebSocketPeer

    await waitFor(() => left.includes(dead.id()), [server, wsmpClient], 'the dead peer to be reported')
    expect(Date.now() - admitted).toBeLessThan(DETECT_WITHIN_MS)
    expect(deadOnServer.getLastError()).toMatch(/heartbeat timeout: no pong within 0\.5 s/)
    expect(deadOnServer.getReadyState()).toBe(WebSocketPeer.State.CLOSED)
    expect(deadOnServer.getCloseCode()).toBe(-1)
    // The peer, still reading, was told why.
    await waitFor(() => dead.close() !== null, [server], 'the dead peer to see the close')
    expect(dead.close()).toEqual({ code: CloseCode.HEARTBEAT_TIMEOUT, reason: 'heartbeat timeout' })

    // Answering peers (a wsmp client and a raw ws client) were pinged and kept.
    expect(healthy.pings()).toBeGreaterThanOrEqual(1)
    expect(left).toEqual([dead.id()])
    expect(healthy.close()).toBeNull()
    expect(wsmpClient.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    // ... and keep being kept for a few more intervals.
    const pingsNow = healthy.pings()
    await waitFor(() => healthy.pings() >= pingsNow + 2, [server, wsmpClient], 'two more pings')
    expect(left).toEqual([dead.id()])
    expect(wsmpClient.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('Node client: a server that stops answering pings gives server_disconnected naming the heartbeat, within two intervals', async () => {
    const fake = await fakeServer(false)
    const client = track(new WebSocketMultiplayerPeer({ logger: null, heartbeatInterval: INTERVAL }))
    const events: string[] = []
    let reason = ''
    client.on('peer_disconnected', (id) => events.push(`peer_disconnected ${id}`))
    client.on('server_disconnected', (why) => {
      events.push('server_disconnected')
      reason = why
    })
    expect(client.createClient(fake.url)).toBe(ErrorCode.OK)
    await waitFor(() => client.getConnectionStatus() === ConnectionStatus.CONNECTED, [client], 'the client to connect')
    const connected = Date.now()
    await waitFor(() => reason !== '', [client], 'server_disconnected')
    expect(Date.now() - connected).toBeLessThan(DETECT_WITHIN_MS)
    expect(reason).toMatch(/heartbeat timeout/)
    expect(events).toEqual(['peer_disconnected 1', 'server_disconnected'])
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(fake.pings()).toBeGreaterThanOrEqual(1)
  })

  it('Node client: stays connected to a server that answers, pinging it each interval', async () => {
    const fake = await fakeServer(true)
    const client = track(new WebSocketMultiplayerPeer({ logger: null, heartbeatInterval: INTERVAL }))
    let lost = false
    client.on('server_disconnected', () => {
      lost = true
    })
    expect(client.createClient(fake.url)).toBe(ErrorCode.OK)
    await waitFor(() => fake.pings() >= 3 || lost, [client], 'three pings')
    expect(lost).toBe(false)
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('standalone WebSocketPeer: closes a silent server with a heartbeat reason; 0 turns pings off', async () => {
    const fake = await fakeServer(false)
    const peer = new WebSocketPeer({ logger: null, heartbeatInterval: INTERVAL })
    cleanups.push(() => peer.close(-1))
    expect(peer.connectToUrl(fake.url)).toBe(ErrorCode.OK)
    await waitFor(() => peer.getReadyState() === WebSocketPeer.State.OPEN, [peer], 'open')
    const opened = Date.now()
    await waitFor(() => peer.getReadyState() === WebSocketPeer.State.CLOSED, [peer], 'the heartbeat close')
    expect(Date.now() - opened).toBeLessThan(DETECT_WITHIN_MS)
    expect(peer.getLastError()).toMatch(/heartbeat timeout/)
    expect(peer.getCloseCode()).toBe(-1)

    // Turned off while open: no ping is sent at all over several would-be intervals.
    const quiet = await fakeServer(false)
    const off = new WebSocketPeer({ logger: null, heartbeatInterval: INTERVAL })
    cleanups.push(() => off.close(-1))
    expect(off.connectToUrl(quiet.url)).toBe(ErrorCode.OK)
    await waitFor(() => off.getReadyState() === WebSocketPeer.State.OPEN, [off], 'open')
    off.heartbeatInterval = 0
    const until = Date.now() + 3 * INTERVAL * 1000
    await waitFor(() => Date.now() > until, [off], 'three intervals')
    expect(quiet.pings()).toBe(0)
    expect(off.getReadyState()).toBe(WebSocketPeer.State.OPEN)
  })
})
