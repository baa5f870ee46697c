// Where wsmp once differed from Godot 4 (reference/godot4-source.md, part A.5): each test asserts
// what the real engine does (see godot-baseline.test.ts for the same case between Godot peers), or
// — for a difference wsmp keeps on purpose (README "Differences from Godot") — wsmp's stated rule.
import { describe, expect } from 'vitest'
import { ConnectionStatus, ErrorCode } from '@wsmp/server'
import { GodotPeer, godotIt, textHex } from './support/godot.js'
import { WsmpPeer } from './support/wsmp.js'

describe('Godot 4’s order and edge cases (A.5)', () => {
  godotIt('connect order (A.5 item 5, DESIGN table): a wsmp client on a Godot server emits connected_to_server, then peer_connected(1)', async () => {
    const server = await GodotPeer.server('godot server')
    const client = await WsmpPeer.connected('wsmp A', server.url())
    await client.waitEvent('peer_connected', { id: 1 })
    expect(client.signals().slice(0, 2)).toEqual(['connected_to_server', 'peer_connected 1'])
  })

  godotIt(
    'forced local disconnect (A.5 item 8): a wsmp client’s disconnectPeer(1, true) is DISCONNECTED at once and emits server_disconnected at the next poll, as Godot',
    async () => {
      const server = await GodotPeer.server('godot server')
      const client = await WsmpPeer.connected('wsmp A', server.url())
      const id = client.id
      await server.waitEvent('peer_connected', { id })
      client.peer.disconnectPeer(1, true)
      expect(client.status).toBe(ConnectionStatus.DISCONNECTED)
      await server.waitEvent('peer_disconnected', { id })
      await client.waitEvent('server_disconnected', {}, 5_000)
      expect(client.signals().filter((s) => s === 'server_disconnected')).toHaveLength(1)
    },
  )

  godotIt('relay to oneself through a wsmp server (A.5 item 15, DESIGN decision): a Godot client’s send_bytes to its own id is echoed back from its own id', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    expect(await a.send(a.id, textHex('to myself'))).toBe(0)
    expect(await a.send(b.id, textHex('marker'))).toBe(0)
    await b.waitPacket(a.id, textHex('marker'))
    await a.waitPacket(a.id, textHex('to myself'), 5_000)
    expect(server.packets()).toEqual([])
    expect(b.all('peer_packet').map((e) => e.hex)).toEqual([textHex('marker')])
  })

  godotIt(
    'relay to oneself from a wsmp client through a Godot server (A.5 item 15, DESIGN decision): putPacket to its own id is OK and the echo arrives from its own id',
    async () => {
      const server = await GodotPeer.server('godot server')
      const a = await WsmpPeer.connected('wsmp A', server.url())
      await server.waitEvent('peer_connected', { id: a.id })
      expect(a.send(a.id, textHex('to myself'))).toBe(ErrorCode.OK)
      await a.waitPacket(a.id, textHex('to myself'), 5_000)
      expect(server.all('peer_packet')).toEqual([])
    },
  )

  godotIt(
    'the Godot server going away with other peers in the room (A.5 item 6, a kept difference): the wsmp client emits peer_disconnected for every peer it was told of, then for 1, then server_disconnected; the Godot client only the last two',
    async () => {
      const server = await GodotPeer.server('godot server')
      const a = await WsmpPeer.connected('wsmp A', server.url())
      const g = await GodotPeer.connected('godot G', server.url())
      await a.waitEvent('peer_connected', { id: g.id })
      await server.kill()
      await a.waitEvent('server_disconnected')
      await g.waitEvent('server_disconnected')
      // wsmp: nobody keeps a ghost (README "Differences from Godot"); Godot clears the others silently.
      expect(a.signals().slice(2)).toEqual([`peer_connected ${g.id}`, `peer_disconnected ${g.id}`, 'peer_disconnected 1', 'server_disconnected'])
    },
  )
})
