import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionStatus, DEFAULT_HANDSHAKE_TIMEOUT, ErrorCode, TransferMode, WebSocketMultiplayerPeer, WebSocketMultiplayerPeer as FromServer } from '@wsmp/server'
import * as client from '@wsmp/client'
import * as core from '@wsmp/core'
import * as server from '@wsmp/server'
import { admitted, closeEverything, connectClient, startServer, track, waitFor } from './helpers.js'

afterEach(closeEverything)

const quiet = () => track(new WebSocketMultiplayerPeer({ logger: null }))

describe('exports', () => {
  it('@wsmp/client re-exports all of core, and @wsmp/server all of client', () => {
    for (const name of Object.keys(core)) expect(client, name).toHaveProperty(name)
    for (const name of Object.keys(client)) {
      if (name === 'WebSocketMultiplayerPeer') continue // the server's extends the client's
      expect(server, name).toHaveProperty(name)
    }
    expect(FromServer.prototype).toBeInstanceOf(client.WebSocketMultiplayerPeer)
  })
})

describe('WebSocketMultiplayerPeer properties', () => {
  it("have Godot's defaults", () => {
    const peer = new WebSocketMultiplayerPeer()
    expect(peer.encodeBufferMaxSize).toBe(8 * 1024 * 1024)
    expect(peer.refuseNewConnections).toBe(false)
    expect(peer.transferChannel).toBe(0)
    expect(peer.transferMode).toBe(TransferMode.RELIABLE)
    expect(peer.handshakeHeaders).toEqual([])
    expect(peer.handshakeTimeout).toBe(3)
    expect(DEFAULT_HANDSHAKE_TIMEOUT).toBe(3)
    expect(peer.inboundBufferSize).toBe(65535)
    expect(peer.maxQueuedPackets).toBe(4096)
    expect(peer.outboundBufferSize).toBe(65535)
    expect(peer.supportedProtocols).toEqual([])
    expect(peer.framing).toBe('scene')
    expect(peer.serverRelay).toBe(true)
    expect(peer.autoPoll).toBe(false)
    expect(peer.heartbeatInterval).toBe(0)
    expect(peer.onHandshake).toBeNull()
    expect(peer.getTargetPeer()).toBe(0)
  })

  it('take every property in the constructor', () => {
    const hook = () => true
    const peer = new WebSocketMultiplayerPeer({
      encodeBufferMaxSize: 3000,
      logger: null,
      refuseNewConnections: true,
      transferChannel: 7,
      transferMode: TransferMode.UNRELIABLE_ORDERED,
      autoPoll: true,
      handshakeHeaders: ['X-Game: wsmp'],
      handshakeTimeout: 5.5,
      heartbeatInterval: 2,
      inboundBufferSize: 1000,
      maxQueuedPackets: 10,
      outboundBufferSize: 2000,
      supportedProtocols: ['a', ' b '],
      framing: 'raw',
      serverRelay: false,
      onHandshake: hook,
    })
    expect(peer.encodeBufferMaxSize).toBe(4096)
    expect(peer.logger).toBeNull()
    expect(peer.refuseNewConnections).toBe(true)
    expect(peer.transferChannel).toBe(7)
    expect(peer.transferMode).toBe(TransferMode.UNRELIABLE_ORDERED)
    expect(peer.autoPoll).toBe(true)
    expect(peer.handshakeHeaders).toEqual(['X-Game: wsmp'])
    expect(peer.handshakeTimeout).toBe(5.5)
    expect(peer.heartbeatInterval).toBe(2)
    expect(peer.inboundBufferSize).toBe(1000)
    expect(peer.maxQueuedPackets).toBe(10)
    expect(peer.outboundBufferSize).toBe(2000)
    expect(peer.supportedProtocols).toEqual(['a', 'b'])
    expect(peer.framing).toBe('raw')
    expect(peer.serverRelay).toBe(false)
    expect(peer.onHandshake).toBe(hook)
    // The client-only class takes the same options (but onHandshake).
    const c = new client.WebSocketMultiplayerPeer({ handshakeTimeout: 1, framing: 'raw', logger: null })
    expect(c.handshakeTimeout).toBe(1)
    expect(c.framing).toBe('raw')
  })

  it('an unknown constructor option is a TypeError', () => {
    expect(() => new WebSocketMultiplayerPeer({ handshakeTimout: 5 } as never)).toThrow(TypeError)
    expect(() => new client.WebSocketMultiplayerPeer({ bogus: true } as never)).toThrow(TypeError)
    expect(() => new client.WebSocketMultiplayerPeer({ onHandshake: null } as never)).toThrow(TypeError)
  })

  it('methods and internals are not options: they are TypeErrors too, never overwritten', () => {
    for (const key of ['poll', 'close', 'getUniqueId', 'putPacket', '_status', '_uniqueId', '_peers', 'constructor', 'toString']) {
      expect(() => new WebSocketMultiplayerPeer({ [key]: 1 } as never), key).toThrow(TypeError)
    }
    expect(() => new client.WebSocketPeer({ close: 1 } as never)).toThrow(TypeError)
    expect(() => new client.WebSocketPeer({ _state: 1 } as never)).toThrow(TypeError)
    const peer = new WebSocketMultiplayerPeer({ logger: null })
    expect(typeof peer.poll).toBe('function')
  })

  it('constructor options are validated like the setters', () => {
    expect(() => new WebSocketMultiplayerPeer({ transferMode: 3 as TransferMode })).toThrow(TypeError)
    expect(() => new WebSocketMultiplayerPeer({ framing: 'godot3' as 'raw' })).toThrow(TypeError)
    const peer = new WebSocketMultiplayerPeer({ logger: null, handshakeTimeout: -1, encodeBufferMaxSize: 10 })
    expect(peer.handshakeTimeout).toBe(3)
    expect(peer.encodeBufferMaxSize).toBe(8 * 1024 * 1024)
  })

  it('encodeBufferMaxSize: rejects <1024 and >256 MiB, rounds up to a power of two', () => {
    const peer = quiet()
    peer.encodeBufferMaxSize = 1500
    expect(peer.encodeBufferMaxSize).toBe(2048)
    peer.encodeBufferMaxSize = 1023
    expect(peer.encodeBufferMaxSize).toBe(2048)
    peer.encodeBufferMaxSize = 256 * 1024 * 1024 + 1
    expect(peer.encodeBufferMaxSize).toBe(2048)
    expect(peer.getLastError()).toMatch(/encodeBufferMaxSize/)
    peer.encodeBufferMaxSize = 256 * 1024 * 1024
    expect(peer.encodeBufferMaxSize).toBe(256 * 1024 * 1024)
  })

  it('transferChannel and transferMode are stored', () => {
    const peer = quiet()
    peer.transferChannel = 255
    expect(peer.transferChannel).toBe(255)
    peer.transferChannel = 256
    expect(peer.transferChannel).toBe(255)
    peer.transferChannel = -1
    expect(peer.transferChannel).toBe(255)
    expect(() => (peer.transferChannel = 1.5)).toThrow(TypeError)
    for (const mode of [TransferMode.UNRELIABLE, TransferMode.UNRELIABLE_ORDERED, TransferMode.RELIABLE]) {
      peer.transferMode = mode
      expect(peer.transferMode).toBe(mode)
    }
    expect(() => (peer.transferMode = 7 as TransferMode)).toThrow(TypeError)
  })

  it('refuseNewConnections is stored', () => {
    const peer = quiet()
    peer.refuseNewConnections = true
    expect(peer.refuseNewConnections).toBe(true)
    peer.refuseNewConnections = false
    expect(peer.refuseNewConnections).toBe(false)
  })

  it('handshakeTimeout rejects values ≤ 0, keeping the old one', () => {
    const peer = quiet()
    peer.handshakeTimeout = 0.25
    expect(peer.handshakeTimeout).toBe(0.25)
    peer.handshakeTimeout = 0
    expect(peer.handshakeTimeout).toBe(0.25)
    peer.handshakeTimeout = -3
    expect(peer.handshakeTimeout).toBe(0.25)
    expect(peer.getLastError()).toMatch(/handshakeTimeout/)
    expect(() => (peer.handshakeTimeout = Number.NaN)).toThrow(TypeError)
  })

  it('inboundBufferSize, outboundBufferSize, maxQueuedPackets exist, are stored, and reject bad values', () => {
    const peer = quiet()
    peer.inboundBufferSize = 1 << 20
    peer.outboundBufferSize = 1 << 21
    peer.maxQueuedPackets = 16
    expect(peer.inboundBufferSize).toBe(1 << 20)
    expect(peer.outboundBufferSize).toBe(1 << 21)
    expect(peer.maxQueuedPackets).toBe(16)
    peer.inboundBufferSize = 0
    peer.maxQueuedPackets = 0
    peer.outboundBufferSize = -1
    expect(peer.inboundBufferSize).toBe(1 << 20)
    expect(peer.maxQueuedPackets).toBe(16)
    expect(peer.outboundBufferSize).toBe(1 << 21)
    peer.outboundBufferSize = 0 // 0 disables the check, as in Godot
    expect(peer.outboundBufferSize).toBe(0)
    expect(() => (peer.inboundBufferSize = 1.5)).toThrow(TypeError)
  })

  it('supportedProtocols and handshakeHeaders are copied in and out', () => {
    const peer = quiet()
    const protocols = ['x']
    peer.supportedProtocols = protocols
    protocols.push('y')
    expect(peer.supportedProtocols).toEqual(['x'])
    peer.supportedProtocols.push('z')
    expect(peer.supportedProtocols).toEqual(['x'])
    peer.handshakeHeaders = ['X-A: 1']
    peer.handshakeHeaders.push('X-B: 2')
    expect(peer.handshakeHeaders).toEqual(['X-A: 1'])
    expect(() => (peer.supportedProtocols = 'x' as unknown as string[])).toThrow(TypeError)
  })

  it('framing changes only while DISCONNECTED', async () => {
    const { server } = await startServer()
    server.framing = 'raw'
    expect(server.framing).toBe('scene')
    expect(server.getLastError()).toMatch(/framing/)
    server.close()
    server.framing = 'raw'
    expect(server.framing).toBe('raw')
  })

  it('setTargetPeer takes 32-bit integers only', () => {
    const peer = quiet()
    peer.setTargetPeer(-(2 ** 31))
    expect(peer.getTargetPeer()).toBe(-(2 ** 31))
    peer.setTargetPeer(2 ** 31 - 1)
    expect(() => peer.setTargetPeer(2 ** 31)).toThrow(TypeError)
    expect(() => peer.setTargetPeer(1.5)).toThrow(TypeError)
  })
})

