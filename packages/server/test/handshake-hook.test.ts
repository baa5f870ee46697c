import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ConnectionStatus,
  ErrorCode,
  WebSocketMultiplayerPeer,
  WebSocketPeer,
  type HandshakeRequest,
  type ServerPeerOptions,
  type WebSocketMultiplayerPeerOptions,
} from '@wsmp/server'
import { bytes, closeAll, drain, startServer, track, waitFor } from './helpers.js'

afterEach(closeAll)
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** Starts a client and polls it (and the server) until it connects or fails. */
async function attempt(
  url: string,
  server: WebSocketMultiplayerPeer,
  options: WebSocketMultiplayerPeerOptions = {},
): Promise<{ client: WebSocketMultiplayerPeer; failure: string | null }> {
  const client = track(new WebSocketMultiplayerPeer({ logger: null, ...options }))
  let failure: string | null = null
  client.on('connection_failed', (reason) => {
    failure = reason
  })
  expect(client.createClient(url)).toBe(ErrorCode.OK)
  await waitFor(() => client.getConnectionStatus() !== ConnectionStatus.CONNECTING, [client, server], 'the client to connect or fail')
  return { client, failure }
}

async function hooked(onHandshake: ServerPeerOptions['onHandshake'], options: ServerPeerOptions = {}): Promise<{ server: WebSocketMultiplayerPeer; url: string; port: number }> {
  return startServer({ onHandshake, ...options })
}

