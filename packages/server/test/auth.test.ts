import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionStatus, DropReason, ErrorCode, TARGET_PEER_SERVER, type WebSocketMultiplayerPeer } from '@wsmp/server'
import { bytes, closeEverything, connectClient, drain, hex, rawClient, record, startServer, toHex, track, waitFor } from './helpers.js'
import { WebSocketMultiplayerPeer as Peer } from '@wsmp/server'

/**
 * SceneMultiplayer authentication between wsmp peers, as Godot 4 does it: `[0x07][0x00][data]`
 * carries auth data, `[0x07][0x00]` says "this side completed"; a peer is admitted (announced,
 * `peer_connected`, `connected_to_server`) only once both sides completed; until then only AUTH
 * passes; past `authTimeout` it is dropped with `peer_authentication_failed`.
 */

afterEach(closeEverything)

const text = (data: Uint8Array) => new TextDecoder().decode(data)

/** A client that starts connecting with auth on, polled by the tests; it is CONNECTED once its id arrives. */
function authClient(url: string, onAuth: (id: number, data: Uint8Array) => void, options = {}): WebSocketMultiplayerPeer {
  const client = track(new Peer({ logger: null, authCallback: onAuth, ...options }))
  expect(client.createClient(url)).toBe(ErrorCode.OK)
  return client
}

