// The wsmp demo: an authoritative Node game server and the page it serves, on one port.
//   node demo/server.mjs            http://127.0.0.1:8080/   (PORT and HOST change it; PORT=0 picks one)
// Every browser tab is a player. Tabs send their input (arrow keys/WASD or a click target); the
// server owns the state, simulates it at a fixed tick and broadcasts it to everyone.
import { createServer } from 'node:http'
import { ErrorCode, WebSocketMultiplayerPeer } from '../packages/server/dist/index.mjs'
import { checkBuilt, runGame, serveFile } from './shared.mjs'

const HOST = process.env.HOST || '127.0.0.1'
const PORT = Number(process.env.PORT ?? 8080)
checkBuilt()
const http = createServer(serveFile)

// The wsmp server shares the page server's port: WebSocket upgrades to /ws are its.
const peer = new WebSocketMultiplayerPeer()
if (peer.attach(http, '/ws') !== ErrorCode.OK) throw new Error(peer.getLastError())

const stop = runGame(peer)

http.on('error', (err) => {
  console.error(`demo: cannot listen on ${HOST}:${PORT}: ${err.message}${err.code === 'EADDRINUSE' ? ' (set PORT to another port)' : ''}`)
  process.exit(1)
})
http.listen(PORT, HOST, () => {
  const { port } = http.address()
  const host = HOST.includes(':') ? `[${HOST}]` : HOST
  console.log(`wsmp demo: http://${host}:${port}/  (open it in several tabs; Ctrl+C stops)`)
})

function shutdown() {
  stop()
  peer.close()
  http.close()
  http.closeAllConnections?.()
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
