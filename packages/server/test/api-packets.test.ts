import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConnectionStatus, ErrorCode, TransferMode, WebSocketMultiplayerPeer } from '@wsmp/server'
import { admitted, bytes, closeEverything, connectClient, drain, rawClient, record, startServer, track, waitFor } from './helpers.js'

afterEach(() => {
  closeEverything()
  vi.restoreAllMocks()
})

const text = (data: Uint8Array): string => new TextDecoder().decode(data)

describe('getAvailablePacketCount, getPacket, getPacketError', () => {
  it('count and pop packets in order; empty queue → empty array and ERR_UNAVAILABLE', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    expect(server.getAvailablePacketCount()).toBe(0)
    expect(server.getPacket()).toEqual(new Uint8Array(0))
    expect(server.getPacketError()).toBe(ErrorCode.ERR_UNAVAILABLE)
    expect(c.getPacket()).toEqual(new Uint8Array(0))
    expect(c.getPacketError()).toBe(ErrorCode.ERR_UNAVAILABLE)
    c.setTargetPeer(1)
    for (const word of ['one', 'two', 'three']) expect(c.putPacket(bytes(word))).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 3, [server], 'three packets')
    const first = server.getPacket()
    expect(first).toBeInstanceOf(Uint8Array)
    expect(first.constructor).toBe(Uint8Array) // not a Node Buffer
    expect(text(first)).toBe('one')
    expect(server.getPacketError()).toBe(ErrorCode.OK)
    expect(server.getAvailablePacketCount()).toBe(2)
    expect(text(server.getPacket())).toBe('two')
    expect(text(server.getPacket())).toBe('three')
    expect(server.getAvailablePacketCount()).toBe(0)
    expect(server.getPacket().length).toBe(0)
    expect(server.getPacketError()).toBe(ErrorCode.ERR_UNAVAILABLE)
  })

  it('getPacket on a peer that is not connected is ERR_UNCONFIGURED', () => {
    const peer = track(new WebSocketMultiplayerPeer({ logger: null }))
    expect(peer.getPacket().length).toBe(0)
    expect(peer.getPacketError()).toBe(ErrorCode.ERR_UNCONFIGURED)
    expect(peer.putPacket(bytes('x'))).toBe(ErrorCode.ERR_UNCONFIGURED)
    expect(peer.putVar(1)).toBe(ErrorCode.ERR_UNCONFIGURED)
  })

  it('accepts every kind of bytes in putPacket', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    c.setTargetPeer(1)
    expect(c.putPacket([1, 2])).toBe(ErrorCode.OK)
    expect(c.putPacket(Uint8Array.from([3, 4]).buffer)).toBe(ErrorCode.OK)
    expect(c.putPacket(new Uint16Array([0x0605]))).toBe(ErrorCode.OK)
    expect(c.putPacket(Buffer.from([7, 8]))).toBe(ErrorCode.OK)
    expect(() => c.putPacket('text' as never)).toThrow(TypeError)
    await waitFor(() => server.getAvailablePacketCount() === 4, [server], 'four packets')
    const got = [server.getPacket(), server.getPacket(), server.getPacket(), server.getPacket()].map((p) => [...p])
    expect(got).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ])
  })

  it('packets that arrived before the server went stay readable on the client', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    server.setTargetPeer(0)
    server.putPacket(bytes('last words'))
    await waitFor(() => c.getStats().packetsIn >= 2, [], 'the packet to arrive')
    server.close()
    const log = record(c)
    await waitFor(() => log.includes('server_disconnected'), [c], 'server_disconnected')
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(c.getAvailablePacketCount()).toBe(1)
    expect(text(c.getPacket())).toBe('last words')
  })
})

