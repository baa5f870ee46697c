// What the demo's two servers share: the game (an authoritative simulation on any serving
// WebSocketMultiplayerPeer — one server in demo/server.mjs, a cluster's authority in
// demo/cluster.mjs) and the page's files.
import { createReadStream, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ErrorCode, TransferMode } from '../packages/server/dist/index.mjs'

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

/** Exits with a hint when the build is missing. */
export function checkBuilt() {
  if (!existsSync(here(files['/wsmp.min.js'][0]))) {
    console.error('demo: packages/client/dist/wsmp.min.js is missing; run `pnpm run build` (or `npm run demo`) first')
    process.exit(1)
  }
}

/** Answers a request for one of the page's files (404 for anything else). */
export function serveFile(req, res) {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  const entry = files[path]
  if (!entry || req.method !== 'GET') {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n')
    return
  }
  res.writeHead(200, { 'Content-Type': entry[1], 'Cache-Control': 'no-store' })
  createReadStream(here(entry[0])).pipe(res)
}

/** Runs the game on `peer` (serving): players join and leave, input in, state out at TICK_HZ. Returns the function that stops it. */
export function runGame(peer) {
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
  return () => clearInterval(timer)
}
