// Peer announcements in batches (server/src/announcements.ts), in a room big enough that a batch
// goes out over several event-loop turns: everyone ends up knowing everyone else exactly once,
// nobody hears from a peer before hearing of it, and a newcomer that leaves while its batch goes
// out is announced gone to all who heard of it.
import { afterEach, describe, expect, it } from 'vitest'
import { ANNOUNCE_DELIVERIES_PER_TURN } from '../src/announcements.js'
import { closeEverything, rawClient, startServer, waitFor, type RawClient } from './helpers.js'

afterEach(() => closeEverything())

/** What a raw client saw: ADD/DEL announcements and relayed packets, in order. */
interface View {
  client: RawClient
  known: Set<number>
  /** Problems seen: a duplicate ADD, a DEL of an unknown peer, its own id, a packet from an unknown peer. */
  problems: string[]
  relaysFrom: Set<number>
  read: number
}

function watch(client: RawClient): View {
  const view: View = { client, known: new Set(), problems: [], relaysFrom: new Set(), read: 1 }
  return view
}

/** Reads what arrived since the last call (the first message, the id, was read already). */
function update(view: View): void {
  const own = view.client.id()
  for (; view.read < view.client.messages.length; view.read++) {
    const data = (view.client.messages[view.read] as { data: Uint8Array }).data
    if (data[0] !== 0x07 || data.length < 6) continue
    const id = new DataView(data.buffer, data.byteOffset + 2, 4).getInt32(0, true)
    if (data[1] === 1) {
      if (id === own) view.problems.push(`ADD of its own id ${id}`)
      else if (view.known.has(id)) view.problems.push(`ADD ${id} twice`)
      view.known.add(id)
    } else if (data[1] === 2) {
      view.known.delete(id)
    } else if (data[1] === 3) {
      if (!view.known.has(id)) view.problems.push(`a packet from ${id} before ADD ${id}`)
      view.relaysFrom.add(id)
    }
  }
}

/** A client's broadcast relay: `[0x07][3][0 = everyone][0x03][payload]`. */
const BROADCAST = Uint8Array.from([0x07, 0x03, 0, 0, 0, 0, 0x03, 0x21])

describe('announcements in a big room', () => {
  it(
    `everyone knows everyone else once, and hears of a peer before it hears from it (${3 * ANNOUNCE_DELIVERIES_PER_TURN} peers: batches span turns)`,
    { timeout: 60_000 },
    async () => {
      const { server, url } = await startServer({ autoPoll: true })
      const COUNT = 3 * ANNOUNCE_DELIVERIES_PER_TURN
      const views: View[] = []
      // In waves, so that batches hold both old members and many newcomers.
      for (let wave = 0; wave < 6; wave++) {
        const joining = await Promise.all(Array.from({ length: COUNT / 6 }, () => rawClient(url)))
        for (const client of joining) {
          views.push(watch(client))
          // Each newcomer relays to everyone as soon as it has its id: nobody may get that packet
          // before the ADD of its sender.
          client.send(BROADCAST)
        }
      }
      const ids = new Set(views.map((v) => v.client.id()))
      await waitFor(
        () => {
          for (const view of views) update(view)
          return views.every((v) => v.known.size === COUNT - 1)
        },
        [server],
        'everyone to know everyone',
        45_000,
      )
      for (const view of views) {
        expect(view.problems).toEqual([])
        expect([...view.known].every((id) => ids.has(id))).toBe(true)
      }
    },
  )

  it('a newcomer that leaves while its batch goes out is announced gone to everyone who heard of it', { timeout: 60_000 }, async () => {
    const { server, url } = await startServer({ autoPoll: true })
    const members = await Promise.all(Array.from({ length: 2 * ANNOUNCE_DELIVERIES_PER_TURN }, () => rawClient(url)))
    const views = members.map(watch)
    await waitFor(
      () => {
        for (const view of views) update(view)
        return views.every((v) => v.known.size === members.length - 1)
      },
      [server],
      'the room to settle',
      30_000,
    )
    const brief = await rawClient(url)
    const briefId = brief.id()
    brief.ws.terminate()
    const stay = await rawClient(url)
    await waitFor(
      () => {
        for (const view of views) update(view)
        return views.every((v) => v.known.has(stay.id()))
      },
      [server],
      'everyone to hear of the next newcomer',
      30_000,
    )
    for (const view of views) {
      expect(view.known.has(briefId)).toBe(false)
      expect(view.problems).toEqual([])
    }
  })
})
