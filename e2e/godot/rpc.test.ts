// Godot's rpc() / rpc_id() between the real engine and wsmp peers with @wsmp/godot's SceneRpc:
// Godot clients on a wsmp server (both directions), wsmp clients with Godot clients through a
// wsmp server and through a Godot server, the path cache (SIMPLIFY_PATH / CONFIRM_PATH) both ways,
// Godot's permission rule, and what a checksum mismatch does on each side.
import { describe, expect } from 'vitest'
import { NodePath, StringName, Vector2, Vector3i, decodeConfirmPath, decodeRemoteCall, decodeSimplifyPath, encodeRemoteCall, encodeVariant, float, rpcChecksum } from '@wsmp/godot'
import { same, show, withoutFloats } from '../../packages/godot/test/expected.js'
import { GodotPeer, godotIt, toHex, until } from './support/godot.js'
import { WsmpRpc } from './support/rpc.js'
import { WsmpPeer } from './support/wsmp.js'

/** var_to_bytes([value]) as hex: what rpc_node.gd's `data` reports. */
function asArgHex(value: unknown): string {
  const encoded = encodeVariant([value])
  if (!encoded.ok) throw new Error(encoded.reason)
  return toHex(encoded.bytes)
}

/** The hex of var_to_bytes(args), for peer.gd's `rpcv`. */
function argsHex(...args: unknown[]): string {
  const encoded = encodeVariant(args)
  if (!encoded.ok) throw new Error(encoded.reason)
  return toHex(encoded.bytes)
}

/** A wsmp server with the Rpc node, and a Godot client on it. */
async function wsmpServerWithGodot(): Promise<{ server: WsmpPeer; srv: WsmpRpc; godot: GodotPeer }> {
  const server = await WsmpPeer.server('wsmp server')
  const srv = new WsmpRpc(server)
  const godot = await GodotPeer.connected('godot client', server.url())
  await until(() => srv.rpc.getPeers().includes(godot.id), 'the server’s SceneRpc to know the Godot client')
  return { server, srv, godot }
}