describe('isServer, isServerRelaySupported, getMaxPacketSize', () => {
  it('isServer: false before, true while serving, false after close; false on a client', async () => {
    const { server, url } = await startServer()
    expect(server.isServer()).toBe(true)
    const c = await connectClient(url, {}, [server])
    expect(c.isServer()).toBe(false)
    server.close()
    expect(server.isServer()).toBe(false)
    expect(quiet().isServer()).toBe(false)
  })

  it("isServerRelaySupported: true with 'scene', false with 'raw'", () => {
    expect(quiet().isServerRelaySupported()).toBe(true)
    const raw = track(new WebSocketMultiplayerPeer({ framing: 'raw' }))
    expect(raw.isServerRelaySupported()).toBe(false)
    expect(new client.WebSocketMultiplayerPeer({ framing: 'raw' }).isServerRelaySupported()).toBe(false)
  })

  it('getMaxPacketSize is outboundBufferSize less the framing bytes of the current target', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    expect(server.getMaxPacketSize()).toBe(65535 - 1) // [0x03]
    c.setTargetPeer(1)
    expect(c.getMaxPacketSize()).toBe(65535 - 1) // [0x03]
    c.setTargetPeer(0)
    expect(c.getMaxPacketSize()).toBe(65535 - 7) // [0x07][0x03][id][0x03]
    c.outboundBufferSize = 1000
    expect(c.getMaxPacketSize()).toBe(993)
    const raw = track(new WebSocketMultiplayerPeer({ framing: 'raw' }))
    expect(raw.getMaxPacketSize()).toBe(65535)
  })

  it('a packet of exactly getMaxPacketSize() goes through; one byte more is ERR_OUT_OF_MEMORY', async () => {
    const { server, url } = await startServer()
    const a = await connectClient(url, {}, [server])
    const b = await connectClient(url, {}, [server])
    await waitUntilAnnounced(a, b.getUniqueId())
    a.setTargetPeer(b.getUniqueId())
    const size = a.getMaxPacketSize()
    expect(a.putPacket(new Uint8Array(size + 1))).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(a.putPacket(new Uint8Array(size).fill(9))).toBe(ErrorCode.OK)
    await waitFor(() => b.getAvailablePacketCount() === 1, [server, b], 'the largest relayed packet')
    expect(b.getPacketPeer()).toBe(a.getUniqueId())
    expect(b.getPacket().length).toBe(size)
    server.setTargetPeer(b.getUniqueId())
    expect(server.putPacket(new Uint8Array(server.getMaxPacketSize() + 1))).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(server.putPacket(new Uint8Array(server.getMaxPacketSize()))).toBe(ErrorCode.OK)
    await waitFor(() => b.getAvailablePacketCount() === 1, [b], 'the largest server packet')
    expect(b.getPacket().length).toBe(65534)
  })
})