describe('authentication, both sides wsmp', () => {
  it('exchanges data, then admits once both completed: signals in Godot’s order, announcements only after', async () => {
    const serverGot: [number, string][] = []
    const { server, url } = await startServer({
      authCallback: (id, data) => {
        serverGot.push([id, text(data)])
        if (text(data) === 'token-42') {
          expect(server.sendAuth(id, bytes('welcome'))).toBe(ErrorCode.OK)
          expect(server.completeAuth(id)).toBe(ErrorCode.OK)
        }
      },
    })
    const serverLog = record(server)
    const other = await connectClient(url, { authCallback: () => {} }, [server])
    // `other` is pending on both sides: nobody completes for it.
    const otherLog = record(other)
    const clientGot: string[] = []
    const client = authClient(url, (id, data) => {
      expect(id).toBe(TARGET_PEER_SERVER)
      clientGot.push(text(data))
      expect(client.completeAuth(1)).toBe(ErrorCode.OK)
    })
    const log = record(client)
    await waitFor(() => log.includes('peer_authenticating 1'), [server, client], 'the client to authenticate')
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    const id = client.getUniqueId()
    expect(id).toBeGreaterThan(1)
    expect(client.sendAuth(1, bytes('token-42'))).toBe(ErrorCode.OK)
    await waitFor(() => log.includes('peer_connected 1') && serverLog.includes(`peer_connected ${id}`), [server, client, other], 'admission on both sides')
    expect(serverGot).toEqual([[id, 'token-42']])
    expect(clientGot).toEqual(['welcome'])
    expect(log).toEqual(['peer_authenticating 1', 'connected_to_server', 'peer_connected 1'])
    expect(serverLog.filter((e) => e.endsWith(` ${id}`))).toEqual([`peer_authenticating ${id}`, `peer_connected ${id}`])
    // The pending `other` was never announced to the client, nor the client to it.
    await new Promise((resolve) => setImmediate(resolve))
    for (const peer of [client, other, server]) peer.poll()
    expect(log.some((e) => e.startsWith('peer_connected') && e !== 'peer_connected 1')).toBe(false)
    expect(otherLog.some((e) => e.startsWith('peer_connected'))).toBe(false)
    // Admitted: packets flow both ways.
    client.setTargetPeer(1)
    expect(client.putPacket(bytes('hi'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet')
    expect(drain(server)).toEqual([[id, 'hi']])
  })

  it('before admission only AUTH passes: other packets are dropped and counted, sends to the pending peer fail', async () => {
    const { server, url } = await startServer({ authCallback: () => {} })
    const raw = await rawClient(url)
    await waitFor(() => raw.messages.length >= 1, [server], 'the id')
    const id = Buffer.from(raw.messages[0]!.data).readInt32LE(0)
    raw.send(hex('03 61 62'))
    raw.send(hex(`07 03 00 00 00 00 03 61`))
    await waitFor(() => (server.getPeerStats(id)?.dropped[DropReason.UNAUTHENTICATED] ?? 0) === 2, [server], 'the drops')
    expect(server.getAvailablePacketCount()).toBe(0)
    server.setTargetPeer(id)
    expect(server.putPacket(bytes('x'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(server.getLastError()).toMatch(/authentication/)
    // The server's AUTH packets on the wire, byte for byte as Godot's.
    expect(server.sendAuth(id, bytes('ab'))).toBe(ErrorCode.OK)
    expect(server.completeAuth(id)).toBe(ErrorCode.OK)
    await waitFor(() => raw.messages.length >= 3, [server], 'the AUTH packets')
    expect(raw.messages.slice(1).map((m) => toHex(m.data))).toEqual(['07 00 61 62', '07 00'])
    // The client completes: admitted; now its packets pass.
    const log = record(server)
    raw.send(hex('07 00'))
    raw.send(hex('03 6f 6b'))
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet after admission')
    expect(log).toEqual([`peer_connected ${id}`])
    expect(drain(server)).toEqual([[id, 'ok']])
  })

  it('a peer that does not complete within authTimeout is disconnected (1000) with peer_authentication_failed on both sides', async () => {
    const { server, url } = await startServer({ authCallback: () => {}, authTimeout: 0.3 })
    const serverLog = record(server)
    const client = authClient(url, () => {}, { authTimeout: 0 })
    const log = record(client)
    await waitFor(() => client.getUniqueId() > 1, [server, client], 'the id')
    const id = client.getUniqueId()
    await waitFor(() => serverLog.includes(`peer_authentication_failed ${id}`), [server, client], 'the server to give up')
    expect(serverLog).toEqual([`peer_authenticating ${id}`, `peer_authentication_failed ${id}`])
    await waitFor(() => log.includes('server_disconnected'), [server, client], 'the client to be closed')
    expect(log).toEqual(['peer_authenticating 1', 'peer_authentication_failed 1', 'server_disconnected'])
    expect(client.getLastError()).toMatch(/1000/)
    expect(server.getPeer(id)).toBeNull()
  })

  it('sendAuth and completeAuth refuse what Godot refuses', async () => {
    const { server, url } = await startServer({ authCallback: () => {} })
    const client = authClient(url, () => {})
    await waitFor(() => client.getUniqueId() > 1, [server, client], 'the id')
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'the server to see it')
    expect(client.sendAuth(2, bytes('x'))).toBe(ErrorCode.ERR_INVALID_PARAMETER) // not a pending peer
    expect(client.sendAuth(1, new Uint8Array(0))).toBe(ErrorCode.ERR_INVALID_PARAMETER) // empty
    expect(client.completeAuth(1)).toBe(ErrorCode.OK)
    expect(client.completeAuth(1)).toBe(ErrorCode.ERR_FILE_CANT_WRITE) // twice
    expect(client.sendAuth(1, bytes('x'))).toBe(ErrorCode.ERR_FILE_CANT_WRITE) // after completing
    // The server heard the client complete: it may no longer send data either.
    await waitFor(() => server.sendAuth(id, bytes('late')) === ErrorCode.ERR_FILE_CANT_WRITE, [server], 'the server to hear the completion')
    expect(server.getLastError()).toMatch(/already completed/)
    const idle = track(new Peer({ logger: null }))
    expect(idle.sendAuth(1, bytes('x'))).toBe(ErrorCode.ERR_UNCONFIGURED)
    expect(idle.completeAuth(1)).toBe(ErrorCode.ERR_UNCONFIGURED)
  })

  it('without an authCallback a stray "completed" is ignored and auth data is dropped and counted', async () => {
    const { server, url } = await startServer()
    const raw = await rawClient(url)
    await waitFor(() => raw.messages.length >= 1, [server], 'the id')
    const id = Buffer.from(raw.messages[0]!.data).readInt32LE(0)
    raw.send(hex('07 00'))
    raw.send(hex('07 00 01 02'))
    raw.send(hex('03 6f 6b'))
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet')
    expect(server.getPeerStats(id)?.dropped).toEqual({ [DropReason.NOT_INTERPRETED]: 1 })
  })
})
