// Godot 4 clients (the real engine, SceneMultiplayer over WebSocketMultiplayerPeer) on a wsmp
// Node server. Every wait is on an event, with a timeout; markers stand in for "nothing else came".
import { describe, expect } from 'vitest'
import { ConnectionStatus, ErrorCode, TransferMode } from '@wsmp/server'
import { certFiles } from './support/certs.js'
import { GodotPeer, bigHex, godotIt, int32Hex, textHex } from './support/godot.js'
import { WsmpPeer } from './support/wsmp.js'

const byNumber = (a: number, b: number): number => a - b

describe('Godot client → wsmp server: connecting', () => {
  godotIt('a Godot client gets an id in 2 … 2^31−1, signals connected_to_server then peer_connected(1), and the server signals peer_connected(id)', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const godot = await GodotPeer.connected('godot A', server.url())
    expect(godot.id).toBeGreaterThanOrEqual(2)
    expect(godot.id).toBeLessThanOrEqual(2 ** 31 - 1)
    await server.waitEvent('peer_connected', { id: godot.id })
    await godot.waitEvent('peer_connected', { id: 1 })
    // Godot's own order on the id: connected_to_server right before peer_connected(1).
    expect(godot.signals()).toEqual(['connected_to_server', 'peer_connected 1'])
    expect(await godot.status()).toEqual({ status: 2, id: godot.id, peers: [1] })
    expect(server.peer.getPeerAddress(godot.id)).toBe('127.0.0.1')
    expect(server.peer.getPeerPort(godot.id)).toBeGreaterThan(0)
  })

  godotIt('announcements: Godot clients hear ADD_PEER for each other and DEL_PEER when one leaves', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    await b.waitEvent('peer_connected', { id: a.id })
    const c = await GodotPeer.connected('godot C', server.url())
    await c.waitEvent('peer_connected', { id: a.id })
    await c.waitEvent('peer_connected', { id: b.id })
    await a.waitEvent('peer_connected', { id: c.id })
    await b.waitEvent('peer_connected', { id: c.id })
    expect((await b.status()).peers).toEqual([1, a.id, c.id].sort(byNumber))

    await b.quit()
    await server.waitEvent('peer_disconnected', { id: b.id })
    await a.waitEvent('peer_disconnected', { id: b.id })
    await c.waitEvent('peer_disconnected', { id: b.id })
    expect((await a.status()).peers).toEqual([1, c.id].sort(byNumber))
    expect(a.signals().filter((s) => s.startsWith('peer_disconnected'))).toEqual([`peer_disconnected ${b.id}`])
  })
})

