#!/usr/bin/env node
// pnpm bench --cluster: one wsmp server process beside a @wsmp/cluster session (an authority and
// two edges, through a redis-server started here), same load, same machine. Not part of the tests.
//
//   node bench/cluster.mjs [--quick] [--rounds N] [--no-write]      (pnpm bench --cluster … runs this)
//
// Measures: fan-out delivered packets/s (20 clients broadcasting, 2 load processes; in the cluster
// each load process's clients are on one edge), CPU per delivered packet of the single server and
// of the authority (and of the edges and Redis), one-way relay latency p50/p99 (single: both clients
// on the server; cluster: sender on edge 1, receiver on edge 0, so every packet crosses Redis twice)
// and memory per idle connection on an edge (and on the authority per remote peer). Everything on
// 127.0.0.1, every child ended by its pid. Prints a table and a line `BENCH_CLUSTER_JSON {…}`;
// writes bench/results/cluster.json. About 1 minute (--quick: about 30 s).
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { call, end, endAll, killOnInterrupt, sleep, spawnChild } from './common/children.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const args = process.argv.slice(2)
const flag = (name) => args.includes(`--${name}`)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback
}
const quick = flag('quick')
const ROUNDS = Number(option('rounds', quick ? 1 : 2))
const CONFIG = {
  fanout: { clients: 20, size: 32, rate: Number(option('rate', 30_000)), window: 60_000, loadProcs: 2, warmupMs: quick ? 700 : 1000, measureMs: quick ? 1500 : 3000 },
  latency: { size: 32, rate: 1000, seconds: quick ? 1.5 : 2.5, warmup: 0.5, rounds: quick ? 1 : 3 },
  memory: { warmup: 100, count: quick ? 500 : 2000, concurrency: 50 },
}
// ---- processes (bench/common/children.mjs) ---------------------------------------------------

killOnInterrupt(() => redis?.proc.kill('SIGKILL'))

// ---- redis-server -----------------------------------------------------------------------------

let redis = null

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

async function startRedis() {
  const binary = process.env.REDIS_SERVER_PATH || 'redis-server'
  const dir = mkdtempSync(join(os.tmpdir(), 'wsmp-bench-redis-'))
  const port = await freePort()
  const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], { stdio: 'ignore' })
  proc.on('error', (err) => {
    console.error(`bench --cluster needs redis-server (apt-get install redis-server, or REDIS_SERVER_PATH): ${err.message}`)
    process.exit(1)
  })
  const deadline = Date.now() + 10_000
  while (!(await ping(port))) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('redis-server did not start')
    await sleep(20)
  }
  return { proc, port, url: `redis://127.0.0.1:${port}`, dir }
}

/** CPU seconds a process has used (Linux /proc/<pid>/stat: utime + stime). */
function procCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

// ---- topologies -------------------------------------------------------------------------------

let sessionCounter = 0

/** One wsmp server: { ports: [port, port], cpuTargets, close }. */
async function single(options = {}) {
  const server = await spawnChild('server-child.mjs', ['wsmp', JSON.stringify(options)], { execArgv: ['--expose-gc'] })
  return { ports: [server.port, server.port], server: server.child, edges: [], close: () => end(server.child) }
}

/** An authority and two edges: { ports: [edge0, edge1], server: authority, edges }. */
async function cluster(options = {}) {
  const config = JSON.stringify({ url: redis.url, session: `bench-${process.pid}-${++sessionCounter}`, ...options })
  const authority = await spawnChild('cluster-child.mjs', ['authority', config], { execArgv: ['--expose-gc'] })
  const edges = await Promise.all([0, 1].map(() => spawnChild('cluster-child.mjs', ['edge', config], { execArgv: ['--expose-gc'] })))
  return {
    ports: edges.map((e) => e.port),
    server: authority.child,
    edges: edges.map((e) => e.child),
    close: () => Promise.all([authority.child, ...edges.map((e) => e.child)].map(end)),
  }
}

const cpuSeconds = (after, before) => (after.user - before.user + after.system - before.system) / 1e6