describe('putVar / getVar', () => {
  const values: [string, unknown][] = [
    ['nested objects', { player: { name: 'ada', pos: [1.5, -2], tags: ['a', 'b'], meta: { hp: 100, alive: true, none: null } } }],
    ['typed arrays', { f32: new Float32Array([1.5, 2.25]), i16: new Int16Array([-3, 4]), u64: new BigUint64Array([2n ** 64n - 1n]) }],
    [
      'Map and Set',
      new Map<unknown, unknown>([
        ['k', new Set([1, 2])],
        [7, { deep: new Map([['x', 1]]) }],
      ]),
    ],
    ['bigint', -(2n ** 100n)],
    ['binary', Uint8Array.from([0, 1, 254, 255])],
    ['a string', 'héllo wörld ✓'],
  ]

  it.each(values)('round-trips %s client → server → client (relay included)', async (_name, value) => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    // client → server
    a.setTargetPeer(1)
    expect(a.putVar(value)).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the var at the server')
    expect(server.getPacketPeer()).toBe(a.getUniqueId())
    expect(server.getVar()).toEqual(value)
    expect(server.getPacketError()).toBe(ErrorCode.OK)
    // server → client
    server.setTargetPeer(b.getUniqueId())
    expect(server.putVar(value)).toBe(ErrorCode.OK)
    await waitFor(() => b.getAvailablePacketCount() === 1, [b], 'the var at b')
    expect(b.getVar()).toEqual(value)
    // client → client through the relay
    a.setTargetPeer(b.getUniqueId())
    expect(a.putVar(value)).toBe(ErrorCode.OK)
    await waitFor(() => b.getAvailablePacketCount() === 1, [b], 'the relayed var')
    expect(b.getPacketPeer()).toBe(a.getUniqueId())
    expect(b.getVar()).toEqual(value)
  })

  it('getVar with nothing queued is null with ERR_UNAVAILABLE; bytes that are no value give ERR_INVALID_DATA', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    expect(server.getVar()).toBeNull()
    expect(server.getPacketError()).toBe(ErrorCode.ERR_UNAVAILABLE)
    c.setTargetPeer(1)
    c.putPacket([0xc1])
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the packet')
    expect(server.getVar()).toBeNull()
    expect(server.getPacketError()).toBe(ErrorCode.ERR_INVALID_DATA)
    expect(server.getLastError()).toMatch(/MessagePack/)
  })

  it('over encodeBufferMaxSize: ERR_OUT_OF_MEMORY and nothing is sent', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, { encodeBufferMaxSize: 1024 }, [server])
    c.setTargetPeer(1)
    const sentBefore = c.getStats().packetsOut
    expect(c.putVar({ blob: 'z'.repeat(2000) })).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(c.getLastError()).toMatch(/encodeBufferMaxSize/)
    expect(c.getStats().packetsOut).toBe(sentBefore)
    expect(c.putVar('small')).toBe(ErrorCode.OK)
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the small var')
    expect(server.getVar()).toBe('small')
    expect(server.getAvailablePacketCount()).toBe(0)
    // The same on the server side.
    server.encodeBufferMaxSize = 1024
    server.setTargetPeer(0)
    expect(server.putVar('z'.repeat(2000))).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(server.getStats().packetsOut).toBe(1 + 0) // the id message only
  })
})