describe('godot-live: rpc() between Godot and wsmp (SceneRpc)', () => {
  godotIt('a Godot client’s rpc_id(1, …) runs on a wsmp server with its sender and arguments; SIMPLIFY_PATH is confirmed and Godot then uses the compact id', async () => {
    const { srv, godot } = await wsmpServerWithGodot()
    expect((await godot.command({ cmd: 'rpc', method: 'hello', to: 1, args: ['hi', 42] })).err).toBe(0)
    const call = await srv.waitCall('hello', godot.id)
    expect(call.args).toEqual(['hi', 42])

    // Godot offered the path first (checksum of the sorted names, its first cache id), then
    // called by path; the server confirmed it.
    const [offer, first] = srv.incoming
    expect(offer?.[0]).toBe(godot.id)
    const simplify = decodeSimplifyPath(Buffer.from(offer![1], 'hex'))
    expect(simplify.ok && simplify.message).toEqual({ checksum: rpcChecksum(['data', 'hello', 'owner_only', 'ping']), cacheId: 1, path: 'Rpc' })
    expect(srv.node.methods.checksum).toBe(rpcChecksum(['data', 'hello', 'owner_only', 'ping']))
    const byPath = decodeRemoteCall(Buffer.from(first![1], 'hex'))
    expect(byPath.ok && [byPath.call.node, byPath.call.nodeIdBytes, srv.node.methods.name(byPath.call.method)]).toEqual(['Rpc', 4, 'hello'])
    expect(srv.sentTo(godot.id, 2)).toEqual(['020101000000'])

    // Once the confirmation reached it, Godot calls with the 1-byte cache id (and never offers again).
    await until(async () => {
      await godot.command({ cmd: 'rpc', method: 'hello', to: 1, args: ['again', 1] })
      const calls = srv.callsFrom(godot.id)
      return calls.at(-1)?.nodeIdBytes === 1
    }, 'a compact call from Godot')
    const calls = srv.callsFrom(godot.id)
    expect(calls.at(-1)).toMatchObject({ node: 1, nodeIdBytes: 1 })
    expect(srv.incoming.filter(([, hex]) => hex.startsWith('01'))).toHaveLength(1)
    await until(() => srv.calls.length === calls.length, 'every call run')
    expect(srv.calls.every((c) => c.from === godot.id)).toBe(true)
    expect(srv.rpc.getStats().rejected).toMatchObject({ unknownNode: 0, unknownMethod: 0, permission: 0, malformed: 0 })
  })

  godotIt(
    'arguments Godot compresses (bools, ints of every width, floats, strings, math types, containers, a PackedByteArray alone) reach a wsmp handler equal, and re-encode to Godot’s bytes',
    async () => {
      const { srv, godot } = await wsmpServerWithGodot()
      const values: unknown[] = [
        true,
        false,
        0,
        -1,
        127,
        -128,
        300,
        -32768,
        65535,
        2147483647,
        -2147483648,
        2 ** 40,
        -(2n ** 63n),
        float(1.5),
        float(0.1),
        'héllo 🎮',
        new Vector2(1.5, -2),
        new Vector3i(1, -2, 3),
        [1, 'a', null, [true]],
        new Map<unknown, unknown>([
          ['hp', 100],
          [new Vector2(1, 2), 'key'],
        ]),
        new NodePath('/root/Rpc:x'),
        new StringName('sn'),
        null,
        Uint8Array.of(1, 2, 3),
      ]
      for (const value of values) expect((await godot.command({ cmd: 'rpcv', method: 'data', to: 1, args_hex: argsHex(value) })).err).toBe(0)
      await until(() => srv.calls.filter((c) => c.method === 'data').length === values.length, 'every data call')
      const got = srv.calls.filter((c) => c.method === 'data').map((c) => c.args[0])
      for (const [i, value] of values.entries()) {
        expect(same(got[i], withoutFloats(value)), `#${i}: got ${show(got[i])}, sent ${show(value)}`).toBe(true)
      }
      // Each packet Godot wrote is what encodeRemoteCall writes for the same call (but a NodePath:
      // Godot leaves its padding bytes unwritten, with leftovers in them; the codec writes zeros).
      for (const packet of srv.callsFrom(godot.id)) {
        const decoded = decodeRemoteCall(Buffer.from(packet.hex, 'hex'), { exactFloats: true })
        if (!decoded.ok) throw new Error(decoded.reason)
        if (decoded.call.args[0] instanceof NodePath) continue
        const again = encodeRemoteCall(decoded.call, { wideNodeId: decoded.call.nodeIdBytes === 4 })
        expect(again.ok && toHex(again.bytes)).toBe(packet.hex)
      }
    },
  )

  godotIt(
    'a wsmp server’s rpc() runs on every Godot client, rpcId(n) on one, rpcId(−n) on all but n — from 1, with the exact arguments; Godot confirms the server’s paths and then gets compact ids',
    async () => {
      const server = await WsmpPeer.server('wsmp server')
      const srv = new WsmpRpc(server)
      const a = await GodotPeer.connected('godot a', server.url())
      const b = await GodotPeer.connected('godot b', server.url())
      await until(() => srv.rpc.getPeers().length === 2, 'both clients at the server')
      const all = { pos: new Vector2(3, 4), list: [1, 2.5, 'x'] }
      expect(srv.node.rpc('data', all)).toBe(0)
      expect(srv.node.rpcId(a.id, 'data', 'only a')).toBe(0)
      expect(srv.node.rpcId(-a.id, 'data', 'all but a')).toBe(0)
      const onA = await a.waitEvent('rpc', { method: 'data', from: 1, hex: asArgHex('only a') })
      const onB = await b.waitEvent('rpc', { method: 'data', from: 1, hex: asArgHex('all but a') })
      expect([onA.from, onB.from]).toEqual([1, 1])
      // The server's path was offered to each and confirmed (valid), so the next call is compact.
      await until(() => [a.id, b.id].every((id) => srv.incoming.some(([from, hex]) => from === id && hex === '020101000000')), 'both confirmations')
      expect(srv.node.rpc('data', 'last')).toBe(0)
      expect([a.id, b.id].map((id) => srv.sentTo(id, 0).at(-1)?.slice(0, 4))).toEqual(['0001', '0001'])
      expect(srv.sentTo(a.id, 1)).toHaveLength(1)
      await a.waitEvent('rpc', { method: 'data', hex: asArgHex('last') })
      await b.waitEvent('rpc', { method: 'data', hex: asArgHex('last') })
      expect(a.all('rpc').map((e) => e['hex'])).toEqual([asArgHex(all), asArgHex('only a'), asArgHex('last')])
      expect(b.all('rpc').map((e) => e['hex'])).toEqual([asArgHex(all), asArgHex('all but a'), asArgHex('last')])
    },
  )

  godotIt(
    'permission: an authority-only method called by a Godot client that is not the authority is rejected and counted by the wsmp server; after setMultiplayerAuthority it runs; a Godot server rejects a wsmp client the same way',
    async () => {
      const { srv, godot } = await wsmpServerWithGodot()
      expect((await godot.command({ cmd: 'rpcv', method: 'owner_only', to: 1, args_hex: argsHex('let me') })).err).toBe(0)
      await until(() => srv.rpc.getStats().rejected.permission === 1, 'the rejection')
      expect(srv.rpc.lastRejection).toEqual({
        kind: 'permission',
        from: godot.id,
        reason: `RPC 'owner_only' is not allowed on node Rpc from: ${godot.id}. Mode is "authority", authority is 1.`,
      })
      srv.node.setMultiplayerAuthority(godot.id)
      expect((await godot.command({ cmd: 'rpcv', method: 'owner_only', to: 1, args_hex: argsHex('now') })).err).toBe(0)
      expect((await srv.waitCall('owner_only', godot.id)).args).toEqual(['now'])
      expect(srv.calls.filter((c) => c.method === 'owner_only')).toHaveLength(1)
      // The Godot client's Rpc has authority 1: the server may call it.
      expect(srv.node.rpcId(godot.id, 'owner_only', 'from the server')).toBe(0)
      await godot.waitEvent('rpc', { method: 'owner_only', from: 1 })

      // The engine's rule, the other way: a Godot server refuses a wsmp client's call to an authority method.
      const gserver = await GodotPeer.server('godot server')
      const client = WsmpPeer.client('wsmp client', gserver.url())
      const cli = new WsmpRpc(client)
      await client.waitEvent('connected_to_server')
      expect(cli.node.rpcId(1, 'owner_only', 'nope')).toBe(0)
      expect(cli.node.rpcId(1, 'hello', 'after', 1)).toBe(0)
      await gserver.waitEvent('rpc', { method: 'hello', from: client.id })
      expect(gserver.all('rpc').filter((e) => e['method'] === 'owner_only')).toEqual([])
      await until(
        () => gserver.stderr.some((line) => line.includes(`RPC 'owner_only' is not allowed on node /root/Rpc from: ${client.id}. Mode is "authority", authority is 1.`)),
        'Godot’s error',
      )
    },
  )

  godotIt('a Godot client and a wsmp client call each other through a wsmp server’s relay; a Godot client’s rpc() reaches the wsmp server and the wsmp client', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const srv = new WsmpRpc(server)
    const godot = await GodotPeer.connected('godot client', server.url())
    const client = WsmpPeer.client('wsmp client', server.url())
    const cli = new WsmpRpc(client)
    await client.waitEvent('connected_to_server')
    await godot.waitEvent('peer_connected', { id: client.id })
    await until(() => cli.rpc.getPeers().includes(godot.id), 'the wsmp client to know the Godot client')

    expect((await godot.command({ cmd: 'rpc', method: 'hello', to: client.id, args: ['to wsmp', 5] })).err).toBe(0)
    expect((await cli.waitCall('hello', godot.id)).args).toEqual(['to wsmp', 5])
    expect(cli.node.rpcId(godot.id, 'hello', 'to godot', 6)).toBe(0)
    const hello = await godot.waitEvent('rpc', { method: 'hello', from: client.id })
    expect(hello['args']).toEqual(['to godot', 6])
    // rpc() from Godot: one packet per peer it knows — the server directly, the wsmp client relayed.
    expect((await godot.command({ cmd: 'rpcv', method: 'data', args_hex: argsHex(new Vector2(7, 8)) })).err).toBe(0)
    const [atServer, atClient] = await Promise.all([srv.waitCall('data', godot.id), cli.waitCall('data', godot.id)])
    expect([atServer.args[0], atClient.args[0]]).toEqual([new Vector2(7, 8), new Vector2(7, 8)])
    // rpc() from the wsmp client: the Godot client and the server.
    expect(cli.node.rpc('data', 'from wsmp')).toBe(0)
    await godot.waitEvent('rpc', { method: 'data', from: client.id, hex: asArgHex('from wsmp') })
    expect((await srv.waitCall('data', client.id)).args).toEqual(['from wsmp'])
    // The Godot client confirmed the wsmp client's path through the relay: the next call to it is compact.
    await until(() => cli.incoming.some(([from, hex]) => from === godot.id && hex.startsWith('0201')), 'the confirmation through the relay')
    expect(cli.node.rpcId(godot.id, 'hello', 'compact', 7)).toBe(0)
    expect(cli.sentTo(godot.id, 0).at(-1)?.slice(0, 4)).toBe('0001')
    await godot.waitFor((e) => e.ev === 'rpc' && (e['args'] as unknown[])?.[0] === 'compact', 'the compact call')
  })

  godotIt('through a Godot server: a wsmp client calls the server (rpc_id(1)) and a Godot client, and runs the calls of both; Godot relays the path cache', async () => {
    const gserver = await GodotPeer.server('godot server')
    const client = WsmpPeer.client('wsmp client', gserver.url())
    const cli = new WsmpRpc(client)
    await client.waitEvent('connected_to_server')
    const godot = await GodotPeer.connected('godot client', gserver.url())
    await until(() => cli.rpc.getPeers().includes(godot.id), 'the wsmp client to know the Godot client')

    expect(cli.node.rpcId(1, 'hello', 'to the server', 1)).toBe(0)
    expect((await gserver.waitEvent('rpc', { method: 'hello', from: client.id }))['args']).toEqual(['to the server', 1])
    expect(cli.node.rpcId(godot.id, 'hello', 'to the client', 2)).toBe(0)
    expect((await godot.waitEvent('rpc', { method: 'hello', from: client.id }))['args']).toEqual(['to the client', 2])
    expect((await godot.command({ cmd: 'rpc', method: 'hello', to: client.id, args: ['back', 3] })).err).toBe(0)
    expect((await cli.waitCall('hello', godot.id)).args).toEqual(['back', 3])
    // The Godot server's rpc() to everyone, and an authority-only call from it (it is the authority).
    expect((await gserver.command({ cmd: 'rpcv', method: 'data', args_hex: argsHex(new Map([['k', 1]])) })).err).toBe(0)
    expect((await cli.waitCall('data', 1)).args).toEqual([new Map([['k', 1]])])
    await godot.waitEvent('rpc', { method: 'data', from: 1 })
    expect((await gserver.command({ cmd: 'rpcv', method: 'owner_only', to: client.id, args_hex: argsHex('yes') })).err).toBe(0)
    expect((await cli.waitCall('owner_only', 1)).args).toEqual(['yes'])
    // Both Godot peers confirmed the wsmp client's path (the client's, relayed by the server).
    await until(() => [1, godot.id].every((id) => cli.incoming.some(([from, hex]) => from === id && hex === '020101000000')), 'both confirmations')
    expect(cli.node.rpc('hello', 'everyone', 4)).toBe(0)
    expect([1, godot.id].map((id) => cli.sentTo(id, 0).at(-1)?.slice(0, 4))).toEqual(['0001', '0001'])
    await gserver.waitFor((e) => e.ev === 'rpc' && (e['args'] as unknown[])?.[0] === 'everyone', 'the server’s share')
    await godot.waitFor((e) => e.ev === 'rpc' && (e['args'] as unknown[])?.[0] === 'everyone', 'the client’s share')
    expect(cli.rpc.getStats().rejected).toMatchObject({ unknownNode: 0, unknownMethod: 0, permission: 0, malformed: 0 })
  })

  godotIt('a checksum mismatch: Godot answers CONFIRM_PATH with 0 and prints its error, the wsmp server answers 0 to Godot; both count it and calls still run', async () => {
    const server = await WsmpPeer.server('wsmp server')
    // No owner_only: another checksum (hello keeps its id, 1, in both lists).
    const srv = new WsmpRpc(server, { data: { mode: 'any_peer' }, hello: { mode: 'any_peer', handler: () => undefined }, ping: { mode: 'any_peer' } })
    const godot = await GodotPeer.connected('godot client', server.url())
    await until(() => srv.rpc.getPeers().includes(godot.id), 'the client at the server')
    expect(srv.node.rpcId(godot.id, 'hello', 'mismatch', 1)).toBe(0)
    await godot.waitEvent('rpc', { method: 'hello', from: 1 })
    await until(() => srv.incoming.some(([, hex]) => hex.startsWith('02')), 'Godot’s CONFIRM_PATH')
    const confirm = decodeConfirmPath(Buffer.from(srv.incoming.find(([, hex]) => hex.startsWith('02'))![1], 'hex'))
    expect(confirm.ok && confirm.message).toEqual({ valid: false, cacheId: 1 })
    await until(() => godot.stderr.some((line) => line.includes('The rpc node checksum failed')), 'Godot’s error')
    expect((await godot.command({ cmd: 'rpc', method: 'hello', to: 1, args: ['x', 2] })).err).toBe(0)
    await until(() => srv.rpc.getStats().checksumMismatches === 2 && srv.rpc.getStats().rejected.noHandler === 0, 'both mismatches counted')
    expect(srv.sentTo(godot.id, 2)).toEqual(['020001000000'])
  })

  godotIt('a Godot client that leaves is forgotten: a newcomer gets SIMPLIFY_PATH again and the calls by path until it confirms', async () => {
    const { server, srv, godot } = await wsmpServerWithGodot()
    expect(srv.node.rpc('data', 1)).toBe(0)
    await until(() => srv.incoming.some(([from, hex]) => from === godot.id && hex === '020101000000'), 'the confirmation')
    await godot.quit()
    await server.waitEvent('peer_disconnected', { id: godot.id })
    expect(srv.rpc.getPeers()).toEqual([])
    const next = await GodotPeer.connected('godot client 2', server.url())
    await until(() => srv.rpc.getPeers().includes(next.id), 'the newcomer')
    expect(srv.node.rpc('data', 2)).toBe(0)
    expect(srv.outgoing.filter(([to]) => to === next.id).map(([, hex]) => hex.slice(0, 2))).toEqual(['01', '20'])
    await next.waitEvent('rpc', { method: 'data', from: 1, hex: asArgHex(2) })
  })
})