async function runFanout(kind) {
  const cfg = CONFIG.fanout
  const topo = kind === 'single' ? await single() : await cluster()
  const loads = await Promise.all(Array.from({ length: cfg.loadProcs }, () => spawnChild('load-child.mjs')))
  try {
    const per = Math.ceil(cfg.clients / cfg.loadProcs)
    await Promise.all(
      loads.map((load, i) =>
        call(load.child, 'fanout', {
          impl: 'wsmp',
          port: topo.ports[i],
          clients: Math.min(per, cfg.clients - i * per),
          size: cfg.size,
          rate: cfg.rate,
          receivers: cfg.clients - 1,
          window: cfg.window,
        }),
      ),
    )
    // Every client announced to every other (across edges too) before the load starts.
    await sleep(500)
    await Promise.all(loads.map((load) => call(load.child, 'start')))
    await sleep(cfg.warmupMs)
    const snap = () => Promise.all([call(topo.server, 'cpu'), Promise.all(topo.edges.map((e) => call(e, 'cpu'))), Promise.all(loads.map((load) => call(load.child, 'mark')))])
    const r0 = procCpuSeconds(redis.proc.pid)
    const [s0, e0, l0] = await snap()
    await sleep(cfg.measureMs)
    const [s1, e1, l1] = await snap()
    const r1 = procCpuSeconds(redis.proc.pid)
    await Promise.all(loads.map((load) => call(load.child, 'stop')))
    let delivered = 0
    let rate = 0
    let closed = 0
    for (let i = 0; i < loads.length; i++) {
      const seconds = (l1[i].t - l0[i].t) / 1000
      delivered += l1[i].received - l0[i].received
      rate += (l1[i].received - l0[i].received) / seconds
      closed += l1[i].closed
    }
    const seconds = (s1.t - s0.t) / 1000
    const serverCpu = cpuSeconds(s1.cpu, s0.cpu)
    const edgeCpu = e1.reduce((sum, e, i) => sum + cpuSeconds(e.cpu, e0[i].cpu), 0)
    return {
      deliveredPerSec: rate,
      serverCpuPerPacketUs: (serverCpu * 1e6) / delivered,
      serverCpuCores: serverCpu / seconds,
      edgeCpuPerPacketUs: topo.edges.length ? (edgeCpu * 1e6) / delivered : NaN,
      edgeCpuCores: topo.edges.length ? edgeCpu / seconds : NaN,
      redisCpuPerPacketUs: kind === 'cluster' ? ((r1 - r0) * 1e6) / delivered : NaN,
      redisCpuCores: kind === 'cluster' ? (r1 - r0) / seconds : NaN,
      closed,
    }
  } finally {
    await Promise.all([topo.close(), ...loads.map((load) => end(load.child))])
  }
}

async function runLatency() {
  const cfg = CONFIG.latency
  const one = await single()
  const many = await cluster()
  const { child } = await spawnChild('load-child.mjs')
  try {
    const targets = [
      { impl: 'wsmp', name: 'single', port: one.ports[0] },
      { impl: 'wsmp', name: 'cluster', port: many.ports[0], sourcePort: many.ports[1] },
    ]
    return await call(child, 'latency', { targets, ...cfg })
  } finally {
    await Promise.all([one.close(), many.close(), end(child)])
  }
}