describe('Godot client → wsmp server: packets', () => {
  godotIt('send_bytes from a Godot client to every target (1, 0, n, −n, −1) reaches exactly the addressed peers', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    const c = await GodotPeer.connected('godot C', server.url())
    await a.waitEvent('peer_connected', { id: c.id })
    await b.waitEvent('peer_connected', { id: c.id })
    await c.waitEvent('peer_connected', { id: b.id })

    const sends: [number, string][] = [
      [1, 'to server'],
      [0, 'to all'],
      [b.id, 'to b'],
      [-b.id, 'all but b'],
      [-1, 'all but the server'],
      [0, 'end'],
    ]
    for (const [to, text] of sends) expect(await a.send(to, textHex(text))).toBe(0)
    await server.waitPacket(a.id, textHex('end'))
    await b.waitPacket(a.id, textHex('end'))
    await c.waitPacket(a.id, textHex('end'))

    const texts = (hexes: string[]): string[] => hexes.map((h) => Buffer.from(h, 'hex').toString())
    expect(server.packets().map(([from]) => from)).toEqual([a.id, a.id, a.id, a.id])
    expect(texts(server.packets().map(([, h]) => h))).toEqual(['to server', 'to all', 'all but b', 'end'])
    expect(b.all('peer_packet').every((e) => e.from === a.id)).toBe(true)
    expect(texts(b.all('peer_packet').map((e) => e.hex as string))).toEqual(['to all', 'to b', 'all but the server', 'end'])
    expect(texts(c.all('peer_packet').map((e) => e.hex as string))).toEqual(['to all', 'all but b', 'all but the server', 'end'])
    expect(a.all('peer_packet')).toEqual([])
  })

  godotIt('every transfer mode and channel: a Godot client’s packets to the server and to a peer, and the server’s to it, arrive whole and in order', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    const modes = [TransferMode.UNRELIABLE, TransferMode.UNRELIABLE_ORDERED, TransferMode.RELIABLE]
    for (const mode of modes) {
      expect(await a.send(1, textHex(`mode ${mode} to server`), mode, mode + 1)).toBe(0)
      expect(await a.send(b.id, textHex(`mode ${mode} to b`), mode, mode + 1)).toBe(0)
      expect(server.send(a.id, textHex(`mode ${mode} from server`), mode, mode + 1)).toBe(ErrorCode.OK)
    }
    await server.waitPacket(a.id, textHex('mode 2 to server'))
    await b.waitPacket(a.id, textHex('mode 2 to b'))
    await a.waitPacket(1, textHex('mode 2 from server'))
    expect(server.packets()).toEqual(modes.map((m) => [a.id, textHex(`mode ${m} to server`)]))
    expect(b.all('peer_packet').map((e) => e.hex)).toEqual(modes.map((m) => textHex(`mode ${m} to b`)))
    expect(a.all('peer_packet').map((e) => e.hex)).toEqual(modes.map((m) => textHex(`mode ${m} from server`)))
  })

  godotIt('the wsmp server’s putPacket to every target (n, 0, −n) reaches the Godot clients as peer_packet from 1; target 1 is refused', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await server.waitEvent('peer_connected', { id: b.id })
    expect(server.send(a.id, textHex('to a'))).toBe(ErrorCode.OK)
    expect(server.send(0, textHex('to all'))).toBe(ErrorCode.OK)
    expect(server.send(-a.id, textHex('all but a'))).toBe(ErrorCode.OK)
    expect(server.send(1, textHex('to itself'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(server.send(0, textHex('end'))).toBe(ErrorCode.OK)
    await a.waitPacket(1, textHex('end'))
    await b.waitPacket(1, textHex('end'))
    expect(a.all('peer_packet').map((e) => [e.from, e.hex])).toEqual([
      [1, textHex('to a')],
      [1, textHex('to all')],
      [1, textHex('end')],
    ])
    expect(b.all('peer_packet').map((e) => [e.from, e.hex])).toEqual([
      [1, textHex('to all')],
      [1, textHex('all but a')],
      [1, textHex('end')],
    ])
  })

  godotIt('client↔client rpc() and rpc_id() between two Godot clients are relayed by the wsmp server', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    await b.waitEvent('peer_connected', { id: a.id })

    // rpc() to everyone: B gets it through the relay (the server's own share is not RAW and is dropped).
    expect((await a.command({ cmd: 'rpc', method: 'hello', args: ['hi from a', 7] })).err).toBe(0)
    const hello = await b.waitEvent('rpc', { method: 'hello', from: a.id })
    expect(hello['args']).toEqual(['hi from a', 7])
    // rpc_id() to one peer, both ways, with bytes.
    expect((await b.command({ cmd: 'rpc', method: 'ping', to: a.id, hex: 'c0ffee' })).err).toBe(0)
    const ping = await a.waitEvent('rpc', { method: 'ping', from: b.id })
    expect(ping['args']).toEqual(['c0ffee'])
    expect((await a.command({ cmd: 'rpc', method: 'hello', to: b.id, args: ['again', -3] })).err).toBe(0)
    await b.waitFor((e) => e.ev === 'rpc' && e.from === a.id && (e['args'] as unknown[])[0] === 'again', 'the second hello')
    expect(b.all('rpc')).toHaveLength(2)
    // Both stay connected and the server still talks to them.
    expect(server.send(0, textHex('still here'))).toBe(ErrorCode.OK)
    await a.waitPacket(1, textHex('still here'))
    await b.waitPacket(1, textHex('still here'))
  })
})

