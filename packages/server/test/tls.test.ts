import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConnectionStatus, ErrorCode, TLSOptions, WebSocketMultiplayerPeer, WebSocketPeer } from '@wsmp/server'
import { testCertificates, type Identity, type TestCertificates } from './certs.js'
import { bytes, closeAll, drain, track, waitFor } from './helpers.js'

let certs: TestCertificates

beforeAll(() => {
  certs = testCertificates()
})
afterEach(closeAll)

const standalone = new Set<WebSocketPeer>()
afterEach(() => {
  for (const peer of standalone) peer.close(-1)
  standalone.clear()
})

/** A wss:// server on 127.0.0.1 with the given identity. */
async function startTlsServer(identity: Identity, options: { handshakeTimeout?: number } = {}): Promise<{ server: WebSocketMultiplayerPeer; url: string }> {
  const server = track(new WebSocketMultiplayerPeer({ logger: null, ...options }))
  const err = await server.createServer(0, '127.0.0.1', TLSOptions.server(identity.key, identity.cert))
  expect(err, server.getLastError()).toBe(ErrorCode.OK)
  return { server, url: `wss://127.0.0.1:${server.getLocalPort()}` }
}

/** Starts a client and polls it (and `others`) until it is no longer CONNECTING. */
async function tryConnect(url: string, tls: TLSOptions | null, others: WebSocketMultiplayerPeer[] = []): Promise<{ client: WebSocketMultiplayerPeer; failure: string | null }> {
  const client = track(new WebSocketMultiplayerPeer({ logger: null }))
  let failure: string | null = null
  client.on('connection_failed', (reason) => {
    failure = reason
  })
  expect(client.createClient(url, tls)).toBe(ErrorCode.OK)
  expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTING)
  await waitFor(() => client.getConnectionStatus() !== ConnectionStatus.CONNECTING, [client, ...others], 'the TLS client to connect or fail')
  return { client, failure }
}