async function runMemory(kind) {
  const cfg = CONFIG.memory
  // No relay: the server only assigns ids (as bench/run.mjs's memory run), so the figure is
  // per-connection memory, not the protocol's N² announcements.
  const topo = kind === 'single' ? await single({ serverRelay: false }) : await cluster({ serverRelay: false })
  const holder = kind === 'single' ? topo.server : topo.edges[0]
  const { child } = await spawnChild('load-child.mjs')
  const settle = async (n) => {
    const deadline = Date.now() + 60_000
    while ((await call(topo.server, 'connections')).connections < n && Date.now() < deadline) await sleep(50)
    await sleep(300)
    return Promise.all([call(holder, 'mem'), kind === 'cluster' ? call(topo.server, 'mem') : null])
  }
  try {
    await call(child, 'idle', { impl: 'wsmp', port: topo.ports[0], count: cfg.warmup, concurrency: cfg.concurrency })
    const [before, authBefore] = await settle(cfg.warmup)
    await call(child, 'idle', { impl: 'wsmp', port: topo.ports[0], count: cfg.count, concurrency: cfg.concurrency })
    const [after, authAfter] = await settle(cfg.warmup + cfg.count)
    await call(child, 'stop')
    return {
      connections: after.connections - before.connections,
      heapPerConnBytes: (after.heapUsed - before.heapUsed) / cfg.count,
      rssPerConnBytes: (after.rss - before.rss) / cfg.count,
      authorityHeapPerPeerBytes: authAfter ? (authAfter.heapUsed - authBefore.heapUsed) / cfg.count : NaN,
    }
  } finally {
    await Promise.all([topo.close(), end(child)])
  }
}

// ---- report -----------------------------------------------------------------------------------

const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const fmt = {
  rate: (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–'),
  us: (v) => (Number.isFinite(v) ? v.toFixed(2) : '–'),
  ms: (v) => (Number.isFinite(v) ? v.toFixed(3) : '–'),
  kb: (v) => (Number.isFinite(v) ? (v / 1024).toFixed(2) : '–'),
  pct: (v) => (Number.isFinite(v) ? `${Math.round(v * 100)}%` : '–'),
}

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)))
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ')
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line
    })
    .join('\n')
}

