// wsmp clients (Node) on a real Godot 4 server (SceneMultiplayer over WebSocketMultiplayerPeer).
// Every wait is on an event, with a timeout; markers stand in for "nothing else came".
import { describe, expect } from 'vitest'
import { ConnectionStatus, ErrorCode, TLSOptions, TransferMode } from '@wsmp/server'
import { certFiles } from './support/certs.js'
import { GodotPeer, bigHex, godotIt, int32Hex, textHex, until } from './support/godot.js'
import { WsmpPeer } from './support/wsmp.js'

const text = (hex: string): string => Buffer.from(hex, 'hex').toString()

describe('wsmp client → Godot server: connecting', () => {
  godotIt('a wsmp client gets an id in 2 … 2^31−1 from a Godot server, which signals peer_connected(id); the client is CONNECTED with peer 1', async () => {
    const server = await GodotPeer.server('godot server')
    const client = await WsmpPeer.connected('wsmp A', server.url())
    expect(client.id).toBeGreaterThanOrEqual(2)
    expect(client.id).toBeLessThanOrEqual(2 ** 31 - 1)
    expect(client.status).toBe(ConnectionStatus.CONNECTED)
    await server.waitEvent('peer_connected', { id: client.id })
    expect(client.signals().sort()).toEqual(['connected_to_server', 'peer_connected 1'])
    expect(client.peer.isServerRelaySupported()).toBe(true)
    expect((await server.status()).peers).toEqual([client.id])
  })

  godotIt('announcements: two wsmp clients on a Godot server see each other (ADD_PEER) and the one that leaves (DEL_PEER); close() emits nothing on the leaver', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await WsmpPeer.connected('wsmp A', server.url())
    const b = await WsmpPeer.connected('wsmp B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    await b.waitEvent('peer_connected', { id: a.id })
    const bId = b.id
    const before = b.log.length
    b.peer.close()
    const left = await server.waitEvent('peer_disconnected', { id: bId })
    expect(left.code).toBe(1000) // wsmp's close() sends a close frame
    await a.waitEvent('peer_disconnected', { id: bId })
    expect(b.log.length).toBe(before)
    expect(b.status).toBe(ConnectionStatus.DISCONNECTED)
  })
})

describe('wsmp client → Godot server: packets', () => {
  godotIt('putPacket from a wsmp client to every target (1, 0, n, −n, −1) reaches exactly the addressed peers through the Godot server', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await WsmpPeer.connected('wsmp A', server.url())
    const b = await WsmpPeer.connected('wsmp B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    const sends: [number, string][] = [
      [1, 'to server'],
      [0, 'to all'],
      [b.id, 'to b'],
      [-b.id, 'all but b'],
      [-1, 'all but the server'],
      [0, 'end'],
    ]
    for (const [to, t] of sends) expect(a.send(to, textHex(t))).toBe(ErrorCode.OK)
    await server.waitPacket(a.id, textHex('end'))
    await b.waitPacket(a.id, textHex('end'))
    expect(server.all('peer_packet').map((e) => [e.from, text(e.hex as string)])).toEqual([
      [a.id, 'to server'],
      [a.id, 'to all'],
      [a.id, 'all but b'],
      [a.id, 'end'],
    ])
    expect(b.packets().map(([from, h]) => [from, text(h)])).toEqual([
      [a.id, 'to all'],
      [a.id, 'to b'],
      [a.id, 'all but the server'],
      [a.id, 'end'],
    ])
    expect(a.packets()).toEqual([])
  })

  godotIt('every transfer mode and channel from a wsmp client reaches the Godot server and, relayed, another client, in order', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await WsmpPeer.connected('wsmp A', server.url())
    const b = await WsmpPeer.connected('wsmp B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    const modes = [TransferMode.UNRELIABLE, TransferMode.UNRELIABLE_ORDERED, TransferMode.RELIABLE]
    for (const mode of modes) {
      for (const channel of [0, 3]) {
        expect(a.send(1, textHex(`m${mode} c${channel} to server`), mode, channel)).toBe(ErrorCode.OK)
        expect(a.send(b.id, textHex(`m${mode} c${channel} to b`), mode, channel)).toBe(ErrorCode.OK)
      }
    }
    await server.waitPacket(a.id, textHex('m2 c3 to server'))
    await b.waitPacket(a.id, textHex('m2 c3 to b'))
    const expected = (to: string): string[] => modes.flatMap((m) => [0, 3].map((c) => `m${m} c${c} to ${to}`))
    expect(server.all('peer_packet').map((e) => text(e.hex as string))).toEqual(expected('server'))
    expect(b.packets().map(([, h]) => text(h))).toEqual(expected('b'))
  })

  godotIt('send_bytes from the Godot server to every target (n, 0, −n) and mode reaches the wsmp clients as packets from 1', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await WsmpPeer.connected('wsmp A', server.url())
    const b = await WsmpPeer.connected('wsmp B', server.url())
    await server.waitEvent('peer_connected', { id: b.id })
    expect(await server.send(a.id, textHex('to a'), TransferMode.UNRELIABLE)).toBe(0)
    expect(await server.send(0, textHex('to all'), TransferMode.UNRELIABLE_ORDERED, 2)).toBe(0)
    expect(await server.send(-a.id, textHex('all but a'))).toBe(0)
    expect(await server.send(0, textHex('end'))).toBe(0)
    await a.waitPacket(1, textHex('end'))
    await b.waitPacket(1, textHex('end'))
    expect(a.packets().map(([from, h]) => [from, text(h)])).toEqual([
      [1, 'to a'],
      [1, 'to all'],
      [1, 'end'],
    ])
    expect(b.packets().map(([from, h]) => [from, text(h)])).toEqual([
      [1, 'to all'],
      [1, 'all but a'],
      [1, 'end'],
    ])
  })
})