describe('TLS: wss:// server and Node clients', () => {
  it('serves wss:// with TLSOptions.server; a client trusting the CA connects and exchanges packets both ways', async () => {
    const { server, url } = await startTlsServer(certs.server)
    const { client, failure } = await tryConnect(url, TLSOptions.client(certs.ca), [server])
    expect(failure).toBeNull()
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'the server to admit the client')
    expect(server.getPeer(id)?.getRequestedUrl()).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/$/)

    client.setTargetPeer(1)
    expect(client.putPacket(bytes('up'))).toBe(ErrorCode.OK)
    server.setTargetPeer(id)
    expect(server.putPacket(bytes('down'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1 && client.getAvailablePacketCount() === 1, [server, client], 'packets over TLS')
    expect(drain(server)).toEqual([[id, 'up']])
    expect(drain(client)).toEqual([[1, 'down']])
  })

  it('keeps an admitted wss:// connection past handshakeTimeout (the TLS socket and its TCP socket both count as admitted)', async () => {
    const { server, url } = await startTlsServer(certs.server, { handshakeTimeout: 0.3 })
    const { client } = await tryConnect(url, TLSOptions.client(certs.ca), [server])
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    let lost = false
    client.on('server_disconnected', () => {
      lost = true
    })
    // Wait well past the handshake timeout (the behaviour under test is "still connected then").
    const until = Date.now() + 1200
    await waitFor(() => lost || Date.now() > until, [client, server], 'the handshake timeout to pass')
    expect(lost).toBe(false)
    client.setTargetPeer(1)
    expect(client.putPacket(bytes('still here'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'a packet after the timeout')
    expect(drain(server)).toEqual([[client.getUniqueId(), 'still here']])
  })

  it('accepts the trusted chain as bytes too', async () => {
    const { server, url } = await startTlsServer(certs.server)
    const { client, failure } = await tryConnect(url, TLSOptions.client(new TextEncoder().encode(certs.ca)), [server])
    expect(failure).toBeNull()
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('default options (the system trust store) reject a certificate from an unknown CA, saying so', async () => {
    const { server, url } = await startTlsServer(certs.server)
    const { client, failure } = await tryConnect(url, null, [server])
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(failure).toMatch(/TLS certificate rejected/)
    expect(failure).toMatch(/UNABLE_TO_VERIFY|unable to verify/i)
    expect(client.getLastError()).toBe(failure)
  })

  it('TLSOptions.client() with no chain also uses the system trust store', async () => {
    const { server, url } = await startTlsServer(certs.server)
    const { failure } = await tryConnect(url, TLSOptions.client(), [server])
    expect(failure).toMatch(/TLS certificate rejected/)
  })

  it('rejects a self-signed certificate that is not in the trusted chain', async () => {
    const { server, url } = await startTlsServer(certs.selfSigned)
    const { client, failure } = await tryConnect(url, TLSOptions.client(certs.ca), [server])
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(failure).toMatch(/TLS certificate rejected/)
    expect(failure).toMatch(/SELF_SIGNED|self.signed/i)
  })

  it('rejects a trusted certificate issued for another name, and accepts it with commonNameOverride', async () => {
    const { server, url } = await startTlsServer(certs.wrongName)
    const wrong = await tryConnect(url, TLSOptions.client(certs.ca), [server])
    expect(wrong.client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(wrong.failure).toMatch(/TLS certificate rejected/)
    expect(wrong.failure).toMatch(/ALTNAME|other\.example/)

    const right = await tryConnect(url, TLSOptions.client(certs.ca, 'other.example'), [server])
    expect(right.failure).toBeNull()
    expect(right.client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('an override naming a third name still fails', async () => {
    const { server, url } = await startTlsServer(certs.server)
    const { failure } = await tryConnect(url, TLSOptions.client(certs.ca, 'elsewhere.example'), [server])
    expect(failure).toMatch(/TLS certificate rejected/)
  })

  it('clientUnsafe() connects to a self-signed server without verifying it', async () => {
    const { server, url } = await startTlsServer(certs.selfSigned)
    const { client, failure } = await tryConnect(url, TLSOptions.clientUnsafe(), [server])
    expect(failure).toBeNull()
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('clientUnsafe() also ignores a name mismatch', async () => {
    const { server, url } = await startTlsServer(certs.wrongName)
    const { client } = await tryConnect(url, TLSOptions.clientUnsafe(certs.ca), [server])
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('a plain ws:// client to a wss:// server fails with a reason, and the server keeps serving', async () => {
    const { server, url } = await startTlsServer(certs.server)
    const { client, failure } = await tryConnect(url.replace('wss:', 'ws:'), null, [server])
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(failure).toBeTruthy()
    const ok = await tryConnect(url, TLSOptions.client(certs.ca), [server])
    expect(ok.client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('createServer rejects client TLS options and unreadable keys with ERR_INVALID_PARAMETER', async () => {
    const server = track(new WebSocketMultiplayerPeer({ logger: null }))
    expect(await server.createServer(0, '127.0.0.1', TLSOptions.client(certs.ca))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(server.getLastError()).toMatch(/client TLS options/)
    expect(await server.createServer(0, '127.0.0.1', TLSOptions.server('not a key', 'not a cert'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(server.getLastError()).toMatch(/TLS key or certificate/)
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
  })

  it('createClient rejects server TLS options with ERR_INVALID_PARAMETER', () => {
    const client = track(new WebSocketMultiplayerPeer({ logger: null }))
    expect(client.createClient('wss://127.0.0.1:1', TLSOptions.server(certs.server.key, certs.server.cert))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
  })
})

describe('TLS: the standalone WebSocketPeer', () => {
  async function open(url: string, tls: TLSOptions | null): Promise<WebSocketPeer> {
    const peer = new WebSocketPeer({ logger: null })
    standalone.add(peer)
    expect(peer.connectToUrl(url, tls)).toBe(ErrorCode.OK)
    await waitFor(() => peer.getReadyState() !== WebSocketPeer.State.CONNECTING, [peer], 'the standalone peer to open or fail')
    return peer
  }

  it('opens wss:// with a trusted chain and receives the id message', async () => {
    const { server, url } = await startTlsServer(certs.server)
    const peer = await open(url, TLSOptions.client(certs.ca))
    expect(peer.getReadyState()).toBe(WebSocketPeer.State.OPEN)
    await waitFor(() => peer.getAvailablePacketCount() === 1, [peer, server], 'the id message')
    expect(peer.getPacket().length).toBe(4)
  })

  it('fails against an untrusted certificate with a reason that says so', async () => {
    const { server, url } = await startTlsServer(certs.selfSigned)
    const peer = await open(url, null)
    server.poll()
    expect(peer.getReadyState()).toBe(WebSocketPeer.State.CLOSED)
    expect(peer.getCloseCode()).toBe(-1)
    expect(peer.getLastError()).toMatch(/TLS certificate rejected/)
  })

  it('fails against a mismatched name and succeeds with the override', async () => {
    const { url } = await startTlsServer(certs.wrongName)
    const bad = await open(url, TLSOptions.client(certs.ca))
    expect(bad.getReadyState()).toBe(WebSocketPeer.State.CLOSED)
    expect(bad.getLastError()).toMatch(/TLS certificate rejected.*ALTNAME|ALTNAME/)
    const good = await open(url, TLSOptions.client(certs.ca, 'other.example'))
    expect(good.getReadyState()).toBe(WebSocketPeer.State.OPEN)
  })

  it('clientUnsafe() opens a self-signed server', async () => {
    const { url } = await startTlsServer(certs.selfSigned)
    const peer = await open(url, TLSOptions.clientUnsafe())
    expect(peer.getReadyState()).toBe(WebSocketPeer.State.OPEN)
  })
})