async function main() {
  if (!['server', 'cluster'].every((p) => existsSync(join(root, `packages/${p}/dist/index.mjs`)))) {
    console.log('building (pnpm run build)…')
    execFileSync('pnpm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  }
  const started = performance.now()
  const cpus = os.cpus()
  const machine = { cores: cpus.length, cpu: cpus[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg().map((v) => Number(v.toFixed(2))) }
  console.log(`wsmp bench --cluster: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, load average ${machine.loadavg.join(' ')}`)
  redis = await startRedis()
  const results = { machine, config: CONFIG, rounds: ROUNDS, date: new Date().toISOString(), fanout: { single: [], cluster: [] }, latency: { single: [], cluster: [] }, memory: {} }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of ['single', 'cluster']) {
        const r = await runFanout(kind)
        results.fanout[kind].push(r)
        console.log(
          `fan-out  ${kind.padEnd(7)} round ${round + 1}: ${fmt.rate(r.deliveredPerSec)} delivered/s; ${kind === 'single' ? 'server' : 'authority'} ${fmt.us(r.serverCpuPerPacketUs)} µs/packet at ${fmt.pct(r.serverCpuCores)} of a core${kind === 'cluster' ? `, edges ${fmt.us(r.edgeCpuPerPacketUs)} µs/packet (${fmt.pct(r.edgeCpuCores)}), redis ${fmt.us(r.redisCpuPerPacketUs)} µs/packet (${fmt.pct(r.redisCpuCores)})` : ''}${r.closed ? `; ${r.closed} clients closed!` : ''}`,
        )
      }
    }
    for (let round = 0; round < CONFIG.latency.rounds; round++) {
      const r = await runLatency()
      for (const kind of ['single', 'cluster']) results.latency[kind].push(r[kind])
      console.log(
        `latency  round ${round + 1}: single p50 ${fmt.ms(r.single.p50)} p99 ${fmt.ms(r.single.p99)} ms; cluster p50 ${fmt.ms(r.cluster.p50)} p99 ${fmt.ms(r.cluster.p99)} ms (lost ${r.single.lost}/${r.cluster.lost})`,
      )
    }
    for (const kind of ['single', 'cluster']) {
      const r = await runMemory(kind)
      results.memory[kind] = r
      console.log(
        `memory   ${kind.padEnd(7)}: ${r.connections} idle connections, heap ${fmt.kb(r.heapPerConnBytes)} KiB, RSS ${fmt.kb(r.rssPerConnBytes)} KiB per connection${kind === 'cluster' ? ` on the edge; authority heap ${fmt.kb(r.authorityHeapPerPeerBytes)} KiB per remote peer` : ''}`,
      )
    }
  } finally {
    await endAll()
    redis.proc.kill('SIGTERM')
    rmSync(redis.dir, { recursive: true, force: true })
  }
  const f = (kind, key) => median(results.fanout[kind].map((r) => r[key]))
  const l = (kind, key) => median(results.latency[kind].map((r) => r[key]))
  const v = {
    deliveredPerSec: { single: f('single', 'deliveredPerSec'), cluster: f('cluster', 'deliveredPerSec') },
    serverCpuPerPacketUs: { single: f('single', 'serverCpuPerPacketUs'), cluster: f('cluster', 'serverCpuPerPacketUs') },
    edgeCpuPerPacketUs: { cluster: f('cluster', 'edgeCpuPerPacketUs') },
    redisCpuPerPacketUs: { cluster: f('cluster', 'redisCpuPerPacketUs') },
    p50: { single: l('single', 'p50'), cluster: l('cluster', 'p50') },
    p99: { single: l('single', 'p99'), cluster: l('cluster', 'p99') },
    heapPerConn: { single: results.memory.single.heapPerConnBytes, cluster: results.memory.cluster.heapPerConnBytes },
    rssPerConn: { single: results.memory.single.rssPerConnBytes, cluster: results.memory.cluster.rssPerConnBytes },
    authorityHeapPerPeer: { cluster: results.memory.cluster.authorityHeapPerPeerBytes },
  }
  const rows = [
    ['metric', 'one process', 'authority + 2 edges', 'note'],
    ['fan-out delivered packets/s', fmt.rate(v.deliveredPerSec.single), fmt.rate(v.deliveredPerSec.cluster), `${CONFIG.fanout.clients} clients broadcasting`],
    ['server / authority CPU per delivered packet (µs)', fmt.us(v.serverCpuPerPacketUs.single), fmt.us(v.serverCpuPerPacketUs.cluster), ''],
    ['edges CPU per delivered packet, both (µs)', '', fmt.us(v.edgeCpuPerPacketUs.cluster), ''],
    ['redis-server CPU per delivered packet (µs)', '', fmt.us(v.redisCpuPerPacketUs.cluster), ''],
    ['relay latency p50 (ms)', fmt.ms(v.p50.single), fmt.ms(v.p50.cluster), `added by the Redis hop: ${fmt.ms(v.p50.cluster - v.p50.single)} ms`],
    ['relay latency p99 (ms)', fmt.ms(v.p99.single), fmt.ms(v.p99.cluster), `added by the Redis hop: ${fmt.ms(v.p99.cluster - v.p99.single)} ms`],
    [
      'heap per idle connection (KiB)',
      fmt.kb(v.heapPerConn.single),
      fmt.kb(v.heapPerConn.cluster),
      `on the edge; authority ${fmt.kb(v.authorityHeapPerPeer.cluster)} KiB per remote peer`,
    ],
    ['RSS per idle connection (KiB)', fmt.kb(v.rssPerConn.single), fmt.kb(v.rssPerConn.cluster), 'on the edge'],
  ]
  results.values = v
  results.seconds = Number(((performance.now() - started) / 1000).toFixed(1))
  console.log()
  console.log(table(rows))
  console.log(`machine: ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}; every process (servers, Redis, load) shares these cores; ${results.seconds} s`)
  console.log(`BENCH_CLUSTER_JSON ${JSON.stringify({ machine, values: v })}`)
  if (!flag('no-write')) {
    mkdirSync(join(here, 'results'), { recursive: true })
    writeFileSync(join(here, 'results', 'cluster.json'), `${JSON.stringify(results, null, 2)}\n`)
    console.log('wrote bench/results/cluster.json')
  }
}

main().catch(async (err) => {
  console.error(err)
  await endAll()
  redis?.proc.kill('SIGKILL')
  process.exitCode = 1
})