async function waitUntilAnnounced(peer: WebSocketMultiplayerPeer, id: number): Promise<void> {
  const seen: number[] = []
  const off = peer.on('peer_connected', (p) => seen.push(p))
  await waitFor(() => seen.includes(id), [peer], `announcement of ${id}`)
  off()
}

describe('getConnectionStatus and getUniqueId', () => {
  it('start DISCONNECTED with id 0', () => {
    const peer = quiet()
    expect(peer.getConnectionStatus()).toBe(ConnectionStatus.DISCONNECTED)
    expect(peer.getUniqueId()).toBe(0)
  })
})

describe("an accepted connection's settings", () => {
  it("are the server's when it was accepted; a later change to the server or to one peer changes only that one", async () => {
    const { server, url } = await startServer({ outboundBufferSize: 5000, maxQueuedPackets: 50, supportedProtocols: ['game'] })
    const game = { supportedProtocols: ['game'] }
    const a = await connectClient(url, game, [server])
    const b = await connectClient(url, game, [server])
    await admitted(server, [a.getUniqueId(), b.getUniqueId()])
    const peerA = server.getPeer(a.getUniqueId())!
    const peerB = server.getPeer(b.getUniqueId())!
    for (const peer of [peerA, peerB]) {
      expect(peer.outboundBufferSize).toBe(5000)
      expect(peer.maxQueuedPackets).toBe(50)
      expect(peer.supportedProtocols).toEqual(['game'])
    }
    server.outboundBufferSize = 7000
    peerA.maxQueuedPackets = 9
    expect(peerA.outboundBufferSize).toBe(5000)
    expect(peerA.maxQueuedPackets).toBe(9)
    expect(peerB.maxQueuedPackets).toBe(50)
    expect(server.maxQueuedPackets).toBe(50)
    const c = await connectClient(url, game, [server])
    await admitted(server, [c.getUniqueId()])
    expect(server.getPeer(c.getUniqueId())!.outboundBufferSize).toBe(7000)
    expect(server.getPeer(c.getUniqueId())!.maxQueuedPackets).toBe(50)
  })
})
