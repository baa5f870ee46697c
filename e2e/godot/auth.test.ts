// SceneMultiplayer auth where only the Godot side has an auth_callback: each side applies auth on
// its own, as between Godot peers. The full auth exchange is in auth-both-sides.test.ts.
import { describe, expect } from 'vitest'
import { GodotPeer, godotIt, textHex } from './support/godot.js'
import { WsmpPeer } from './support/wsmp.js'

describe('auth on the Godot side only', () => {
  godotIt('a wsmp client without authCallback on a Godot server with auth_callback: never admitted there, its packets ignored, dropped after auth_timeout', async () => {
    const server = await GodotPeer.server('godot server', { auth: 1, auth_timeout: 1 })
    const client = WsmpPeer.client('wsmp A', server.url())
    // Like a Godot client without a callback, the wsmp client admits the server at once…
    await client.waitEvent('connected_to_server')
    const id = client.id
    await server.waitEvent('peer_authenticating', { id })
    // …but the server keeps it pending: a packet from it is not a peer_packet there.
    client.send(1, textHex('too early'))
    await server.waitEvent('peer_authentication_failed', { id })
    await client.waitEvent('server_disconnected')
    expect(server.all('peer_packet')).toEqual([])
    expect(server.signals()).toEqual([`peer_authenticating ${id}`, `peer_authentication_failed ${id}`])
  })

  godotIt('a Godot client with auth_callback on a wsmp server without one: the client never admits the server and leaves after its auth_timeout', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const g = await GodotPeer.client('godot A', server.url(), { auth: 1, auth_timeout: 1 })
    await g.waitEvent('peer_authenticating', { id: 1 })
    const id = (await server.waitEvent('peer_connected')).id as number
    // The server's packets are not peer_packets for a client that has not admitted it.
    server.send(id, textHex('too early'))
    await g.waitEvent('server_disconnected')
    expect(g.signals()).toEqual(['peer_authenticating 1', 'peer_authentication_failed 1', 'server_disconnected'])
    expect(g.all('peer_packet')).toEqual([])
    await server.waitEvent('peer_disconnected', { id })
  })
})
