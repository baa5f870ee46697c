// The server's hot path: broadcasts framed once and written as the same bytes to every receiver,
// and writes batched per connection until the current callback returns. These check that what
// arrives is exactly what was sent, in order, across the WebSocket header sizes (7-bit, 16-bit and
// 64-bit lengths), and that batching does not change what outboundBufferSize allows.
import { afterEach, describe, expect, it } from 'vitest'
import { ErrorCode, TARGET_PEER_BROADCAST, type WebSocketMultiplayerPeer } from '@wsmp/server'
import { admitted, closeEverything, connectClient, startServer, waitFor } from './helpers.js'

afterEach(closeEverything)

/** A payload of `size` bytes whose content says which packet it is. */
function payload(size: number, tag: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (tag * 31 + i) & 0xff
  return out
}

/** Reads every packet a peer has queued, as [from, bytes]. */
function take(peer: WebSocketMultiplayerPeer, into: [number, Uint8Array][]): void {
  while (peer.getAvailablePacketCount() > 0) {
    const from = peer.getPacketPeer()
    into.push([from, peer.getPacket()])
  }
}

// Relayed frames carry 7 bytes of SceneMultiplayer framing, direct ones 1: these payload sizes put
// the WebSocket message right at and around the 125/126 and 65535/65536 header boundaries.
const RELAY_SIZES = [1, 118, 119, 120, 200, 65528, 65529, 65530, 70000]
const DIRECT_SIZES = [1, 124, 125, 126, 65534, 65535, 65536, 70000]
const BIG = 1 << 20

describe('broadcast frames are shared by all receivers', () => {
  it('a client broadcast reaches every other client byte for byte, in order, whatever its length', async () => {
    const options = { inboundBufferSize: BIG, outboundBufferSize: BIG }
    const { server, url } = await startServer(options)
    const clients = [await connectClient(url, options, [server]), await connectClient(url, options, [server]), await connectClient(url, options, [server])]
    await admitted(
      server,
      clients.map((c) => c.getUniqueId()),
    )
    const [sender, ...receivers] = clients as [WebSocketMultiplayerPeer, ...WebSocketMultiplayerPeer[]]
    // Everyone but the server (-1), and everyone (0): both go through the shared-frame loop.
    for (const [i, size] of RELAY_SIZES.entries()) {
      sender.setTargetPeer(i % 2 === 0 ? -1 : TARGET_PEER_BROADCAST)
      expect(sender.putPacket(payload(size, i))).toBe(ErrorCode.OK)
    }
    const got = receivers.map(() => [] as [number, Uint8Array][])
    await waitFor(
      () => {
        receivers.forEach((r, k) => take(r, got[k] as [number, Uint8Array][]))
        return got.every((list) => list.length === RELAY_SIZES.length)
      },
      [server, ...clients],
      'every relayed packet at every receiver',
    )
    for (const list of got) {
      expect(list.map(([from]) => from)).toEqual(RELAY_SIZES.map(() => sender.getUniqueId()))
      list.forEach(([, data], i) => expect(data).toEqual(payload(RELAY_SIZES[i] as number, i)))
    }
  })

  it('a server broadcast reaches every client byte for byte, in order, whatever its length', async () => {
    const options = { inboundBufferSize: BIG, outboundBufferSize: BIG }
    const { server, url } = await startServer(options)
    const clients = [await connectClient(url, options, [server]), await connectClient(url, options, [server])]
    await admitted(
      server,
      clients.map((c) => c.getUniqueId()),
    )
    server.setTargetPeer(TARGET_PEER_BROADCAST)
    for (const [i, size] of DIRECT_SIZES.entries()) expect(server.putPacket(payload(size, i))).toBe(ErrorCode.OK)
    const got = clients.map(() => [] as [number, Uint8Array][])
    await waitFor(
      () => {
        clients.forEach((c, k) => take(c, got[k] as [number, Uint8Array][]))
        return got.every((list) => list.length === DIRECT_SIZES.length)
      },
      [server, ...clients],
      'every broadcast packet at every client',
    )
    for (const list of got) {
      expect(list.map(([from]) => from)).toEqual(DIRECT_SIZES.map(() => 1))
      list.forEach(([, data], i) => expect(data).toEqual(payload(DIRECT_SIZES[i] as number, i)))
    }
  })
})

describe('batched writes', () => {
  it('many packets written in one callback (well past one batch) all arrive, in order', async () => {
    const { server, url } = await startServer({ outboundBufferSize: 0 })
    const clients = [await connectClient(url, {}, [server]), await connectClient(url, {}, [server])]
    await admitted(
      server,
      clients.map((c) => c.getUniqueId()),
    )
    server.setTargetPeer(TARGET_PEER_BROADCAST)
    const count = 2000 // 2000 × 101 bytes: about 12 batches of 16 KiB per connection
    for (let i = 0; i < count; i++) expect(server.putPacket(payload(100, i))).toBe(ErrorCode.OK)
    const got = clients.map(() => [] as [number, Uint8Array][])
    await waitFor(
      () => {
        clients.forEach((c, k) => take(c, got[k] as [number, Uint8Array][]))
        return got.every((list) => list.length === count)
      },
      [server, ...clients],
      'every packet',
    )
    for (const list of got) list.forEach(([, data], i) => expect(data).toEqual(payload(100, i)))
  })

  it('bytes batched in the same callback do not make a packet that fits outboundBufferSize fail', async () => {
    const limit = 4096
    const { server, url } = await startServer({ outboundBufferSize: limit })
    const client = await connectClient(url, {}, [server])
    const id = client.getUniqueId()
    await admitted(server, [id])
    server.setTargetPeer(id)
    // Without batching, the first packet would be in the socket's system buffer already; with it,
    // it waits in the batch until it is handed over, which happens before the check says "full".
    expect(server.putPacket(payload(3000, 1))).toBe(ErrorCode.OK)
    expect(server.putPacket(payload(limit - 1, 2))).toBe(ErrorCode.OK)
    expect(server.putPacket(payload(limit, 3))).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    const got: [number, Uint8Array][] = []
    await waitFor(() => (take(client, got), got.length === 2), [server, client], 'both packets')
    expect(got[0]?.[1]).toEqual(payload(3000, 1))
    expect(got[1]?.[1]).toEqual(payload(limit - 1, 2))
  })
})
