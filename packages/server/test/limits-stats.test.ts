import { afterEach, describe, expect, it } from 'vitest'
import { DropReason, ErrorCode, WebSocketPeer } from '@wsmp/server'
import { closeAll, connectClient, startServer, waitFor } from './helpers.js'

afterEach(closeAll)

describe('per-peer counters', () => {
  it('count messages and bytes both ways, framing included, on the client and on the server', async () => {
    const { server, url } = await startServer()
    const client = await connectClient(url, {}, [server])
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    const clientStats = client.getStats()
    const peerStats = server.getPeerStats(id)
    expect(peerStats).not.toBeNull()
    // The id message: 4 bytes, server → client.
    expect(clientStats.packetsIn).toBe(1)
    expect(clientStats.bytesIn).toBe(4)
    expect(peerStats?.packetsOut).toBe(1)
    expect(peerStats?.bytesOut).toBe(4)

    client.setTargetPeer(1)
    for (const size of [1, 10, 100]) expect(client.putPacket(new Uint8Array(size))).toBe(ErrorCode.OK)
    server.setTargetPeer(id)
    expect(server.putPacket(new Uint8Array(50))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 3 && client.getAvailablePacketCount() === 1, [server, client], 'the packets')

    expect(client.getStats()).toMatchObject({ packetsOut: 3, bytesOut: 2 + 11 + 101, packetsIn: 2, bytesIn: 4 + 51, protocolErrors: 0, dropped: {} })
    expect(server.getPeerStats(id)).toMatchObject({ packetsIn: 3, bytesIn: 114, packetsOut: 2, bytesOut: 55, protocolErrors: 0, dropped: {} })
    expect(server.getPeerStats(id)).toBe((server.getPeer(id) as WebSocketPeer).getStats())
    expect(server.getPeerStats(999)).toBeNull()
  })

  it('the server total keeps the counters of peers that left', async () => {
    const { server, url } = await startServer({ inboundBufferSize: 100 })
    const stays = await connectClient(url, {}, [server])
    const leaves = await connectClient(url, {}, [server])
    const leavesId = leaves.getUniqueId()
    await waitFor(() => server.getPeer(stays.getUniqueId()) !== null && server.getPeer(leavesId) !== null, [server], 'admission')
    leaves.setTargetPeer(1)
    expect(leaves.putPacket(new Uint8Array(20))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet')
    expect(leaves.putPacket(new Uint8Array(200))).toBe(ErrorCode.OK) // over inboundBufferSize: cut
    const left: number[] = []
    server.on('peer_disconnected', (id) => left.push(id))
    const heard: number[] = []
    stays.on('peer_disconnected', (id) => heard.push(id))
    // Announcements go out in batches: wait until `stays` heard that `leaves` left.
    await waitFor(() => left.includes(leavesId) && heard.includes(leavesId), [server, stays], 'the oversize peer to leave')
    expect(server.getPeerStats(leavesId)).toBeNull()
    const total = server.getStats()
    // The oversize message is refused from its header: counted as dropped, never as received.
    expect(total.packetsIn).toBe(1)
    expect(total.bytesIn).toBe(21)
    expect(total.dropped).toEqual({ [DropReason.OVERSIZE]: 1 })
    // 2 messages to `leaves` (id, ADD_PEER of `stays`), 3 to `stays` (id, ADD_PEER and DEL_PEER of `leaves`).
    expect(total.packetsOut).toBe(2 + 3)
  })

  it('count messages from a force-disconnected peer that arrive while its socket closes, without delivering them', async () => {
    const { server, url } = await startServer()
    const client = await connectClient(url, {}, [server])
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    const onServer = server.getPeer(id) as WebSocketPeer
    const left: number[] = []
    server.on('peer_disconnected', (peer) => left.push(peer))
    server.disconnectPeer(id, true)
    // The client has not seen the close yet: it sends, the server must not deliver.
    client.setTargetPeer(1)
    expect(client.putPacket(new Uint8Array([1, 2, 3]))).toBe(ErrorCode.OK)
    // Removed from the server, the connection is no longer driven by it: poll it directly.
    await waitFor(() => onServer.getReadyState() === WebSocketPeer.State.CLOSED, [server, client, onServer], 'the socket to close')
    server.poll()
    expect(server.getAvailablePacketCount()).toBe(0)
    expect(left).toEqual([])
    expect(onServer.getStats().packetsIn).toBe(1)
    expect(onServer.getStats().dropped).toEqual({ [DropReason.NOT_CONNECTED]: 1 })
  })
})