describe('wsmp client → Godot server: kicking, refusing', () => {
  godotIt(
    'the Godot server kicks a wsmp client (multiplayer.disconnect_peer): close 1000 and server_disconnected on it, DEL_PEER to the others, no peer_disconnected on the Godot server',
    async () => {
      const server = await GodotPeer.server('godot server')
      const a = await WsmpPeer.connected('wsmp A', server.url())
      const b = await WsmpPeer.connected('wsmp B', server.url())
      await b.waitEvent('peer_connected', { id: a.id })
      await server.command({ cmd: 'kick', id: a.id })
      const kicked = await a.waitEvent('server_disconnected')
      expect(kicked.code).toBe(1000)
      expect(a.signals().slice(-2)).toEqual(['peer_disconnected 1', 'server_disconnected'])
      expect(a.status).toBe(ConnectionStatus.DISCONNECTED)
      await b.waitEvent('peer_disconnected', { id: a.id })
      // The transport's signal comes after SceneMultiplayer's (which it blocked) in the same emission.
      await server.waitEvent('transport_peer_disconnected', { id: a.id })
      expect(server.signals()).not.toContain(`peer_disconnected ${a.id}`)
    },
  )

  godotIt('the Godot server’s transport disconnect_peer(id): peer_disconnected there and DEL_PEER; with force: no signal, no DEL_PEER (Godot leaves a ghost)', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await WsmpPeer.connected('wsmp A', server.url())
    const b = await WsmpPeer.connected('wsmp B', server.url())
    const c = await WsmpPeer.connected('wsmp C', server.url())
    await c.waitEvent('peer_connected', { id: b.id })
    await c.waitEvent('peer_connected', { id: a.id })

    await server.command({ cmd: 'disconnect_peer', id: a.id, force: false })
    expect((await a.waitEvent('server_disconnected')).code).toBe(1000)
    await server.waitEvent('peer_disconnected', { id: a.id })
    await c.waitEvent('peer_disconnected', { id: a.id })

    await server.command({ cmd: 'disconnect_peer', id: b.id, force: true })
    expect((await b.waitEvent('server_disconnected')).code).toBe(1000)
    expect(await server.send(c.id, textHex('marker'))).toBe(0)
    await c.waitPacket(1, textHex('marker'))
    expect(server.signals()).not.toContain(`peer_disconnected ${b.id}`)
    expect(c.signals()).not.toContain(`peer_disconnected ${b.id}`)
  })

  godotIt('refuse_new_connections on the Godot server: a wsmp client gets no answer and fails on its handshake timeout; it joins once refusing stops', async () => {
    const server = await GodotPeer.server('godot server', { refuse: 1 })
    const refused = WsmpPeer.client('wsmp refused', server.url(), { handshakeTimeout: 1 })
    const failed = await refused.waitEvent('connection_failed')
    expect(failed.reason).toMatch(/timed out/)
    expect(refused.signals()).toEqual(['connection_failed'])
    expect(server.signals()).toEqual([])

    await server.command({ cmd: 'refuse', on: false })
    const late = await WsmpPeer.connected('wsmp late', server.url())
    await server.waitEvent('peer_connected', { id: late.id })
  })
})