describe('onHandshake', () => {
  it('sees the request URL and query, headers, offered subprotocols and remote address', async () => {
    const seen: HandshakeRequest[] = []
    const { server, url } = await hooked(
      (request) => {
        seen.push(request)
        return true
      },
      { supportedProtocols: ['wsmp'] },
    )
    const { client, failure } = await attempt(`${url}/play/room?token=abc&x=1`, server, {
      handshakeHeaders: ['X-Player: alice'],
      supportedProtocols: ['v2.wsmp', 'wsmp'],
    })
    expect(failure).toBeNull()
    expect(seen.length).toBe(1)
    const request = seen[0] as HandshakeRequest
    expect(request.url).toBe('/play/room?token=abc&x=1')
    expect(request.path).toBe('/play/room')
    expect(request.query.get('token')).toBe('abc')
    expect(request.query.get('x')).toBe('1')
    expect(request.headers['x-player']).toBe('alice')
    expect(request.protocols).toEqual(['v2.wsmp', 'wsmp'])
    expect(request.remoteAddress).toBe('127.0.0.1')
    expect(request.remotePort).toBeGreaterThan(0)
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    expect(server.getPeerPort(id)).toBe(request.remotePort)
  })

  it('may be async: the client is admitted once it resolves', async () => {
    let calls = 0
    const { server, url } = await hooked(async (request) => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 20))
      return request.query.get('token') === 'good'
    })
    const good = await attempt(`${url}/?token=good`, server)
    expect(good.failure).toBeNull()
    expect(good.client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    good.client.setTargetPeer(1)
    expect(good.client.putPacket(bytes('hi'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'a packet from the admitted client')
    expect(drain(server)).toEqual([[good.client.getUniqueId(), 'hi']])

    const bad = await attempt(`${url}/?token=bad`, server)
    expect(bad.failure).toMatch(/HTTP 403/)
    expect(calls).toBe(2)
  })

  it('false rejects with 403; the client gets connection_failed naming the status and reason', async () => {
    const joined: number[] = []
    const { server, url } = await hooked(() => false)
    server.on('peer_connected', (id) => joined.push(id))
    const { client, failure } = await attempt(url, server)
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(failure).toMatch(/HTTP 403 Forbidden/)
    expect(failure).toMatch(/rejected by the server/)
    server.poll()
    expect(joined).toEqual([])
  })

  it('{ status, reason } rejects with that status and reason text', async () => {
    const { server, url } = await hooked(async (request) => (request.query.has('token') ? true : { status: 401, reason: 'a token is required' }))
    const { failure } = await attempt(url, server)
    expect(failure).toMatch(/HTTP 401 Unauthorized \(a token is required\)/)
    const { client } = await attempt(`${url}/?token=1`, server)
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('a status outside 400 … 599 is treated as 403', async () => {
    const { server, url } = await hooked(() => ({ status: 200, reason: 'no' }))
    const { failure } = await attempt(url, server)
    expect(failure).toMatch(/HTTP 403/)
  })

  it('a hook that throws or rejects gives 500, and the server keeps serving', async () => {
    let mode: 'throw' | 'reject' | 'ok' = 'throw'
    const { server, url } = await hooked((): boolean | Promise<boolean> => {
      if (mode === 'throw') throw new Error('boom')
      if (mode === 'reject') return Promise.reject(new Error('async boom'))
      return true
    })
    expect((await attempt(url, server)).failure).toMatch(/HTTP 500.*handshake hook failed/)
    mode = 'reject'
    expect((await attempt(url, server)).failure).toMatch(/HTTP 500/)
    mode = 'ok'
    expect((await attempt(url, server)).client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('its time counts against handshakeTimeout: a hook that never answers leaves the client cut, not admitted', async () => {
    const joined: number[] = []
    const { server, url } = await hooked(() => new Promise<boolean>(() => {}), { handshakeTimeout: 0.5 })
    server.on('peer_connected', (id) => joined.push(id))
    const { client, failure } = await attempt(url, server, { handshakeTimeout: 30 })
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(failure).toMatch(/could not connect/)
    expect(failure).not.toMatch(/timed out: no id/)
    server.poll()
    expect(joined).toEqual([])
  })

  it('a verdict that comes after the timeout admits nobody', async () => {
    let release: (value: boolean) => void = () => {}
    const { server, url } = await hooked(() => new Promise<boolean>((resolve) => (release = resolve)), { handshakeTimeout: 0.3 })
    const joined: number[] = []
    server.on('peer_connected', (id) => joined.push(id))
    const { failure } = await attempt(url, server, { handshakeTimeout: 30 })
    expect(failure).toBeTruthy()
    release(true)
    await new Promise((resolve) => setImmediate(resolve))
    server.poll()
    expect(joined).toEqual([])
  })

  it('refuseNewConnections answers 503 without asking the hook', async () => {
    let calls = 0
    const { server, url } = await hooked(() => {
      calls++
      return true
    })
    server.refuseNewConnections = true
    const { failure } = await attempt(url, server)
    expect(failure).toMatch(/HTTP 503/)
    expect(calls).toBe(0)
  })

  it('works when attached to an existing http server, for its path only', async () => {
    const httpServer = http.createServer()
    cleanups.push(() => httpServer.close())
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()))
    const port = (httpServer.address() as AddressInfo).port
    const server = track(new WebSocketMultiplayerPeer({ logger: null, onHandshake: (request) => request.query.get('token') === 'ok' || { status: 401, reason: 'bad token' } }))
    expect(server.attach(httpServer, '/game')).toBe(ErrorCode.OK)
    expect((await attempt(`ws://127.0.0.1:${port}/game?token=no`, server)).failure).toMatch(/HTTP 401.*bad token/)
    expect((await attempt(`ws://127.0.0.1:${port}/game?token=ok`, server)).client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })
})

describe('a refused upgrade seen by the standalone WebSocketPeer', () => {
  it('closes with getLastError() naming the HTTP status and the reason', async () => {
    const { server, url } = await hooked(() => ({ status: 429, reason: 'slow down' }))
    const peer = new WebSocketPeer({ logger: null })
    cleanups.push(() => peer.close(-1))
    expect(peer.connectToUrl(url)).toBe(ErrorCode.OK)
    await waitFor(() => peer.getReadyState() === WebSocketPeer.State.CLOSED, [peer, server], 'the refusal')
    expect(peer.getLastError()).toBe('the server refused the WebSocket upgrade: HTTP 429 Too Many Requests (slow down)')
    expect(peer.getCloseCode()).toBe(-1)
  })
})

describe('token in a subprotocol (how browsers, which cannot set headers, pass a token)', () => {
  /** The hook a README shows: check `token.<value>` among the offered protocols, select 'wsmp'. */
  function tokenHook(valid: string): NonNullable<ServerPeerOptions['onHandshake']> {
    return (request) => {
      const token = request.protocols.find((p) => p.startsWith('token.'))?.slice('token.'.length)
      if (token !== valid) return { status: 401, reason: 'invalid token' }
      return { protocol: 'wsmp' }
    }
  }

  it("the hook checks the token and selects 'wsmp'; the client's WebSocket accepts the answer", async () => {
    const { server, url } = await hooked(tokenHook('abc'))
    const { client, failure } = await attempt(url, server, { supportedProtocols: ['wsmp', 'token.abc'] })
    expect(failure).toBeNull()
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    expect(client.getPeer(1)?.getSelectedProtocol()).toBe('wsmp')
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    expect(server.getPeer(id)?.getSelectedProtocol()).toBe('wsmp')
  })

  it('a wrong token is rejected with the hook status', async () => {
    const { server, url } = await hooked(tokenHook('abc'))
    const { failure } = await attempt(url, server, { supportedProtocols: ['wsmp', 'token.xyz'] })
    expect(failure).toMatch(/HTTP 401.*invalid token/)
  })

  it('with supportedProtocols on the server, a hook that just returns true gets the negotiated protocol', async () => {
    const { server, url } = await hooked((request) => request.protocols.includes('token.abc'), { supportedProtocols: ['wsmp'] })
    const { client } = await attempt(url, server, { supportedProtocols: ['wsmp', 'token.abc'] })
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    expect(client.getPeer(1)?.getSelectedProtocol()).toBe('wsmp')
  })

  it('selecting a protocol the client did not offer is a server error (500), not a broken connection', async () => {
    const { server, url } = await hooked(() => ({ protocol: 'other' }))
    const { failure } = await attempt(url, server, { supportedProtocols: ['wsmp', 'token.abc'] })
    expect(failure).toMatch(/HTTP 500/)
  })

  it('without a hook, an offered protocol the server does not support is rejected with 400', async () => {
    const { server, url } = await startServer()
    const { failure } = await attempt(url, server, { supportedProtocols: ['token.abc'] })
    expect(failure).toMatch(/HTTP 400.*supports no subprotocol/)
  })

  it('with a hook that admits without selecting, an unsupported offer is still rejected with 400', async () => {
    const { server, url } = await hooked(() => true, { supportedProtocols: ['wsmp'] })
    const { failure } = await attempt(url, server, { supportedProtocols: ['token.abc'] })
    expect(failure).toMatch(/HTTP 400.*none of the offered subprotocols/)
  })
})
