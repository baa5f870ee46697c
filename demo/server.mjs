// The wsmp demo: an authoritative Node game server and the page it serves, on one port.
//   node demo/server.mjs            http://127.0.0.1:8080/   (PORT and HOST change it; PORT=0 picks one)
// Every browser tab is a player. Tabs send their input (arrow keys/WASD or a click target); the
// server owns the state, simulates it at a fixed tick and broadcasts it to everyone.
import { createReadStream, existsSync } from 'node:fs'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { ErrorCode, TransferMode, WebSocketMultiplayerPeer } from '../packages/server/dist/index.mjs'

const HOST = process.env.HOST || '127.0.0.1'
const PORT = Number(process.env.PORT ?? 8080)
const TICK_HZ = 20
const WORLD = { width: 960, height: 600 }
const SPEED = 260 // pixels per second
const RADIUS = 18

const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/game.js': ['game.js', 'text/javascript; charset=utf-8'],
  '/wsmp.min.js': ['../packages/client/dist/wsmp.min.js', 'text/javascript; charset=utf-8'],
}
const here = (name) => fileURLToPath(new URL(name, import.meta.url))
if (!existsSync(here(files['/wsmp.min.js'][0]))) {
  console.error('demo: packages/client/dist/wsmp.min.js is missing; run `pnpm run build` (or `npm run demo`) first')
  process.exit(1)
}

const http = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  const entry = files[path]
  if (!entry || req.method !== 'GET') {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n')
    return
  }
  res.writeHead(200, { 'Content-Type': entry[1], 'Cache-Control': 'no-store' })
  createReadStream(here(entry[0])).pipe(res)
})

// The wsmp server shares the page server's port: WebSocket upgrades to /ws are its.
const peer = new WebSocketMultiplayerPeer()
if (peer.attach(http, '/ws') !== ErrorCode.OK) throw new Error(peer.getLastError())

/** id → { number, x, y, dx, dy, tx, ty } — the authoritative state. */
const players = new Map()

/** The lowest player number (1, 2, …) nobody playing has: what the pages show instead of peer ids. */
function freeNumber() {
  const taken = new Set([...players.values()].map((p) => p.number))
  let n = 1
  while (taken.has(n)) n++
  return n
}

peer.on('peer_connected', (id) => {
  const number = freeNumber()
  players.set(id, { number, x: RADIUS + Math.random() * (WORLD.width - 2 * RADIUS), y: RADIUS + Math.random() * (WORLD.height - 2 * RADIUS), dx: 0, dy: 0, tx: null, ty: null })
  // Tell the newcomer the world it joined and its player number (reliable, to it alone).
  peer.setTargetPeer(id)
  peer.transferMode = TransferMode.RELIABLE
  peer.putVar({ welcome: id, number, world: WORLD, radius: RADIUS, tickHz: TICK_HZ })
  console.log(`demo: player ${number} (peer ${id}) joined (${players.size} playing)`)
})
peer.on('peer_disconnected', (id) => {
  const number = players.get(id)?.number
  players.delete(id)
  console.log(`demo: player ${number} (peer ${id}) left (${players.size} playing)`)
})

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v))
const finite = (v) => typeof v === 'number' && Number.isFinite(v)

/** Applies one input message: `{ dx, dy }` (keys, each −1 … 1) or `{ tx, ty }` (a click target). */
function applyInput(id, input) {
  const player = players.get(id)
  if (!player || input === null || typeof input !== 'object') return
  if (finite(input.dx) && finite(input.dy)) {
    player.dx = clamp(Math.round(input.dx), -1, 1)
    player.dy = clamp(Math.round(input.dy), -1, 1)
    if (player.dx !== 0 || player.dy !== 0) player.tx = player.ty = null
  } else if (finite(input.tx) && finite(input.ty)) {
    player.tx = clamp(input.tx, RADIUS, WORLD.width - RADIUS)
    player.ty = clamp(input.ty, RADIUS, WORLD.height - RADIUS)
  }
}

let tick = 0
function step() {
  // Godot's loop: poll, read every packet, simulate, send.
  peer.poll()
  while (peer.getAvailablePacketCount() > 0) {
    const from = peer.getPacketPeer()
    const input = peer.getVar()
    if (peer.getPacketError() === ErrorCode.OK) applyInput(from, input)
  }
  const dt = 1 / TICK_HZ
  for (const p of players.values()) {
    let dx = p.dx
    let dy = p.dy
    if (p.tx !== null) {
      const ex = p.tx - p.x
      const ey = p.ty - p.y
      const dist = Math.hypot(ex, ey)
      if (dist < 1) p.tx = p.ty = null
      else {
        const reach = Math.min(1, dist / (SPEED * dt))
        dx = (ex / dist) * reach
        dy = (ey / dist) * reach
      }
    }
    const norm = Math.hypot(dx, dy) > 1 ? Math.hypot(dx, dy) : 1
    p.x = clamp(p.x + (dx / norm) * SPEED * dt, RADIUS, WORLD.width - RADIUS)
    p.y = clamp(p.y + (dy / norm) * SPEED * dt, RADIUS, WORLD.height - RADIUS)
  }
  tick++
  if (players.size > 0) {
    // The newest state matters, not every one: under congestion older states may be dropped.
    peer.setTargetPeer(0)
    peer.transferMode = TransferMode.UNRELIABLE_ORDERED
    peer.putVar({ tick, players: [...players].map(([id, p]) => [id, Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10, p.number]) })
  }
}
const timer = setInterval(step, 1000 / TICK_HZ)

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
  clearInterval(timer)
  peer.close()
  http.close()
  http.closeAllConnections?.()
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
