// Godot ↔ Godot: what the engine itself does in the cases where wsmp differs today (or where the
// expectation of a wsmp test rests on Godot's behaviour). These are the evidence behind the
// godot-behaviour and auth-both-sides tests: if the engine changed, these fail first.
import { describe, expect } from 'vitest'
import { GodotPeer, godotIt, int32Hex, textHex, until } from './support/godot.js'

describe('Godot ↔ Godot baseline', () => {
  godotIt('connect: a Godot client emits connected_to_server, then peer_connected(1), then ADD_PEER’s peer_connected', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await b.waitEvent('peer_connected', { id: a.id })
    expect(b.signals()).toEqual(['connected_to_server', 'peer_connected 1', `peer_connected ${a.id}`])
  })

  godotIt('a client’s disconnect_peer(1, true): DISCONNECTED at once, server_disconnected at the next poll (no peer_disconnected(1))', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await GodotPeer.connected('godot A', server.url())
    await server.waitEvent('peer_connected', { id: a.id })
    await a.command({ cmd: 'disconnect_peer', id: 1, force: true })
    await a.waitEvent('server_disconnected')
    expect(a.signals()).toEqual(['connected_to_server', 'peer_connected 1', 'server_disconnected'])
    expect((await a.status()).status).toBe(0)
    await server.waitEvent('peer_disconnected', { id: a.id })
  })

  godotIt('relay to oneself: the Godot server echoes send_bytes(x, own id) back, stamped with the sender’s id', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await GodotPeer.connected('godot A', server.url())
    expect(await a.send(a.id, textHex('to myself'))).toBe(0)
    await a.waitPacket(a.id, textHex('to myself'))
    expect(server.all('peer_packet')).toEqual([])
  })

  godotIt('the server going away: a client emits peer_disconnected(1) and server_disconnected, and nothing for the other peers it knew', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    await server.kill()
    await a.waitEvent('server_disconnected')
    expect(a.signals()).toEqual(['connected_to_server', 'peer_connected 1', `peer_connected ${b.id}`, 'peer_disconnected 1', 'server_disconnected'])
  })

  godotIt('relay edge cases on a Godot server: a RELAY to 1 is dropped; a 1-byte inner packet is forwarded and the receiver rejects it', async () => {
    const server = await GodotPeer.server('godot server')
    const a = await GodotPeer.connected('godot A', server.url())
    const b = await GodotPeer.connected('godot B', server.url())
    await a.waitEvent('peer_connected', { id: b.id })
    expect(await a.put(1, `0703${int32Hex(1)}03${textHex('relayed to 1')}`)).toBe(0)
    expect(await a.put(1, `0703${int32Hex(b.id)}03`)).toBe(0)
    expect(await a.send(1, textHex('marker'))).toBe(0)
    expect(await a.send(b.id, textHex('marker'))).toBe(0)
    await server.waitPacket(a.id, textHex('marker'))
    await b.waitPacket(a.id, textHex('marker'))
    expect(server.all('peer_packet').map((e) => e.hex)).toEqual([textHex('marker')])
    expect(b.all('peer_packet').map((e) => e.hex)).toEqual([textHex('marker')])
    // B's SceneMultiplayer rejects the forwarded [0x03] (stderr: a separate pipe, so waited for).
    await until(() => b.stderr.some((line) => line.includes('Size too small')), 'B’s error print for the 1-byte packet')
  })

  godotIt(
    'auth between Godot peers: admitted after both complete (connected_to_server, peer_connected(1)); a client never completed fails with peer_authentication_failed(1), then server_disconnected',
    async () => {
      const server = await GodotPeer.server('godot server', { auth: 1, auth_timeout: 1 })
      const good = await GodotPeer.client('godot good', server.url(), { auth: 1 })
      await good.waitEvent('peer_authenticating', { id: 1 })
      const goodId = (await server.waitEvent('peer_authenticating')).id as number
      expect((await good.command({ cmd: 'send_auth', id: 1, hex: textHex('token') })).err).toBe(0)
      await server.waitEvent('auth_data', { from: goodId, hex: textHex('token') })
      expect((await server.command({ cmd: 'send_auth', id: goodId, hex: textHex('welcome') })).err).toBe(0)
      await good.waitEvent('auth_data', { from: 1, hex: textHex('welcome') })
      expect((await server.command({ cmd: 'complete_auth', id: goodId })).err).toBe(0)
      expect((await good.command({ cmd: 'complete_auth', id: 1 })).err).toBe(0)
      await good.waitEvent('peer_connected', { id: 1 })
      await server.waitEvent('peer_connected', { id: goodId })
      expect(good.signals()).toEqual(['peer_authenticating 1', 'connected_to_server', 'peer_connected 1'])

      const bad = await GodotPeer.client('godot bad', server.url(), { auth: 1 })
      await bad.waitEvent('peer_authenticating', { id: 1 })
      const badId = (await server.waitFor((e) => e.ev === 'peer_authenticating' && e.id !== goodId, 'the second client')).id as number
      expect((await bad.command({ cmd: 'send_auth', id: 1, hex: textHex('wrong') })).err).toBe(0)
      await server.waitEvent('peer_authentication_failed', { id: badId })
      await bad.waitEvent('server_disconnected')
      expect(bad.signals()).toEqual(['peer_authenticating 1', 'peer_authentication_failed 1', 'server_disconnected'])
      // The admitted peer never heard of the one that failed.
      expect(good.signals()).toEqual(['peer_authenticating 1', 'connected_to_server', 'peer_connected 1'])
    },
  )
})
