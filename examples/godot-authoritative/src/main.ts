// Runs the example server: PORT (default 9080) and HOST (default 127.0.0.1) change where it
// listens. Then start Godot clients (godot/, see README.md). Ctrl+C stops it.
import { ErrorCode, errorName } from '@wsmp/server'
import { GameServer } from './game.js'

const port = Number(process.env['PORT'] ?? 9080)
const host = process.env['HOST'] ?? '127.0.0.1'
const server = new GameServer({ log: (line) => console.log(`game: ${line}`) })
const err = await server.start(port, host)
if (err !== ErrorCode.OK) {
  console.error(`game: cannot listen on ${host}:${port}: ${errorName(err)} ${server.peer.getLastError()}`)
  process.exit(1)
}
console.log(`game: listening on ws://${host}:${server.port} — start Godot clients (see README.md); Ctrl+C stops`)

const stop = (): void => {
  server.stop()
  const stats = server.multiplayer.getStats()
  console.log(`game: stopped (${stats.received} calls received, ${stats.sent} sent, ${stats.rejected.permission} refused by permission, ${server.refused} by the rules)`)
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