describe('Godot client → wsmp server: leaving and kicking', () => {
  godotIt('a Godot client leaving: close() (no close frame) and disconnect_peer(1) (close 1000) are both seen by the server and the others', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    const c = await GodotPeer.connected('godot C', server.url())
    await c.waitEvent('peer_connected', { id: b.id })

    await a.command({ cmd: 'close' })
    const aLeft = await server.waitEvent('peer_disconnected', { id: a.id })
    expect(aLeft.code).toBe(-1) // the TCP connection dropped, no close frame (Godot's close())
    await c.waitEvent('peer_disconnected', { id: a.id })

    await b.command({ cmd: 'disconnect_peer', id: 1 })
    const bLeft = await server.waitEvent('peer_disconnected', { id: b.id })
    expect(bLeft.code).toBe(1000)
    await c.waitEvent('peer_disconnected', { id: b.id })
    // B itself: peer_disconnected(1), then server_disconnected.
    await b.waitEvent('server_disconnected')
    expect(b.signals().slice(-2)).toEqual(['peer_disconnected 1', 'server_disconnected'])
    expect((await c.status()).peers).toEqual([1])
  })

  godotIt('the wsmp server kicks a Godot client (disconnectPeer): it sees close 1000 and server_disconnected, the others get DEL_PEER, the server peer_disconnected', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await b.waitEvent('peer_connected', { id: a.id })
    server.peer.disconnectPeer(a.id)
    const kicked = await a.waitEvent('server_disconnected')
    expect(kicked.code).toBe(1000)
    expect(a.signals().slice(-2)).toEqual(['peer_disconnected 1', 'server_disconnected'])
    await b.waitEvent('peer_disconnected', { id: a.id })
    await server.waitEvent('peer_disconnected', { id: a.id })
  })

  godotIt('a forced kick (disconnectPeer(id, true)): no peer_disconnected on the wsmp server, yet the other Godot clients get DEL_PEER', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await b.waitEvent('peer_connected', { id: a.id })
    server.peer.disconnectPeer(a.id, true)
    await a.waitEvent('server_disconnected')
    await b.waitEvent('peer_disconnected', { id: a.id })
    // A later event on the server marks "everything before it was signalled".
    expect(await b.send(1, textHex('marker'))).toBe(0)
    await server.waitPacket(b.id, textHex('marker'))
    expect(server.signals()).not.toContain(`peer_disconnected ${a.id}`)
    expect(server.peer.getPeer(a.id)).toBeNull()
  })

  godotIt('refuseNewConnections on the wsmp server: a Godot client fails at once (HTTP 503, not its handshake timeout) and joins once refusing stops', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const inside = await GodotPeer.connected('godot inside', server.url())
    server.peer.refuseNewConnections = true
    // A 30 s handshake timeout: only the refusal itself can fail this client within the wait.
    const refused = await GodotPeer.client('godot refused', server.url(), { handshake_timeout: 30 })
    await refused.waitEvent('connection_failed', {}, 10_000)
    expect(refused.signals()).toEqual(['connection_failed'])
    expect(server.signals().filter((s) => s.startsWith('peer_connected'))).toEqual([`peer_connected ${inside.id}`])

    server.peer.refuseNewConnections = false
    const late = await GodotPeer.connected('godot late', server.url())
    await server.waitEvent('peer_connected', { id: late.id })
    await inside.waitEvent('peer_connected', { id: late.id })
  })
})