describe('the poll contract', () => {
  it('signals fire only inside poll(): peer_connected before any of its packets, peer_disconnected after its last', async () => {
    const { server, url } = await startServer()
    const order: string[] = []
    server.on('peer_connected', (id) => order.push(`connected ${id} (queued ${server.getAvailablePacketCount()})`))
    server.on('peer_disconnected', (id) => order.push(`disconnected ${id} (queued ${server.getAvailablePacketCount()})`))
    // A plain client joins, sends five packets and leaves, all while the server is not polled.
    const raw = await rawClient(url)
    await raw.waitMessages(1, 'the id')
    const id = raw.id()
    for (let i = 0; i < 5; i++) raw.send(Uint8Array.from([0x03, 0x30 + i]))
    raw.ws.close()
    await waitFor(() => server.getStats().packetsIn === 5 && server.getPeer(id) === null, [], 'everything to arrive (unpolled)')
    expect(order).toEqual([])
    expect(server.getAvailablePacketCount()).toBe(0)
    server.poll()
    expect(order).toEqual([`connected ${id} (queued 0)`, `disconnected ${id} (queued 5)`])
    expect(drain(server)).toEqual(['0', '1', '2', '3', '4'].map((d) => [id, d]))
  })

  it('with a packet listener, packets come between the signals in arrival order', async () => {
    const { server, url } = await startServer()
    const order: string[] = []
    server.on('peer_connected', (id) => order.push(`connected ${id}`))
    server.on('packet', (data, from) => order.push(`packet ${from} ${text(data)}`))
    server.on('peer_disconnected', (id) => order.push(`disconnected ${id}`))
    const raw = await rawClient(url)
    await raw.waitMessages(1, 'the id')
    const id = raw.id()
    raw.send(Uint8Array.from([0x03, 0x61]))
    raw.send(Uint8Array.from([0x03, 0x62]))
    raw.ws.close()
    await waitFor(() => server.getPeer(id) === null && server.getStats().packetsIn === 2, [], 'everything to arrive')
    expect(order).toEqual([])
    server.poll()
    expect(order).toEqual([`connected ${id}`, `packet ${id} a`, `packet ${id} b`, `disconnected ${id}`])
  })

  it("on other clients, a newcomer's ADD_PEER comes before its packets and DEL_PEER after its last", async () => {
    const { url } = await startServer({ autoPoll: true })
    const a = await connectClient(url, {}, [])
    const order: string[] = []
    a.on('peer_connected', (id) => order.push(`connected ${id}`))
    a.on('packet', (data, from) => order.push(`packet ${from} ${text(data)}`))
    a.on('peer_disconnected', (id) => order.push(`disconnected ${id}`))
    // The newcomer broadcasts the moment it is admitted, then leaves at once.
    const b = track(new WebSocketMultiplayerPeer({ logger: null, autoPoll: true }))
    b.on('connected_to_server', () => {
      b.setTargetPeer(0)
      b.putPacket(bytes('first'))
      b.putPacket(bytes('last'))
      b.close()
    })
    b.createClient(url)
    await waitFor(() => order.length === 4, [a], 'the whole story at a')
    const bId = Number(order[0]?.split(' ')[1])
    expect(order).toEqual([`connected ${bId}`, `packet ${bId} first`, `packet ${bId} last`, `disconnected ${bId}`])
  })

  it('a client emits nothing until polled', async () => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    const log = record(a)
    const b = await connectClient(url, {}, [server])
    await waitFor(() => a.getStats().packetsIn >= 2, [server], 'ADD_PEER to reach a')
    expect(log).toEqual([])
    a.poll()
    expect(log).toEqual([`peer_connected ${b.getUniqueId()}`])
  })

  it('on() returns the unsubscribe function', async () => {
    const { server, url } = await startServer()
    const seen: number[] = []
    const off = server.on('peer_connected', (id) => seen.push(id))
    const a = await connectClient(url, {}, [server])
    await admitted(server, [a.getUniqueId()])
    off()
    const b = await connectClient(url, {}, [server])
    await admitted(server, [b.getUniqueId()])
    expect(seen).toEqual([a.getUniqueId()])
  })
})

describe("the 'packet' event and autoPoll", () => {
  it('while it has listeners, packets go to them (data, from, channel, mode) instead of the queue', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    const got: [string, number, number, number][] = []
    const off = server.on('packet', (data, from, channel, mode) => {
      expect(data.constructor).toBe(Uint8Array)
      got.push([text(data), from, channel, mode])
    })
    c.setTargetPeer(1)
    c.putPacket(bytes('to listener'))
    await waitFor(() => got.length === 1, [server], 'the listener')
    expect(got).toEqual([['to listener', c.getUniqueId(), 0, TransferMode.RELIABLE]])
    expect(server.getAvailablePacketCount()).toBe(0)
    off()
    c.putPacket(bytes('to queue'))
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the queue')
    expect(drain(server)).toEqual([[c.getUniqueId(), 'to queue']])
    expect(got).toHaveLength(1)
  })

  it('autoPoll: signals and packets arrive without calling poll()', async () => {
    const { server, url } = await startServer({ autoPoll: true })
    const events: string[] = []
    server.on('peer_connected', (id) => events.push(`connected ${id}`))
    server.on('packet', (data, from) => {
      events.push(`packet ${from} ${text(data)}`)
      server.setTargetPeer(from)
      server.putPacket(bytes(`echo ${text(data)}`))
    })
    const c = track(new WebSocketMultiplayerPeer({ logger: null, autoPoll: true }))
    const clientEvents: string[] = []
    c.on('connected_to_server', () => {
      clientEvents.push('connected')
      c.putPacket(bytes('hi'))
    })
    c.on('packet', (data, from) => clientEvents.push(`packet ${from} ${text(data)}`))
    c.createClient(url)
    await waitFor(() => clientEvents.length === 2, [], 'the echo (nobody polls)')
    const id = c.getUniqueId()
    expect(events).toEqual([`connected ${id}`, `packet ${id} hi`])
    expect(clientEvents).toEqual(['connected', 'packet 1 echo hi'])
  })

  it('autoPoll set later polls what is already waiting', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    c.setTargetPeer(1)
    c.putPacket(bytes('waiting'))
    await waitFor(() => server.getStats().packetsIn === 1, [], 'the packet to arrive')
    const seen: string[] = []
    server.on('packet', (data) => seen.push(text(data)))
    server.autoPoll = true
    await waitFor(() => seen.length === 1, [], 'the auto-poll')
    expect(seen).toEqual(['waiting'])
  })
})

