// Mixed rooms: two Godot 4 clients and a wsmp Node client, on a wsmp server and on a Godot server.
// Everyone must see everyone, and broadcast, unicast and exclusion must cross both kinds of peer.
import { describe, expect } from 'vitest'
import { ErrorCode } from '@wsmp/server'
import { GodotPeer, godotIt, textHex, until } from './support/godot.js'
import { WsmpPeer } from './support/wsmp.js'

const byNumber = (a: number, b: number): number => a - b
const text = (hex: string): string => Buffer.from(hex, 'hex').toString()

/** The room as seen by each member: who it knows, and the packets it received as 'from:text'. */
interface Member {
  id: number
  knows(): Promise<number[]>
  received(): string[]
  waitText(from: number, t: string): Promise<unknown>
  send(to: number, t: string): Promise<number>
}

function godotMember(g: GodotPeer): Member {
  return {
    id: g.id,
    knows: async () => (await g.status()).peers,
    received: () => g.all('peer_packet').map((e) => `${e.from}:${text(e.hex as string)}`),
    waitText: (from, t) => g.waitPacket(from, textHex(t)),
    send: (to, t) => g.send(to, textHex(t)),
  }
}

function wsmpMember(w: WsmpPeer): Member {
  const known = new Set<number>()
  w.peer.on('peer_connected', (id) => known.add(id))
  w.peer.on('peer_disconnected', (id) => known.delete(id))
  for (const e of w.log) {
    if (e.ev === 'peer_connected') known.add(e.id as number)
    if (e.ev === 'peer_disconnected') known.delete(e.id as number)
  }
  return {
    id: w.id,
    knows: () => Promise.resolve([...known].sort(byNumber)),
    received: () => w.packets().map(([from, h]) => `${from}:${text(h)}`),
    waitText: (from, t) => w.waitPacket(from, textHex(t)),
    send: (to, t) => Promise.resolve(w.send(to, textHex(t))),
  }
}

/** Runs the same traffic through a room of g1, g2 (Godot), w (wsmp) and the server `s`. */
async function exercise(server: Member, g1: Member, g2: Member, w: Member): Promise<void> {
  const clients = [g1, g2, w]
  // Everyone comes to know everyone (the server is 1 to the clients and knows only the clients).
  const same = (a: number[], b: number[]): boolean => JSON.stringify(a) === JSON.stringify(b)
  for (const c of clients) {
    const expected = [1, ...clients.filter((o) => o !== c).map((o) => o.id)].sort(byNumber)
    await until(async () => same(await c.knows(), expected), `peer ${c.id} to know ${expected.join(', ')}`)
  }
  const all = clients.map((c) => c.id).sort(byNumber)
  await until(async () => same(await server.knows(), all), `the server to know ${all.join(', ')}`)

  // Broadcast from each client reaches the server and the two other clients.
  for (const c of clients) expect(await c.send(0, `all from ${c.id}`)).toBe(ErrorCode.OK)
  for (const receiver of [server, ...clients]) {
    for (const c of clients) if (c !== receiver) await receiver.waitText(c.id, `all from ${c.id}`)
  }
  // Unicast across kinds: Godot → wsmp, wsmp → Godot, Godot → Godot; exclusion from the wsmp client.
  expect(await g1.send(w.id, 'g1 to w')).toBe(ErrorCode.OK)
  expect(await w.send(g2.id, 'w to g2')).toBe(ErrorCode.OK)
  expect(await g2.send(g1.id, 'g2 to g1')).toBe(ErrorCode.OK)
  expect(await w.send(-g1.id, 'w to all but g1')).toBe(ErrorCode.OK)
  // The server to everyone but the wsmp client.
  expect(await server.send(-w.id, 'server to all but w')).toBe(ErrorCode.OK)
  await w.waitText(g1.id, 'g1 to w')
  await g2.waitText(w.id, 'w to g2')
  await g1.waitText(g2.id, 'g2 to g1')
  await g2.waitText(w.id, 'w to all but g1')
  await server.waitText(w.id, 'w to all but g1')
  await g1.waitText(1, 'server to all but w')
  await g2.waitText(1, 'server to all but w')
  // A last broadcast from the server: what came before it on each connection has arrived.
  expect(await server.send(0, 'end')).toBe(ErrorCode.OK)
  for (const c of clients) await c.waitText(1, 'end')

  const others = (c: Member): string[] => clients.filter((o) => o !== c).map((o) => `${o.id}:all from ${o.id}`)
  expect(g1.received().sort()).toEqual([...others(g1), `${g2.id}:g2 to g1`, '1:server to all but w', '1:end'].sort())
  expect(g2.received().sort()).toEqual([...others(g2), `${w.id}:w to g2`, `${w.id}:w to all but g1`, '1:server to all but w', '1:end'].sort())
  expect(w.received().sort()).toEqual([...others(w), `${g1.id}:g1 to w`, '1:end'].sort())
  expect(server.received().sort()).toEqual([...clients.map((c) => `${c.id}:all from ${c.id}`), `${w.id}:w to all but g1`].sort())
}