describe('Godot client → wsmp server: limits, TLS, relay settings', () => {
  godotIt('a Godot client’s message over the wsmp server’s inboundBufferSize closes it with 1009; the other clients stay', async () => {
    const server = await WsmpPeer.server('wsmp server', { inboundBufferSize: 1024 })
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    expect(await a.send(1, bigHex(1024))).toBe(0) // 1025 bytes on the wire: one over
    const closed = await a.waitEvent('server_disconnected')
    expect(closed.code).toBe(1009)
    await server.waitEvent('peer_disconnected', { id: a.id })
    expect(server.peer.getStats().dropped['oversize']).toBe(1)
    await b.waitEvent('peer_disconnected', { id: a.id })
    // The limit itself: 1023 bytes of payload (1024 framed) pass.
    expect(await b.send(1, bigHex(1023))).toBe(0)
    await server.waitPacket(b.id, bigHex(1023))
    expect(b.all('server_disconnected')).toEqual([])
  })

  godotIt('the wsmp server’s message over a Godot client’s inbound_buffer_size closes that client with 1009, seen on both sides', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url(), { inbound: 1024 })
    const b = await GodotPeer.connected('godot B', server.url())
    await server.waitEvent('peer_connected', { id: b.id })
    expect(server.send(a.id, bigHex(1023))).toBe(ErrorCode.OK) // 1024 framed: fits
    await a.waitPacket(1, bigHex(1023))
    expect(server.send(a.id, bigHex(2000))).toBe(ErrorCode.OK)
    const closed = await a.waitEvent('server_disconnected')
    expect(closed.code).toBe(1009)
    expect(closed.reason).toBe('Message too big')
    const left = await server.waitEvent('peer_disconnected', { id: a.id })
    expect(left.code).toBe(1009)
    await b.waitEvent('peer_disconnected', { id: a.id })
  })

  godotIt('TLS: a Godot client with TLSOptions.client(test CA) joins a wsmp wss:// server and exchanges packets both ways', async () => {
    const certs = certFiles()
    const server = await WsmpPeer.server('wsmp wss server', {}, { key: certs.key, cert: certs.cert })
    const a = await GodotPeer.connected('godot tls A', server.url('wss'), { ca: certs.caPath })
    const b = await GodotPeer.connected('godot tls B', server.url('wss'), { ca: certs.caPath })
    await server.waitEvent('peer_connected', { id: a.id })
    await a.waitEvent('peer_connected', { id: b.id })
    expect(await a.send(1, textHex('secret to server'))).toBe(0)
    expect(await a.send(b.id, textHex('secret to b'))).toBe(0)
    expect(server.send(a.id, textHex('secret to a'))).toBe(ErrorCode.OK)
    await server.waitPacket(a.id, textHex('secret to server'))
    await b.waitPacket(a.id, textHex('secret to b'))
    await a.waitPacket(1, textHex('secret to a'))
  })

  godotIt('TLS: a Godot client that does not trust the test CA cannot join the wsmp wss:// server (connection_failed)', async () => {
    const certs = certFiles()
    const server = await WsmpPeer.server('wsmp wss server', {}, { key: certs.key, cert: certs.cert })
    const g = await GodotPeer.client('godot untrusting', server.url('wss'))
    await g.waitEvent('connection_failed')
    expect(g.signals()).toEqual(['connection_failed'])
    expect(server.signals()).toEqual([])
  })

  godotIt('serverRelay false on the wsmp server with Godot clients on server_relay = false: no announcements, broadcasts reach the server only', async () => {
    const server = await WsmpPeer.server('wsmp server', { serverRelay: false })
    const a = await GodotPeer.connected('godot A', server.url(), { relay: 0 })
    const b = await GodotPeer.connected('godot B', server.url(), { relay: 0 })
    await server.waitEvent('peer_connected', { id: b.id })
    expect(await a.send(0, textHex('broadcast from a'))).toBe(0) // unwrapped: only the server
    // Without relay a Godot client knows only the server: another client's id is not a target.
    expect(await a.send(b.id, textHex('to b'))).not.toBe(0)
    expect(await a.send(1, textHex('to server'))).toBe(0)
    await server.waitPacket(a.id, textHex('to server'))
    expect(server.packets()).toEqual([
      [a.id, textHex('broadcast from a')],
      [a.id, textHex('to server')],
    ])
    expect(server.send(0, textHex('from server'))).toBe(ErrorCode.OK)
    await b.waitPacket(1, textHex('from server'))
    await a.waitPacket(1, textHex('from server'))
    expect(b.all('peer_packet').map((e) => e.hex)).toEqual([textHex('from server')])
    expect(a.signals()).toEqual(['connected_to_server', 'peer_connected 1'])
    expect(b.signals()).toEqual(['connected_to_server', 'peer_connected 1'])
    expect((await a.status()).peers).toEqual([1])
  })
})

