// SceneMultiplayer auth (SYS cmd 0) between wsmp and the real engine, both directions, through
// DESIGN.md's API (authCallback, authTimeout, sendAuth, completeAuth, 'peer_authenticating',
// 'peer_authentication_failed').
import { describe, expect } from 'vitest'
import { ErrorCode, type WebSocketMultiplayerPeer } from '@wsmp/server'
import { GodotPeer, godotIt, textHex, toHex, until } from './support/godot.js'
import { WsmpPeer } from './support/wsmp.js'

const auth = (peer: WebSocketMultiplayerPeer): WebSocketMultiplayerPeer => peer
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** authCallback options that record what arrives as [from, hex]. */
function recorder(): { received: [number, string][]; options: Record<string, unknown> } {
  const received: [number, string][] = []
  return { received, options: { authCallback: (id: number, data: Uint8Array) => received.push([id, toHex(data)]) } }
}

describe('SceneMultiplayer auth with the real engine', () => {
  godotIt('a Godot server with auth_callback and a wsmp client with authCallback: data both ways, both complete, then admitted in Godot’s order', async () => {
    const server = await GodotPeer.server('godot server', { auth: 1, auth_timeout: 5 })
    const { received, options } = recorder()
    const client = WsmpPeer.client('wsmp A', server.url(), { ...options, authTimeout: 5 })
    await client.waitEvent('peer_authenticating', { id: 1 })
    const id = (await server.waitEvent('peer_authenticating')).id as number
    expect(client.signals()).toEqual(['peer_authenticating 1'])

    expect(auth(client.peer).sendAuth(1, bytes('token'))).toBe(ErrorCode.OK)
    await server.waitEvent('auth_data', { from: id, hex: textHex('token') })
    expect((await server.command({ cmd: 'send_auth', id, hex: textHex('welcome') })).err).toBe(0)
    await until(() => received.length > 0, 'the Godot server’s auth data at the wsmp client')
    expect(received).toEqual([[1, textHex('welcome')]])
    expect((await server.command({ cmd: 'complete_auth', id })).err).toBe(0)
    expect(client.signals()).toEqual(['peer_authenticating 1']) // admitted only once both completed
    expect(auth(client.peer).completeAuth(1)).toBe(ErrorCode.OK)

    await client.waitEvent('peer_connected', { id: 1 })
    expect(client.signals()).toEqual(['peer_authenticating 1', 'connected_to_server', 'peer_connected 1'])
    await server.waitEvent('peer_connected', { id })
    expect(client.send(1, textHex('after auth'))).toBe(ErrorCode.OK)
    await server.waitPacket(id, textHex('after auth'))
    expect(await server.send(id, textHex('welcome in'))).toBe(0)
    await client.waitPacket(1, textHex('welcome in'))
  })

  godotIt('a Godot client with auth_callback and a wsmp server with authCallback: data both ways, both complete, then admitted', async () => {
    const { received, options } = recorder()
    const server = await WsmpPeer.server('wsmp server', { ...options, authTimeout: 5 })
    const g = await GodotPeer.client('godot A', server.url(), { auth: 1 })
    await g.waitEvent('peer_authenticating', { id: 1 })
    const id = (await server.waitEvent('peer_authenticating')).id as number
    expect(id).toBeGreaterThanOrEqual(2)

    expect((await g.command({ cmd: 'send_auth', id: 1, hex: textHex('token') })).err).toBe(0)
    await until(() => received.length > 0, 'the Godot client’s auth data at the wsmp server')
    expect(received).toEqual([[id, textHex('token')]])
    expect(auth(server.peer).sendAuth(id, bytes('welcome'))).toBe(ErrorCode.OK)
    await g.waitEvent('auth_data', { from: 1, hex: textHex('welcome') })
    expect(auth(server.peer).completeAuth(id)).toBe(ErrorCode.OK)
    expect(server.signals()).toEqual([`peer_authenticating ${id}`])
    expect((await g.command({ cmd: 'complete_auth', id: 1 })).err).toBe(0)

    await g.waitEvent('peer_connected', { id: 1 })
    expect(g.signals()).toEqual(['peer_authenticating 1', 'connected_to_server', 'peer_connected 1'])
    await server.waitEvent('peer_connected', { id })
    expect(await g.send(1, textHex('after auth'))).toBe(0)
    await server.waitPacket(id, textHex('after auth'))
  })

  godotIt(
    'auth failure: a Godot server that never completes drops the wsmp client after auth_timeout — peer_authentication_failed on both sides, never connected_to_server',
    async () => {
      const server = await GodotPeer.server('godot server', { auth: 1, auth_timeout: 1 })
      const { options } = recorder()
      const client = WsmpPeer.client('wsmp A', server.url(), { ...options, authTimeout: 30 })
      await client.waitEvent('peer_authenticating', { id: 1 })
      const id = (await server.waitEvent('peer_authenticating')).id as number
      expect(auth(client.peer).sendAuth(1, bytes('wrong token'))).toBe(ErrorCode.OK)
      expect(auth(client.peer).completeAuth(1)).toBe(ErrorCode.OK)
      await server.waitEvent('auth_data', { from: id, hex: textHex('wrong token') })
      await server.waitEvent('peer_authentication_failed', { id })
      await client.waitEvent('server_disconnected')
      expect(client.signals()).toEqual(['peer_authenticating 1', 'peer_authentication_failed 1', 'server_disconnected'])
      expect(server.signals()).toEqual([`peer_authenticating ${id}`, `peer_authentication_failed ${id}`])
    },
  )

  godotIt('auth timeout: a wsmp server with authTimeout 1 drops a Godot client it never completed — peer_authentication_failed on both sides', async () => {
    const { received, options } = recorder()
    const server = await WsmpPeer.server('wsmp server', { ...options, authTimeout: 1 })
    const g = await GodotPeer.client('godot A', server.url(), { auth: 1, auth_timeout: 30 })
    await g.waitEvent('peer_authenticating', { id: 1 })
    const id = (await server.waitEvent('peer_authenticating')).id as number
    expect((await g.command({ cmd: 'send_auth', id: 1, hex: textHex('token') })).err).toBe(0)
    expect((await g.command({ cmd: 'complete_auth', id: 1 })).err).toBe(0)
    await until(() => received.length > 0, 'the token at the wsmp server')
    await server.waitEvent('peer_authentication_failed', { id })
    await g.waitEvent('server_disconnected')
    expect(g.signals()).toEqual(['peer_authenticating 1', 'peer_authentication_failed 1', 'server_disconnected'])
    expect(server.signals()).toEqual([`peer_authenticating ${id}`, `peer_authentication_failed ${id}`])
  })

  godotIt('a wsmp server with authCallback announces a Godot client to the room only once its auth completed', async () => {
    const { received, options } = recorder()
    const server = await WsmpPeer.server('wsmp server', { ...options, authTimeout: 10 })
    const admit = async (name: string): Promise<{ g: GodotPeer; id: number }> => {
      const g = await GodotPeer.client(name, server.url(), { auth: 1, auth_timeout: 10 })
      await g.waitEvent('peer_authenticating', { id: 1 })
      const before = received.length
      expect((await g.command({ cmd: 'send_auth', id: 1, hex: textHex(name) })).err).toBe(0)
      await until(() => received.length > before, `${name}'s token`)
      return { g, id: received[before]?.[0] as number }
    }
    const a = await admit('godot A')
    expect(auth(server.peer).completeAuth(a.id)).toBe(ErrorCode.OK)
    expect((await a.g.command({ cmd: 'complete_auth', id: 1 })).err).toBe(0)
    await a.g.waitEvent('connected_to_server')
    await server.waitEvent('peer_connected', { id: a.id })

    const c = await admit('godot C')
    // C is pending: a packet to A after C's token arrived shows A has heard nothing of C.
    expect(server.send(a.id, textHex('marker'))).toBe(ErrorCode.OK)
    await a.g.waitPacket(1, textHex('marker'))
    expect(a.g.signals()).not.toContain(`peer_connected ${c.id}`)
    expect(server.signals()).not.toContain(`peer_connected ${c.id}`)

    expect(auth(server.peer).completeAuth(c.id)).toBe(ErrorCode.OK)
    expect((await c.g.command({ cmd: 'complete_auth', id: 1 })).err).toBe(0)
    await c.g.waitEvent('connected_to_server')
    await server.waitEvent('peer_connected', { id: c.id })
    await a.g.waitEvent('peer_connected', { id: c.id })
    await c.g.waitEvent('peer_connected', { id: a.id })
  })
})
