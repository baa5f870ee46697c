import { afterEach, describe, expect, it } from 'vitest'
import { DropReason, ErrorCode, TARGET_PEER_BROADCAST, TARGET_PEER_SERVER, TransferMode, type WebSocketMultiplayerPeer } from '@wsmp/server'
import { admitted, bytes, closeEverything, connectClient, drain, record, startServer, waitFor } from './helpers.js'

afterEach(closeEverything)

/** A server and three clients that all know each other (announcements polled). */
async function room(serverOptions = {}, clientOptions = {}) {
  const { server, url } = await startServer(serverOptions)
  const a = await connectClient(url, clientOptions, [server])
  const b = await connectClient(url, clientOptions, [server])
  const c = await connectClient(url, clientOptions, [server])
  const [aId, bId, cId] = [a.getUniqueId(), b.getUniqueId(), c.getUniqueId()]
  await admitted(server, [aId, bId, cId])
  return { server, url, a, b, c, aId, bId, cId }
}

/**
 * Sends a marker from the server to every client and waits for it: what was sent before has
 * arrived too (one ordered TCP stream per client; the server relays as packets arrive).
 */
async function flush(server: WebSocketMultiplayerPeer, clients: WebSocketMultiplayerPeer[], extra: WebSocketMultiplayerPeer[] = []): Promise<void> {
  // First each client's marker to the server: it follows that client's earlier packets on its
  // connection, and the server relays on arrival, so once the server has every client's marker,
  // every relay of theirs has been written to its target. Then the server's marker to everyone.
  const clientMarkers = new Set<string>()
  for (const client of clients) {
    const mine = `marker ${Math.random()}`
    clientMarkers.add(mine)
    const target = client.getTargetPeer()
    client.setTargetPeer(TARGET_PEER_SERVER)
    expect(client.putPacket(bytes(mine))).toBe(ErrorCode.OK)
    client.setTargetPeer(target)
  }
  await waitFor(
    () => {
      for (const [, text] of drainInto(server)) clientMarkers.delete(text)
      return clientMarkers.size === 0
    },
    [server, ...clients, ...extra],
    "every client's marker at the server",
  )
  const marker = `marker ${Math.random()}`
  server.setTargetPeer(TARGET_PEER_BROADCAST)
  expect(server.putPacket(bytes(marker))).toBe(ErrorCode.OK)
  const got = new Set<WebSocketMultiplayerPeer>()
  const seen = (peer: WebSocketMultiplayerPeer) => () => {
    for (const [from, text] of drainInto(peer)) if (from === 1 && text === marker) got.add(peer)
  }
  const checks = clients.map(seen)
  await waitFor(
    () => {
      checks.forEach((check) => check())
      return got.size === clients.length
    },
    [server, ...clients, ...extra],
    'the marker',
  )
}

/** Packets read while flushing, per peer, so tests can inspect them afterwards. */
const inbox = new Map<WebSocketMultiplayerPeer, [number, string][]>()
function drainInto(peer: WebSocketMultiplayerPeer): [number, string][] {
  const list = inbox.get(peer) ?? []
  inbox.set(peer, list)
  const fresh = drain(peer)
  list.push(...fresh)
  return fresh
}
function received(peer: WebSocketMultiplayerPeer): [number, string][] {
  drainInto(peer)
  const list = inbox.get(peer) ?? []
  inbox.delete(peer)
  return list.filter(([, text]) => !text.startsWith('marker '))
}

afterEach(() => inbox.clear())

