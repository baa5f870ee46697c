import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionStatus, ErrorCode, WebSocketMultiplayerPeer } from '@wsmp/server'
import { bytes, closeAll, connectClient, startServer, track, waitFor } from './helpers.js'

afterEach(closeAll)

describe('server life cycle', () => {
  it('resolves createServer with FAILED when close() comes before listening', async () => {
    const server = track(new WebSocketMultiplayerPeer({ logger: null }))
    const pending = server.createServer(0, '127.0.0.1')
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.CONNECTING)
    server.close()
    expect(await pending).toBe(ErrorCode.FAILED)
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(await server.createServer(0, '127.0.0.1')).toBe(ErrorCode.OK)
  })

  it('queues nothing more from a peer disconnected with force', async () => {
    const { server, url } = await startServer()
    const client = await connectClient(url, {}, [server])
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    const signals: number[] = []
    server.on('peer_disconnected', (peer) => signals.push(peer))
    client.putPacket(bytes('in flight'))
    server.disconnectPeer(id, true)
    await waitFor(() => client.getConnectionStatus() === ConnectionStatus.DISCONNECTED, [client, server], 'the client to see the close')
    server.poll()
    expect(server.getAvailablePacketCount()).toBe(0)
    expect(signals).toEqual([])
  })
})