describe('mixed rooms', () => {
  godotIt('a wsmp server with two Godot clients and a wsmp client: everyone sees everyone, packets cross both kinds, a leave reaches all', async () => {
    const server = await WsmpPeer.server('wsmp server')
    const g1 = await GodotPeer.connected('godot 1', server.url())
    const w = await WsmpPeer.connected('wsmp W', server.url())
    const g2 = await GodotPeer.connected('godot 2', server.url())
    await g1.waitEvent('peer_connected', { id: g2.id })
    await g1.waitEvent('peer_connected', { id: w.id })
    await g2.waitEvent('peer_connected', { id: w.id })
    await w.waitEvent('peer_connected', { id: g2.id })
    await server.waitEvent('peer_connected', { id: g2.id })
    const serverKnows = new Set<number>([g1.id, w.id, g2.id])
    const serverMember: Member = {
      id: 1,
      knows: () => Promise.resolve([...serverKnows].sort(byNumber)),
      received: () => server.packets().map(([from, h]) => `${from}:${text(h)}`),
      waitText: (from, t) => server.waitPacket(from, textHex(t)),
      send: (to, t) => Promise.resolve(server.send(to, textHex(t))),
    }
    await exercise(serverMember, godotMember(g1), godotMember(g2), wsmpMember(w))

    await g1.quit()
    await server.waitEvent('peer_disconnected', { id: g1.id })
    await g2.waitEvent('peer_disconnected', { id: g1.id })
    await w.waitEvent('peer_disconnected', { id: g1.id })
    w.stop()
    await server.waitEvent('peer_disconnected', { id: w.id })
    await g2.waitEvent('peer_disconnected', { id: w.id })
    expect((await g2.status()).peers).toEqual([1])
  })

  godotIt('a Godot server with two Godot clients and a wsmp client: everyone sees everyone, packets cross both kinds, a leave reaches all', async () => {
    const server = await GodotPeer.server('godot server')
    const g1 = await GodotPeer.connected('godot 1', server.url())
    const w = await WsmpPeer.connected('wsmp W', server.url())
    const g2 = await GodotPeer.connected('godot 2', server.url())
    await g1.waitEvent('peer_connected', { id: g2.id })
    await g1.waitEvent('peer_connected', { id: w.id })
    await g2.waitEvent('peer_connected', { id: w.id })
    await w.waitEvent('peer_connected', { id: g2.id })
    await w.waitEvent('peer_connected', { id: g1.id })
    await exercise(godotMember(server), godotMember(g1), godotMember(g2), wsmpMember(w))

    await g1.quit()
    await server.waitEvent('peer_disconnected', { id: g1.id })
    await g2.waitEvent('peer_disconnected', { id: g1.id })
    await w.waitEvent('peer_disconnected', { id: g1.id })
    w.stop()
    await server.waitEvent('peer_disconnected', { id: w.id })
    await g2.waitEvent('peer_disconnected', { id: w.id })
    expect((await g2.status()).peers).toEqual([1])
  })
})
