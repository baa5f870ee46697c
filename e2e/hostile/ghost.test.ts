import * as net from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ConnectionStatus } from '@wsmp/server'
import { closeHonest, closeSockets, endChildren, figure, honestClient, secs, startServer, track, until } from './support.js'

/**
 * 5. Ghost peers: a peer that vanishes without FIN or RST (a frozen process, a pulled cable),
 * simulated by a TCP proxy in the test process between the client and the server that, on
 * command, stops forwarding in both directions and never closes its server-side socket. With
 * default settings (`peerTimeout` 15 s) the server emits `peer_disconnected` and the other clients
 * get DEL_PEER within 15 s; an idle but live client is not dropped meanwhile.
 */

afterEach(() => {
  closeHonest()
  closeSockets()
})
afterAll(() => endChildren())

const SCENARIO = 'ghost'

/** A TCP proxy to 127.0.0.1:`port` that can freeze: stop reading both sides, write nothing, close nothing. */
async function freezableProxy(port: number): Promise<{ port: number; freeze(): void; frozen: boolean; links: number }> {
  const pairs: [net.Socket, net.Socket][] = []
  const state = { port: 0, frozen: false, links: 0, freeze: () => {} }
  const server = track(
    net.createServer((client) => {
      const upstream = track(net.connect(port, '127.0.0.1'))
      track(client)
      state.links++
      pairs.push([client, upstream])
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        from.on('data', (chunk: Buffer) => {
          if (!state.frozen) to.write(chunk)
        })
        from.on('error', () => {})
        // A close on one side is not passed on once frozen: the server must find out by itself.
        from.on('close', () => {
          if (!state.frozen) to.destroy()
        })
      }
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.port = (server.address() as net.AddressInfo).port
  state.freeze = () => {
    state.frozen = true
    // Nothing more is read on either side: the server's pings sit unanswered in the kernel's buffers.
    for (const [client, upstream] of pairs) {
      client.pause()
      upstream.pause()
    }
  }
  return state
}

describe('5. ghost peers', () => {
  it('a peer that vanishes without FIN/RST is dropped within 15 s by default: peer_disconnected, DEL_PEER to the others; an idle live client stays', async () => {
    const server = await startServer({ events: true })
    const proxy = await freezableProxy(server.port)
    const { client: observer } = await honestClient(server.url)
    const left: number[] = []
    observer.on('peer_disconnected', (id) => left.push(id))
    const known = new Set<number>()
    observer.on('peer_connected', (id) => known.add(id))
    const { client: ghost } = await honestClient(`ws://127.0.0.1:${proxy.port}`)
    const ghostId = ghost.getUniqueId()
    // The observer knows the ghost before it vanishes.
    await until(() => {
      observer.poll()
      ghost.poll()
      return known.has(ghostId)
    }, 'the observer to hear of the ghost-to-be')
    // The ghost stops polling too (a frozen process), and the link freezes.
    proxy.freeze()
    const frozenAt = Date.now()
    let observerSawAt = 0
    await until(
      () => {
        observer.poll()
        if (observerSawAt === 0 && left.includes(ghostId)) observerSawAt = Date.now()
        return observerSawAt !== 0 && server.messages.some((m) => m.type === 'peer' && m.id === ghostId && m.joined === false)
      },
      'the server and the observer to drop the ghost',
      25_000,
    )
    const dropped = server.messages.find((m) => m.type === 'peer' && m.id === ghostId && m.joined === false) as { wall: number }
    const serverMs = dropped.wall - frozenAt
    const observerMs = observerSawAt - frozenAt
    const warning = server.lines.find((l) => l.includes(`peer ${ghostId}:`)) ?? '(no warning)'
    figure(
      SCENARIO,
      `a frozen peer (no FIN, no RST; proxy holding its socket open) was dropped by the server after ${secs(serverMs)} (peerTimeout 15 s by default), the other client got DEL_PEER after ${secs(observerMs)}; server said: ${warning.trim()}; the idle observer is ${observer.getConnectionStatus() === ConnectionStatus.CONNECTED ? 'still connected' : 'GONE'}`,
    )
    expect(serverMs).toBeLessThanOrEqual(15_000)
    expect(observerMs).toBeLessThanOrEqual(15_000)
    // The observer sent nothing all along (its pongs answered the server's pings): still there.
    expect(observer.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    expect((await server.stats()).peers).toBe(1)
  })
})
