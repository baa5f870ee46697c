// The server under attack in the hostile suite: @wsmp/server's build (packages/server/dist, through
// e2e's workspace dependency and Node's default conditions) in a process of its own, on 127.0.0.1
// port 0. Started by support.ts with fork(); its settings come from the parent as one JSON argument:
//   { mode: 'server' | 'attach', path: '/ws' (attach), options: {…ServerPeerOptions},
//     hook: null | 'sync' | 'async' (an onHandshake that reads the query, cookies and headers),
//     read: true (the game reads its packets with getPacket; false: it polls but never reads),
//     pollMs: 50 (the game's tick), statsMs: 250, events: false (report every peer signal),
//     seq: false (packets carry a uint32 LE sequence number first: check their order per peer) }
// It reports over IPC: 'ready' {port}, 'stats' {rss, heapUsed, external, arrayBuffers, peers,
// available, maxAvailable, received, logLines, orderErrors, lagMs} every statsMs and on request
// (with perPeer: {id: {packets, bytes}} read by the game, and peerStats: {id: getPeerStats(id)}, when asked),
// and with events on 'peer' {id, joined, t, wall (Date.now())}. Commands: 'stats' {gc, perPeer, peerStats: [ids]}, 'read' {on},
// 'broadcast' {size, perTick, ticks} (the server's own reliable traffic to everyone), 'exit'.
// Everything it prints (the server's warnings) goes to the parent through stderr; logLines counts it.
import * as http from 'node:http'
import { WebSocketMultiplayerPeer, ErrorCode, TransferMode } from '@wsmp/server'

const config = JSON.parse(process.argv[2] ?? '{}')
const started = performance.now()
const now = () => Math.round(performance.now() - started)

// Every line the process prints is counted (the server logs through console.warn by default).
let logLines = 0
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream)
  stream.write = (chunk, ...rest) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) logLines++
    return write(chunk, ...rest)
  }
}

const send = (msg) => {
  if (process.connected) process.send(msg)
}

function makeHook(kind) {
  if (!kind) return null
  const check = (req) => {
    // What a real hook reads: the query, the cookies, the Origin and the subprotocols.
    const token = req.query.get('token')
    const cookies = String(req.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim().split('='))
    const origin = req.headers.origin
    return token !== 'deny' && cookies.length >= 0 && origin !== 'http://evil.example' && req.protocols.length >= 0
  }
  return kind === 'async' ? async (req) => check(req) : check
}

const server = new WebSocketMultiplayerPeer({ ...(config.options ?? {}), onHandshake: makeHook(config.hook) })
const peers = new Set()
server.on('peer_connected', (id) => {
  peers.add(id)
  if (config.events) send({ type: 'peer', id, joined: true, t: now(), wall: Date.now() })
})
server.on('peer_disconnected', (id) => {
  peers.delete(id)
  if (config.events) send({ type: 'peer', id, joined: false, t: now(), wall: Date.now() })
})

let port
let httpServer = null
if (config.mode === 'attach') {
  httpServer = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    res.end('the application\n')
  })
  const err = server.attach(httpServer, config.path ?? '/')
  if (err !== ErrorCode.OK) throw new Error(`attach failed: ${server.getLastError()}`)
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  port = httpServer.address().port
} else {
  const err = await server.createServer(0, '127.0.0.1')
  if (err !== ErrorCode.OK) throw new Error(`createServer failed: ${server.getLastError()}`)
  port = server.getLocalPort()
}

// The game loop: poll, then (when reading) take every packet.
let reading = config.read !== false
let maxAvailable = 0
let received = 0
let orderErrors = 0
const nextSeq = new Map()
/** Packets and bytes the game read, per sender. */
const perPeer = new Map()
function tick() {
  server.poll()
  const available = server.getAvailablePacketCount()
  if (available > maxAvailable) maxAvailable = available
  if (!reading) return
  while (server.getAvailablePacketCount() > 0) {
    const from = server.getPacketPeer()
    const data = server.getPacket()
    received++
    const counts = perPeer.get(from) ?? { packets: 0, bytes: 0 }
    counts.packets++
    counts.bytes += data.length
    perPeer.set(from, counts)
    if (config.seq && data.length >= 4) {
      const seq = data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)
      const expected = nextSeq.get(from) ?? 0
      if (seq !== expected) orderErrors++
      nextSeq.set(from, seq + 1)
    }
  }
}
setInterval(tick, config.pollMs ?? 50)

// Event-loop lag: how late the stats timer fires (the server's responsiveness).
let lagMs = 0
let expectedAt = performance.now() + (config.statsMs ?? 250)
function figures(extra = {}) {
  const m = process.memoryUsage()
  return {
    type: 'stats',
    t: now(),
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    peers: peers.size,
    available: server.getAvailablePacketCount(),
    maxAvailable,
    received,
    orderErrors,
    logLines,
    lagMs,
    ...extra,
  }
}
setInterval(() => {
  const late = performance.now() - expectedAt
  if (late > lagMs) lagMs = Math.round(late)
  expectedAt = performance.now() + (config.statsMs ?? 250)
  send(figures())
}, config.statsMs ?? 250)

process.on('message', (msg) => {
  switch (msg.cmd) {
    case 'stats':
      if (msg.gc && typeof globalThis.gc === 'function') {
        globalThis.gc()
        globalThis.gc()
      }
      if (msg.resetLag) lagMs = 0
      send(
        figures({
          reply: msg.reply,
          ...(msg.perPeer ? { perPeer: Object.fromEntries(perPeer) } : {}),
          // The server's own counters of a connection (getPeerStats: bytesIn is what it read from it).
          ...(msg.peerStats ? { peerStats: Object.fromEntries(msg.peerStats.map((id) => [id, server.getPeerStats(id)])) } : {}),
        }),
      )
      break
    case 'read':
      reading = msg.on
      break
    case 'broadcast': {
      // The server's own reliable traffic to everyone, at the game's tick.
      let ticks = 0
      let seq = 0
      const timer = setInterval(() => {
        server.setTargetPeer(0)
        server.transferMode = TransferMode.RELIABLE
        for (let i = 0; i < msg.perTick; i++) {
          const packet = new Uint8Array(msg.size)
          new DataView(packet.buffer).setUint32(0, seq++, true)
          server.putPacket(packet)
        }
        if (++ticks >= msg.ticks) {
          clearInterval(timer)
          send({ type: 'broadcast-done', sent: seq })
        }
      }, config.pollMs ?? 50)
      break
    }
    case 'exit':
      server.close()
      httpServer?.close()
      process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))

send({ type: 'ready', port, pid: process.pid })
