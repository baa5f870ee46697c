// examples/godot-authoritative: its Node server (GameServer, @wsmp/server + @wsmp/godot) with two
// of its Godot clients (godot/main.tscn, headless, --bot): welcome, input with rpc_id(1, "move"),
// the server's state broadcast, chat through the server, and a client's call to an authority-only
// method refused by the server.
import { resolve } from 'node:path'
import { afterEach, describe, expect } from 'vitest'
import { ErrorCode } from '@wsmp/server'
import { GameServer, MAX_CHAT } from '../../examples/godot-authoritative/src/game.js'
import { GodotPeer, godotIt, repoRoot, until } from './support/godot.js'

const exampleProject = resolve(repoRoot, 'examples/godot-authoritative/godot')
let server: GameServer | null = null
afterEach(() => {
  server?.stop()
  server = null
})

describe('godot-live: examples/godot-authoritative', () => {
  godotIt('two Godot clients play on the example server: welcome, moves validated and broadcast, chat for everyone, a cheat refused', async () => {
    const lines: string[] = []
    server = new GameServer({ log: (line) => lines.push(line) })
    expect(await server.start(0, '127.0.0.1')).toBe(ErrorCode.OK)
    const url = `--url=ws://127.0.0.1:${server.port}`
    const ann = GodotPeer.project('example client ann', exampleProject, [url, '--bot', '--players=2'])
    const bob = GodotPeer.project('example client bob', exampleProject, [url, '--bot', '--players=2', '--cheat'])
    const [annId, bobId] = (await Promise.all([ann.waitEvent('connected'), bob.waitEvent('connected')])).map((e) => e.id as number)

    // Each got the world from the server (sender 1), moved right under the server's rules, and
    // (once both were in the game) heard its own chat line back from the server.
    for (const client of [ann, bob]) {
      const welcome = await client.waitEvent('welcome')
      expect(welcome).toMatchObject({ from: 1, world: [640, 360], tick_rate: 20 })
      await client.waitEvent('done')
      const moved = await client.waitEvent('moved')
      const first = await client.waitEvent('state')
      // Positions are Godot's float32 Vector2 printed with 15 significant digits, so the sum is
      // compared with a margin far below a step (an exact >= failed on the printing's last digit).
      expect((moved['me'] as number[])[0]).toBeGreaterThanOrEqual((first['me'] as number[])[0]! + 20 - 1e-3)
      expect((moved['me'] as number[])[1]).toBe((first['me'] as number[])[1])
    }
    // Chat goes through the server to everyone: each hears the other.
    await ann.waitEvent('chat', { from: bobId, text: `hello from ${bobId}`, sender: 1 })
    await bob.waitEvent('chat', { from: annId, text: `hello from ${annId}`, sender: 1 })
    // bob's call to `state` (authority-only) was refused by the server's SceneRpc, as Godot refuses it.
    await until(() => server!.multiplayer.getStats().rejected.permission === 1, 'the refusal')
    expect(server.multiplayer.lastRejection).toMatchObject({ kind: 'permission', from: bobId })
    expect(lines.some((line) => line.includes(`RPC 'state' is not allowed on node Main/Game from: ${bobId}`))).toBe(true)
    expect([...server.players.keys()].sort()).toEqual([annId, bobId].sort())
    expect(server.refused).toBe(0)
    expect(MAX_CHAT).toBe(120)

    // The server going away ends the bots (server_disconnected).
    server.stop()
    await Promise.all([ann.waitEvent('server_disconnected'), bob.waitEvent('server_disconnected')])
    expect(await ann.exited).toBe(0)
  })
})