describe('setTargetPeer on the server', () => {
  it('0 reaches every client, from 1', async () => {
    const { server, a, b, c } = await room()
    server.setTargetPeer(0)
    expect(server.putPacket(bytes('all'))).toBe(ErrorCode.OK)
    await flush(server, [a, b, c])
    for (const peer of [a, b, c]) expect(received(peer)).toEqual([[1, 'all']])
  })

  it('n reaches that client only', async () => {
    const { server, a, b, c, bId } = await room()
    server.setTargetPeer(bId)
    expect(server.putPacket(bytes('to b'))).toBe(ErrorCode.OK)
    await flush(server, [a, b, c])
    expect(received(a)).toEqual([])
    expect(received(b)).toEqual([[1, 'to b']])
    expect(received(c)).toEqual([])
  })

  it('-n reaches everyone but n', async () => {
    const { server, a, b, c, bId } = await room()
    server.setTargetPeer(-bId)
    expect(server.putPacket(bytes('not b'))).toBe(ErrorCode.OK)
    await flush(server, [a, b, c])
    expect(received(a)).toEqual([[1, 'not b']])
    expect(received(b)).toEqual([])
    expect(received(c)).toEqual([[1, 'not b']])
  })

  it('1 (itself) and unknown ids are ERR_INVALID_PARAMETER, sending nothing', async () => {
    const { server, a, b, c } = await room()
    server.setTargetPeer(TARGET_PEER_SERVER)
    expect(server.putPacket(bytes('self'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(server.getLastError()).toMatch(/itself|target 1/)
    server.setTargetPeer(424242)
    expect(server.putPacket(bytes('nobody'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(server.getLastError()).toMatch(/424242/)
    await flush(server, [a, b, c])
    for (const peer of [a, b, c]) expect(received(peer)).toEqual([])
  })

  it('an empty packet returns OK and sends nothing', async () => {
    const { server, a, b, c } = await room()
    const before = a.getStats().packetsIn
    server.setTargetPeer(0)
    expect(server.putPacket(new Uint8Array(0))).toBe(ErrorCode.OK)
    await flush(server, [a, b, c])
    expect(a.getStats().packetsIn).toBe(before + 1) // the marker only
  })

  it('putPacket is ERR_UNCONFIGURED unless serving or connected', async () => {
    const { server } = await startServer()
    server.close()
    expect(server.putPacket(bytes('x'))).toBe(ErrorCode.ERR_UNCONFIGURED)
  })
})

describe('setTargetPeer on a client (through the relay)', () => {
  it('0: a client broadcast reaches the server and every other client, getPacketPeer() = the sender', async () => {
    const { server, a, b, c, aId } = await room()
    a.setTargetPeer(0)
    expect(a.putPacket(bytes('hello all'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the server share')
    expect(server.getPacketPeer()).toBe(aId)
    expect(drain(server)).toEqual([[aId, 'hello all']])
    await flush(server, [a, b, c])
    expect(received(a)).toEqual([]) // never back to the sender
    expect(received(b)).toEqual([[aId, 'hello all']])
    expect(received(c)).toEqual([[aId, 'hello all']])
  })

  it('1: only the server gets it', async () => {
    const { server, a, b, c, aId } = await room()
    a.setTargetPeer(1)
    expect(a.putPacket(bytes('to server'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet')
    expect(drain(server)).toEqual([[aId, 'to server']])
    await flush(server, [a, b, c])
    for (const peer of [a, b, c]) expect(received(peer)).toEqual([])
  })

  it('n: unicast to another client through the relay; the server does not get it', async () => {
    const { server, a, b, c, aId, cId } = await room()
    a.setTargetPeer(cId)
    expect(a.putPacket(bytes('psst'))).toBe(ErrorCode.OK)
    await flush(server, [a, b, c])
    expect(received(a)).toEqual([])
    expect(received(b)).toEqual([])
    expect(received(c)).toEqual([[aId, 'psst']])
    expect(server.getAvailablePacketCount()).toBe(0)
  })

  it('-n: everyone but n, the server included', async () => {
    const { server, a, b, c, aId, bId } = await room()
    a.setTargetPeer(-bId)
    expect(a.putPacket(bytes('not b'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the server share')
    expect(drain(server)).toEqual([[aId, 'not b']])
    await flush(server, [a, b, c])
    expect(received(b)).toEqual([])
    expect(received(c)).toEqual([[aId, 'not b']])
    expect(received(a)).toEqual([])
  })

  it('-1: every other client, not the server', async () => {
    const { server, a, b, c, aId } = await room()
    a.setTargetPeer(-1)
    expect(a.putPacket(bytes('clients only'))).toBe(ErrorCode.OK)
    await flush(server, [a, b, c])
    expect(received(b)).toEqual([[aId, 'clients only']])
    expect(received(c)).toEqual([[aId, 'clients only']])
    // Server-bound marker from a, sent after: when it arrives, the earlier packet would have too.
    a.setTargetPeer(1)
    a.putPacket(bytes('after'))
    await waitFor(() => server.getAvailablePacketCount() >= 1, [server], 'the later packet')
    expect(drain(server)).toEqual([[aId, 'after']])
  })

  it('a client targeting itself gets its packet back through the relay, stamped with its own id (as from Godot)', async () => {
    const { server, a, b, c, aId } = await room()
    a.setTargetPeer(aId)
    expect(a.putPacket(bytes('me'))).toBe(ErrorCode.OK)
    await flush(server, [a, b, c])
    expect(received(a)).toEqual([[aId, 'me']])
    expect(received(b)).toEqual([])
    expect(received(c)).toEqual([])
    expect(server.getAvailablePacketCount()).toBe(0)
  })

  it('a unicast to an absent peer is dropped and counted by the server', async () => {
    const { server, a, b, c, aId } = await room()
    a.setTargetPeer(999_999)
    expect(a.putPacket(bytes('void'))).toBe(ErrorCode.OK)
    await waitFor(() => (server.getPeerStats(aId)?.dropped[DropReason.ABSENT_TARGET] ?? 0) === 1, [server], 'the drop to be counted')
    await flush(server, [a, b, c])
    for (const peer of [a, b, c]) expect(received(peer)).toEqual([])
    expect(server.getAvailablePacketCount()).toBe(0)
  })

  it('a relay packet keeps its order with direct packets', async () => {
    const { server, a, b, c, aId } = await room()
    for (let i = 0; i < 20; i++) {
      a.setTargetPeer(i % 2 === 0 ? 0 : 1)
      a.putPacket(bytes(`p${i}`))
    }
    await waitFor(() => server.getAvailablePacketCount() === 20, [server], 'twenty packets')
    expect(drain(server)).toEqual(Array.from({ length: 20 }, (_, i) => [aId, `p${i}`]))
    await flush(server, [a, b, c])
    expect(received(b)).toEqual(Array.from({ length: 10 }, (_, i) => [aId, `p${i * 2}`]))
  })
})

describe('getPacketPeer, getPacketChannel, getPacketMode', () => {
  it('describe the next queued packet', async () => {
    const { server, a, b, aId, bId } = await room()
    a.transferChannel = 3
    a.transferMode = TransferMode.UNRELIABLE_ORDERED
    a.setTargetPeer(1)
    a.putPacket(bytes('from a'))
    b.setTargetPeer(1)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'a packet')
    b.putPacket(bytes('from b'))
    await waitFor(() => server.getAvailablePacketCount() === 2, [server], 'b packet')
    expect(server.getPacketPeer()).toBe(aId)
    // WebSocket has one ordered, reliable stream: channel 0 and RELIABLE whatever was sent (Godot).
    expect(server.getPacketChannel()).toBe(0)
    expect(server.getPacketMode()).toBe(TransferMode.RELIABLE)
    server.getPacket()
    expect(server.getPacketPeer()).toBe(bId)
    server.getPacket()
  })

  it('with nothing queued, getPacketPeer returns 1 and records an error', async () => {
    const { server } = await startServer()
    expect(server.getPacketPeer()).toBe(1)
    expect(server.getLastError()).toMatch(/no packet/)
    expect(server.getPacketChannel()).toBe(0)
    expect(server.getPacketMode()).toBe(TransferMode.RELIABLE)
  })

  it('on a client, packets from the server come from 1', async () => {
    const { server, a } = await room()
    server.setTargetPeer(a.getUniqueId())
    server.putPacket(bytes('hi'))
    await waitFor(() => a.getAvailablePacketCount() === 1, [a], 'the packet')
    expect(a.getPacketPeer()).toBe(1)
  })
})

describe('serverRelay = false', () => {
  it('no announcements: clients only ever see the server', async () => {
    const { server, url } = await startServer({ serverRelay: false })
    const a = await connectClient(url, {}, [server])
    const aLog = record(a)
    const b = await connectClient(url, {}, [server])
    const bLog = record(b)
    await admitted(server, [a.getUniqueId(), b.getUniqueId()])
    await flush(server, [a, b])
    b.close()
    await waitFor(() => server.getPeer(b.getUniqueId()) === null, [server], 'b to leave')
    await flush(server, [a])
    expect(aLog).toEqual([])
    expect(bLog).toEqual([])
  })

  it('a broadcast reaches the server only; a unicast to a client is dropped and counted; -n still reaches the server', async () => {
    const { server, a, b, c, aId, bId } = await room({ serverRelay: false })
    a.setTargetPeer(0)
    expect(a.putPacket(bytes('broadcast'))).toBe(ErrorCode.OK)
    a.setTargetPeer(bId)
    expect(a.putPacket(bytes('unicast'))).toBe(ErrorCode.OK)
    a.setTargetPeer(-bId)
    expect(a.putPacket(bytes('exclude b'))).toBe(ErrorCode.OK)
    a.setTargetPeer(1)
    expect(a.putPacket(bytes('direct'))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 3, [server], 'three packets for the server')
    expect(drain(server)).toEqual([
      [aId, 'broadcast'],
      [aId, 'exclude b'],
      [aId, 'direct'],
    ])
    await flush(server, [a, b, c])
    for (const peer of [a, b, c]) expect(received(peer)).toEqual([])
    expect(server.getPeerStats(aId)?.dropped[DropReason.RELAY_DISABLED]).toBe(3)
  })
})