describe('text frames', () => {
  it('are data: a text [0x03]… frame arrives as a packet, wasStringPacket() true', async () => {
    const { server, url } = await startServer()
    const raw = await rawClient(url)
    await raw.waitMessages(1, 'the id')
    raw.ws.send('\u0003as text', { binary: false })
    raw.send(Uint8Array.from([0x03, 0x62]))
    await waitFor(() => server.getAvailablePacketCount() === 2, [server], 'two packets')
    expect(text(server.getPacket())).toBe('as text')
    expect(server.wasStringPacket()).toBe(true)
    expect(text(server.getPacket())).toBe('b')
    expect(server.wasStringPacket()).toBe(false)
  })
})

describe('generateUniqueId', () => {
  it('never returns the id of a live peer', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    const live = c.getUniqueId()
    const fresh = live === 2 ? 3 : 2
    const words = [live, live, fresh]
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      ;(array as unknown as Uint32Array)[0] = words.shift() ?? fresh
      return array
    })
    expect(server.generateUniqueId()).toBe(fresh)
    expect(words).toEqual([])
  })

  it('does not reuse the id of a peer whose peer_disconnected is not yet polled', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    const id = c.getUniqueId()
    await admitted(server, [id])
    c.close()
    await waitFor(() => server.getPeer(id) === null, [], 'the leave to arrive (unpolled)')
    const words = [id, 77]
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      ;(array as unknown as Uint32Array)[0] = words.shift() ?? 77
      return array
    })
    expect(server.generateUniqueId()).toBe(77)
  })
})

describe('getPeer, getPeerAddress, getPeerPort', () => {
  it('give the WebSocketPeer, remote address and port of a connected client', async () => {
    const { server, url, port } = await startServer()
    const raw = await rawClient(`${url}/room?x=1`)
    await raw.waitMessages(1, 'the id')
    const id = raw.id()
    await admitted(server, [id])
    const peer = server.getPeer(id)
    expect(peer).not.toBeNull()
    expect(peer?.getReadyState()).toBe(1)
    expect(peer?.getRequestedUrl()).toBe(`ws://127.0.0.1:${port}/room?x=1`)
    expect(server.getPeerAddress(id)).toBe('127.0.0.1')
    const localPort = (raw.ws as unknown as { _socket: { localPort: number } })._socket.localPort
    expect(server.getPeerPort(id)).toBe(localPort)
  })

  it('return null, "" and 0 with an error for unknown ids', async () => {
    const { server } = await startServer()
    expect(server.getPeer(5)).toBeNull()
    expect(server.getLastError()).toMatch(/5/)
    expect(server.getPeerAddress(5)).toBe('')
    expect(server.getPeerPort(5)).toBe(0)
    expect(server.getPeer(1)).toBeNull() // the server is no connection of its own
  })

  it('on a client, getPeer(1) is the connection to the server', async () => {
    const { server, url, port } = await startServer()
    const c = await connectClient(url, {}, [server])
    const peer = c.getPeer(1)
    expect(peer?.getConnectedPort()).toBe(port)
    expect(peer?.getRequestedUrl()).toBe(url)
    expect(c.getPeer(c.getUniqueId())).toBeNull()
    expect(c.getPeerAddress(1)).toBe('127.0.0.1')
    expect(c.getPeerPort(1)).toBe(port)
  })
})