describe('wsmp client → Godot server: limits, TLS, relay settings', () => {
  godotIt('a wsmp client’s message over the Godot server’s inbound_buffer_size closes it with 1009 (“Message too big”); the other clients stay', async () => {
    const server = await GodotPeer.server('godot server', { inbound: 1024 })
    const a = await WsmpPeer.connected('wsmp A', server.url())
    const b = await WsmpPeer.connected('wsmp B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    expect(a.send(1, bigHex(1023))).toBe(ErrorCode.OK) // 1024 framed: fits
    await server.waitPacket(a.id, bigHex(1023))
    expect(a.send(1, bigHex(1024))).toBe(ErrorCode.OK)
    const closed = await a.waitEvent('server_disconnected')
    expect(closed.code).toBe(1009)
    expect(closed.reason).toMatch(/1009/)
    const left = await server.waitEvent('peer_disconnected', { id: a.id })
    expect(left.code).toBe(1009)
    expect(left.reason).toBe('Message too big')
    await b.waitEvent('peer_disconnected', { id: a.id })
    expect(b.send(1, textHex('b fine'))).toBe(ErrorCode.OK)
    await server.waitPacket(b.id, textHex('b fine'))
  })

  godotIt('the Godot server’s message over a wsmp client’s inboundBufferSize closes that client with 1009, seen on both sides', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await WsmpPeer.connected('wsmp A', server.url(), { inboundBufferSize: 1024 })
    const b = await WsmpPeer.connected('wsmp B', server.url())
    await server.waitEvent('peer_connected', { id: b.id })
    expect(await server.send(a.id, bigHex(1023))).toBe(0)
    await a.waitPacket(1, bigHex(1023))
    expect(await server.send(a.id, bigHex(2000))).toBe(0)
    const closed = await a.waitEvent('server_disconnected')
    expect(closed.reason).toMatch(/1009/)
    expect(closed.reason).toMatch(/inboundBufferSize/)
    const left = await server.waitEvent('peer_disconnected', { id: a.id })
    expect(left.code).toBe(1009)
    await b.waitEvent('peer_disconnected', { id: a.id })
    expect(a.peer.getStats().dropped['oversize']).toBe(1)
  })

  godotIt('TLS: a wsmp Node client with TLSOptions.client(test CA) joins a Godot wss:// server (TLSOptions.server(key, cert)) and exchanges packets', async () => {
    const certs = certFiles()
    const server = await GodotPeer.server('godot wss server', { tls_key: certs.keyPath, tls_cert: certs.certPath })
    const a = await WsmpPeer.connected('wsmp tls A', server.url('wss'), {}, TLSOptions.client(certs.ca))
    const b = await WsmpPeer.connected('wsmp tls B', server.url('wss'), {}, TLSOptions.client(certs.ca))
    await a.waitEvent('peer_connected', { id: b.id })
    expect(a.send(1, textHex('secret to server'))).toBe(ErrorCode.OK)
    expect(a.send(b.id, textHex('secret to b'))).toBe(ErrorCode.OK)
    expect(await server.send(a.id, textHex('secret to a'))).toBe(0)
    await server.waitPacket(a.id, textHex('secret to server'))
    await b.waitPacket(a.id, textHex('secret to b'))
    await a.waitPacket(1, textHex('secret to a'))
  })

  godotIt('TLS: a wsmp client that does not trust the test CA cannot join the Godot wss:// server (connection_failed)', async () => {
    const certs = certFiles()
    const server = await GodotPeer.server('godot wss server', { tls_key: certs.keyPath, tls_cert: certs.certPath })
    const client = WsmpPeer.client('wsmp untrusting', server.url('wss'), {}, TLSOptions.client())
    const failed = await client.waitEvent('connection_failed')
    expect(failed.reason).toMatch(/certificate|self.signed|issuer/i)
    expect(server.signals()).toEqual([])
  })

  godotIt(
    'serverRelay false: a wsmp client with serverRelay false on a Godot server with server_relay = false sends to the server unwrapped and hears no announcements',
    async () => {
      const server = await GodotPeer.server('godot server', { relay: 0 })
      const a = await WsmpPeer.connected('wsmp A', server.url(), { serverRelay: false })
      const b = await WsmpPeer.connected('wsmp B', server.url(), { serverRelay: false })
      await server.waitEvent('peer_connected', { id: b.id })
      expect(a.send(0, textHex('broadcast from a'))).toBe(ErrorCode.OK)
      expect(a.send(b.id, textHex('to b'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
      expect(a.send(1, textHex('to server'))).toBe(ErrorCode.OK)
      await server.waitPacket(a.id, textHex('to server'))
      expect(server.all('peer_packet').map((e) => text(e.hex as string))).toEqual(['broadcast from a', 'to server'])
      expect(await server.send(0, textHex('from server'))).toBe(0)
      await a.waitPacket(1, textHex('from server'))
      await b.waitPacket(1, textHex('from server'))
      expect(b.packets()).toEqual([[1, textHex('from server')]])
      expect(a.signals().sort()).toEqual(['connected_to_server', 'peer_connected 1'])
      expect(b.signals().sort()).toEqual(['connected_to_server', 'peer_connected 1'])
    },
  )
})

describe('wsmp client → Godot server: relay settings that do not match', () => {
  godotIt(
    'a wsmp client left on serverRelay true against a Godot server with server_relay = false: its relayed broadcast is dropped whole there (as a Godot client’s), target 1 arrives',
    async () => {
      const server = await GodotPeer.server('godot server', { relay: 0 })
      const a = await WsmpPeer.connected('wsmp A', server.url())
      await server.waitEvent('peer_connected', { id: a.id })
      expect(a.send(0, textHex('relayed broadcast'))).toBe(ErrorCode.OK)
      expect(a.send(1, textHex('to server'))).toBe(ErrorCode.OK)
      await server.waitPacket(a.id, textHex('to server'))
      expect(server.all('peer_packet').map((e) => text(e.hex as string))).toEqual(['to server'])
      // Godot reports the drop on stderr (a separate pipe: waited for, not assumed in order).
      await until(() => server.stderr.some((line) => line.includes('_process_sys')), 'Godot’s error print for the dropped relay')
      expect(a.status).toBe(ConnectionStatus.CONNECTED)
    },
  )
})

describe('wsmp client → Godot server: relay edge cases and the server going away', () => {
  godotIt('a 1-byte inner packet that the Godot server forwards (it does) is dropped by the wsmp client, which stays connected', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await WsmpPeer.connected('wsmp A', server.url())
    const g = await GodotPeer.connected('godot G', server.url())
    await a.waitEvent('peer_connected', { id: g.id })
    expect(await g.put(1, `0703${int32Hex(a.id)}03`)).toBe(0)
    expect(await g.send(a.id, textHex('after'))).toBe(0)
    await a.waitPacket(g.id, textHex('after'))
    expect(a.packets()).toEqual([[g.id, textHex('after')]])
    expect(a.peer.getStats().dropped['malformed']).toBe(1)
    expect(a.status).toBe(ConnectionStatus.CONNECTED)
  })

  godotIt('the Godot server going away (process ends): the wsmp client emits peer_disconnected(1) then server_disconnected', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await WsmpPeer.connected('wsmp A', server.url())
    await server.waitEvent('peer_connected', { id: a.id })
    await server.kill()
    const gone = await a.waitEvent('server_disconnected')
    expect(gone.code).toBe(-1) // Godot drops the TCP connection, no close frame
    expect(a.signals().slice(-2)).toEqual(['peer_disconnected 1', 'server_disconnected'])
    expect(a.status).toBe(ConnectionStatus.DISCONNECTED)
  })
})
