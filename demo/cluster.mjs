// The wsmp cluster demo: the demo game (demo/shared.mjs) served by a @wsmp/cluster session — a
// redis-server, an authority and two edges, each its own process. Each edge serves the page too,
// and its WebSocket endpoint at /ws: open both and the players of either edge share one world.
//   npm run demo:cluster      (or: node demo/cluster.mjs)
//     http://127.0.0.1:8081/ and http://127.0.0.1:8082/   (EDGE_PORTS=8081,8082 and HOST change them)
// redis-server: REDIS_SERVER_PATH, else the one on PATH (Debian: apt-get install redis-server); it
// listens on a free 127.0.0.1 port (REDIS_PORT to choose), without persistence. Ctrl+C ends
// everything this started, by pid. Kill an edge (its pid is printed) to see its players leave.
import { fork, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const [role, redisUrl, portArg] = process.argv.slice(2)
const HOST = process.env.HOST || '127.0.0.1'
const SESSION = 'demo'

if (role === 'authority') {
  const { WebSocketMultiplayerPeer } = await import('../packages/server/dist/index.mjs')
  const { RedisCluster } = await import('../packages/cluster/dist/index.mjs')
  const { runGame } = await import('./shared.mjs')
  const game = new WebSocketMultiplayerPeer()
  const cluster = await RedisCluster.authority(game, { url: redisUrl, session: SESSION })
  cluster.on('edge_joined', (edge) => console.log(`demo authority: edge ${edge} joined`))
  cluster.on('edge_lost', (edge, why) => console.log(`demo authority: edge ${edge} left (${why})`))
  const stop = runGame(game)
  process.send?.({ type: 'ready' })
  const shutdown = async () => {
    stop()
    await cluster.close()
    process.exit(0)
  }
  process.on('SIGINT', () => {}) // the parent ends us
  process.on('SIGTERM', shutdown)
  process.on('disconnect', shutdown)
} else if (role === 'edge') {
  const { RedisCluster } = await import('../packages/cluster/dist/index.mjs')
  const { checkBuilt, serveFile } = await import('./shared.mjs')
  checkBuilt()
  const http = createHttpServer(serveFile)
  await new Promise((resolve, reject) => {
    http.once('error', reject)
    http.listen(Number(portArg), HOST, resolve)
  })
  const edge = await RedisCluster.edge({ url: redisUrl, session: SESSION, server: http, path: '/ws' })
  edge.on('serving', () => console.log(`demo edge :${http.address().port}: serving the authority`))
  edge.on('authority_lost', (code, detail) => console.log(`demo edge :${http.address().port}: closed its players with ${code} (${detail})`))
  process.send?.({ type: 'ready', port: http.address().port })
  const shutdown = async () => {
    await edge.close()
    http.close()
    process.exit(0)
  }
  process.on('SIGINT', () => {})
  process.on('SIGTERM', shutdown)
  process.on('disconnect', shutdown)
} else {
  await main()
}

async function freePort() {
  const probe = createServer()
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return port
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const done = (ok) => (socket.destroy(), resolve(ok))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => done(chunk.toString().startsWith('+PONG')))
  })
}

async function main() {
  const self = fileURLToPath(import.meta.url)
  const started = []
  const dir = mkdtempSync(join(tmpdir(), 'wsmp-demo-redis-'))
  const shutdown = async (code = 0) => {
    for (const child of started.reverse()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await Promise.all(started.map((child) => (child.exitCode !== null || child.signalCode !== null ? null : new Promise((resolve) => child.once('exit', resolve)))))
    rmSync(dir, { recursive: true, force: true })
    process.exit(code)
  }
  process.on('SIGINT', () => void shutdown())
  process.on('SIGTERM', () => void shutdown())

  const redisPort = Number(process.env.REDIS_PORT || (await freePort()))
  const binary = process.env.REDIS_SERVER_PATH || 'redis-server'
  const redis = spawn(binary, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  started.push(redis)
  redis.on('error', (err) => {
    console.error(`demo: cannot start redis-server (${err.message}): install it (sudo apt-get install redis-server) or set REDIS_SERVER_PATH`)
    void shutdown(1)
  })
  const deadline = Date.now() + 10_000
  while (!(await ping(redisPort))) {
    if (Date.now() > deadline || redis.exitCode !== null) {
      console.error(`demo: redis-server did not start on 127.0.0.1:${redisPort}`)
      return shutdown(1)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const url = `redis://127.0.0.1:${redisPort}`
  console.log(`demo: redis-server (pid ${redis.pid}) on ${url}`)

  const startChild = (args) =>
    new Promise((resolve, reject) => {
      const child = fork(self, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      started.push(child)
      child.once('message', (msg) => resolve({ child, ...msg }))
      child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code})`)))
    })
  try {
    const authority = await startChild(['authority', url])
    console.log(`demo: authority (pid ${authority.child.pid})`)
    const ports = (process.env.EDGE_PORTS || '8081,8082').split(',').map(Number)
    const host = HOST.includes(':') ? `[${HOST}]` : HOST
    for (const port of ports) {
      const edge = await startChild(['edge', url, String(port)])
      console.log(`demo: edge (pid ${edge.child.pid}): http://${host}:${edge.port}/`)
    }
    console.log('demo: open each edge in a tab or two: one world across the edges (Ctrl+C stops everything)')
  } catch (err) {
    console.error(`demo: ${err.message}${/EADDRINUSE/.test(err.message) ? ' (set EDGE_PORTS to free ports)' : ''}`)
    await shutdown(1)
  }
}
