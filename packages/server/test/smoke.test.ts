import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionStatus, ErrorCode } from '@wsmp/server'
import { bytes, closeAll, connectClient, drain, startServer, waitFor } from './helpers.js'

afterEach(closeAll)

describe('end to end', () => {
  it('connects two clients, announces them, and relays broadcast and unicast', async () => {
    const { server, url } = await startServer()
    const joined: number[] = []
    server.on('peer_connected', (id) => joined.push(id))
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    expect(a.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    const aId = a.getUniqueId()
    const bId = b.getUniqueId()
    await waitFor(() => joined.length === 2, [server], 'server peer_connected')
    expect(joined.sort()).toEqual([aId, bId].sort())

    const aSees: number[] = []
    a.on('peer_connected', (id) => aSees.push(id))
    await waitFor(() => aSees.includes(bId), [a], 'a to hear of b')

    // a broadcasts
    a.setTargetPeer(0)
    expect(a.putPacket(bytes('hello all'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1 && b.getAvailablePacketCount() === 1, [server, b], 'broadcast')
    expect(drain(server)).toEqual([[aId, 'hello all']])
    expect(drain(b)).toEqual([[aId, 'hello all']])

    // b unicasts to a
    b.setTargetPeer(aId)
    expect(b.putPacket(bytes('psst'))).toBe(ErrorCode.OK)
    await waitFor(() => a.getAvailablePacketCount() === 1, [a], 'unicast')
    expect(drain(a)).toEqual([[bId, 'psst']])

    // server to one
    server.setTargetPeer(bId)
    expect(server.putPacket(bytes('from server'))).toBe(ErrorCode.OK)
    await waitFor(() => b.getAvailablePacketCount() === 1, [b], 'server unicast')
    expect(drain(b)).toEqual([[1, 'from server']])

    // b leaves
    const aLost: number[] = []
    a.on('peer_disconnected', (id) => aLost.push(id))
    const serverLost: number[] = []
    server.on('peer_disconnected', (id) => serverLost.push(id))
    b.close()
    await waitFor(() => aLost.includes(bId) && serverLost.includes(bId), [a, server], 'b to leave')
  })
})