describe('Godot client → wsmp server: relay settings that do not match', () => {
  godotIt(
    'serverRelay false on the wsmp server with Godot clients left on server_relay = true: no announcements; the server still gets its share of a relayed broadcast (DESIGN), nothing is forwarded',
    async () => {
      const server = await WsmpPeer.server('wsmp server', { serverRelay: false })
      const a = await GodotPeer.connected('godot A', server.url())
      const b = await GodotPeer.connected('godot B', server.url())
      await server.waitEvent('peer_connected', { id: b.id })
      expect(await a.send(0, textHex('relayed broadcast'))).toBe(0) // wrapped in RELAY by Godot
      expect(await a.send(-b.id, textHex('all but b'))).toBe(0)
      expect(await a.send(1, textHex('to server'))).toBe(0)
      await server.waitPacket(a.id, textHex('to server'))
      expect(server.packets().map(([, h]) => h)).toEqual([textHex('relayed broadcast'), textHex('all but b'), textHex('to server')])
      expect(server.send(b.id, textHex('marker'))).toBe(ErrorCode.OK)
      await b.waitPacket(1, textHex('marker'))
      expect(b.all('peer_packet').map((e) => e.hex)).toEqual([textHex('marker')])
      expect(a.signals()).toEqual(['connected_to_server', 'peer_connected 1'])
      expect(b.signals()).toEqual(['connected_to_server', 'peer_connected 1'])
    },
  )
})

describe('Godot client → wsmp server: relay edge cases (godot4-source.md A.5 item 15)', () => {
  godotIt(
    'a RELAY addressed to 1 (a raw transport packet from a Godot client) reaches the wsmp server application (DESIGN: packets addressed to the server reach it; a Godot server drops it)',
    async () => {
      const server = await WsmpPeer.server('wsmp server')
      const a = await GodotPeer.connected('godot A', server.url())
      await server.waitEvent('peer_connected', { id: a.id })
      expect(await a.put(1, `0703${int32Hex(1)}03${textHex('relayed to 1')}`)).toBe(0)
      await server.waitPacket(a.id, textHex('relayed to 1'))
      expect(server.packets()).toEqual([[a.id, textHex('relayed to 1')]])
    },
  )

  godotIt('a 1-byte inner packet ([0x03] alone) relayed by a Godot client is dropped by the wsmp server; the sender stays connected', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    expect(await a.put(1, `0703${int32Hex(b.id)}03`)).toBe(0)
    expect(await a.put(1, `0703${int32Hex(0)}03`)).toBe(0)
    expect(await a.send(b.id, textHex('after'))).toBe(0)
    await b.waitPacket(a.id, textHex('after'))
    expect(b.all('peer_packet').map((e) => e.hex)).toEqual([textHex('after')])
    // Nothing malformed reached B's SceneMultiplayer (Godot prints "Size too small" for one).
    expect(b.stderr.join('\n')).not.toContain('Size too small')
    expect(server.peer.getStats().dropped['malformed']).toBe(2)
    expect(server.packets()).toEqual([])
    expect(server.peer.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    expect(await a.send(1, textHex('still connected'))).toBe(0)
    await server.waitPacket(a.id, textHex('still connected'))
  })
})
