#!/usr/bin/env node
// pnpm bench: wsmp beside a minimal `ws` relay (our practical limit) and socket.io 4.8, same work,
// same machine, one invocation. Not part of the tests.
//
//   node bench/run.mjs [--rounds N] [--only fanout,latency,memory,bundle] [--impl wsmp,ws,socket.io]
//                      [--quick] [--profile] [--no-build] [--no-write] [--send chained|burst]
//   node bench/run.mjs --variant [--rounds N] [--ms N]   (pnpm bench --variant) the Variant codec
//                      beside MessagePack, and an RPC: bench/variant.mjs, one table
//   node bench/run.mjs --cluster [--quick] [--rounds N] [--no-write]   one process vs a cluster (bench/cluster.mjs)
//   node bench/run.mjs --latency [--rounds N] [--seconds S] [--warmup S] [--impl …] [--send chained|burst]
//
// --latency: the latency workload alone, N rounds (default 3), each with fresh server processes;
// prints every round and the wsmp/ws ratios' median and spread (see bench/README.md).
//
// Every server runs in its own child process, the load in other child processes, all on 127.0.0.1
// port 0 (ports travel over IPC). Every child is ended by pid at the end. See bench/README.md.
import { fork, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleSizes } from './bundle-size.mjs'
import { renderChart } from './common/chart.mjs'
import { call, end, endAll, killOnInterrupt, sleep, spawnChild, track } from './common/children.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const args = process.argv.slice(2)
const flag = (name) => args.includes(`--${name}`)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback
}

const quick = flag('quick')
const latencyOnly = flag('latency')
const IMPLS = option('impl', 'wsmp,ws,socket.io').split(',')
const ONLY = latencyOnly ? ['latency'] : option('only', 'fanout,latency,memory,bundle').split(',')
const ROUNDS = Number(option('rounds', quick ? 1 : 3))
/** Upper bounds of the latency-only mode (every loop is bounded in count and time). */
const MAX_LATENCY_ROUNDS = 25
const MAX_LATENCY_SECONDS = 20
const SEND = option('send', 'chained')
/** taskset(1), for --pin. */
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((file) => existsSync(file)) ?? null
/**
 * --pin (latency workload, Linux with taskset and 2+ cores): every server process on CPU 0 and the
 * load process on CPU 1. Unpinned, the scheduler wakes a server on the CPU of the load process
 * that woke it, and the server then often waits there until the load process blocks; how often it
 * may preempt it instead depends on its recent CPU use (bench/LATENCY.md). Chained sends keep one
 * server busy at a time, so the servers do not compete for CPU 0.
 */
const PIN = flag('pin')
if (PIN && (TASKSET === null || os.cpus().length < 2)) throw new Error('--pin needs taskset and at least 2 CPUs')
if (SEND !== 'chained' && SEND !== 'burst') throw new Error('--send is chained or burst')
/**
 * The latency workload: `seconds` at `rate` per server, the first `warmup` seconds discarded. The
 * warm-up is 3 s because V8 runs both servers' relay paths in baseline (unoptimised) code for
 * about the first 2,500 messages at 1,000/s (`node --trace-opt`); a shorter one measures JIT
 * warm-up, of which wsmp, with more JavaScript on the path, has more.
 */
function latencyConfig() {
  const warmup = Math.min(10, Math.max(0, Number(option('warmup', quick ? 1 : 3))))
  const seconds = Math.min(MAX_LATENCY_SECONDS, Math.max(warmup + 0.5, Number(option('seconds', quick ? 3 : warmup + 3))))
  const rounds = latencyOnly ? Math.min(MAX_LATENCY_ROUNDS, Math.max(1, Number(option('rounds', 3)))) : quick ? 1 : 5
  return { size: 32, rate: 1000, seconds, warmup, rounds, send: SEND }
}
const CONFIG = {
  fanout: {
    clients: 20,
    size: 32,
    rate: Number(option('rate', 30_000)),
    window: Number(option('window', 60_000)),
    loadProcs: 2,
    warmupMs: quick ? 500 : 1000,
    measureMs: quick ? 1500 : 3000,
  },
  latency: latencyConfig(),
  memory: { warmup: 100, count: quick ? 500 : 2000, concurrency: 50 },
}

// ---- child processes (bench/common/children.mjs) ---------------------------------------------

killOnInterrupt()

/**
 * `cpu` (a CPU number, Linux with taskset only): the child runs pinned to that CPU, through
 * `taskset -c cpu node …` (the IPC channel is inherited through it).
 */
function pinnedTo(cpu, execArgv = []) {
  return cpu !== null ? { execPath: TASKSET, execArgv: ['-c', String(cpu), process.execPath, ...execArgv] } : { execArgv }
}

async function startServer(impl, options = {}, execArgv = [], cpu = null) {
  const { child, port } = await spawnChild('server-child.mjs', [impl, JSON.stringify(options)], pinnedTo(cpu, ['--expose-gc', ...execArgv]))
  return { child, port }
}

// ---- workloads --------------------------------------------------------------------------------

async function runFanout(impl, profileDir) {
  const cfg = CONFIG.fanout
  const execArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${impl}-fanout.cpuprofile`] : []
  const server = await startServer(impl, {}, execArgv)
  const loads = await Promise.all(Array.from({ length: cfg.loadProcs }, () => spawnChild('load-child.mjs')))
  try {
    const per = Math.ceil(cfg.clients / cfg.loadProcs)
    await Promise.all(
      loads.map((load, i) =>
        call(load.child, 'fanout', {
          impl,
          port: server.port,
          clients: Math.min(per, cfg.clients - i * per),
          size: cfg.size,
          rate: cfg.rate,
          receivers: cfg.clients - 1,
          window: cfg.window,
        }),
      ),
    )
    await sleep(200)
    await Promise.all(loads.map((load) => call(load.child, 'start')))
    await sleep(cfg.warmupMs)
    const snap = () => Promise.all([call(server.child, 'cpu'), ...loads.map((load) => call(load.child, 'mark'))])
    const m0 = machineCpu()
    const [s0, ...l0] = await snap()
    await sleep(cfg.measureMs)
    const [s1, ...l1] = await snap()
    const m1 = machineCpu()
    await Promise.all(loads.map((load) => call(load.child, 'stop')))
    let delivered = 0
    let deliveredRate = 0
    let sentRate = 0
    let closed = 0
    let throttled = 0
    const loadCpu = []
    for (let i = 0; i < loads.length; i++) {
      const seconds = (l1[i].t - l0[i].t) / 1000
      delivered += l1[i].received - l0[i].received
      deliveredRate += (l1[i].received - l0[i].received) / seconds
      sentRate += (l1[i].sent - l0[i].sent) / seconds
      throttled += l1[i].throttled - l0[i].throttled
      closed += l1[i].closed
      loadCpu.push(cpuSeconds(l1[i].cpu, l0[i].cpu) / seconds)
    }
    const serverSeconds = (s1.t - s0.t) / 1000
    const serverCpu = cpuSeconds(s1.cpu, s0.cpu)
    const result = {
      deliveredPerSec: deliveredRate,
      offeredPerSec: cfg.rate * cfg.clients * (cfg.clients - 1),
      sentPerSec: sentRate * (cfg.clients - 1),
      serverCpuPerPacketUs: (serverCpu * 1e6) / delivered,
      serverCpuCores: serverCpu / serverSeconds,
      loadCpuCores: loadCpu,
      machineBusy: m0 && m1 ? (m1.busy - m0.busy) / (m1.total - m0.total) : NaN,
      throttled,
      closed,
    }
    result.saturated = saturatedSide(result)
    return result
  } finally {
    if (profileDir) await call(server.child, 'exit').catch(() => {})
    await Promise.all([end(server.child, profileDir ? 10_000 : 0), ...loads.map((load) => end(load.child))])
  }
}

/** Machine-wide CPU time from /proc/stat (Linux): busy and total jiffies over all cores. */
function machineCpu() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const total = fields.reduce((a, b) => a + b, 0)
    const idle = fields[3] + (fields[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return null
  }
}

function cpuSeconds(after, before) {
  return (after.user - before.user + after.system - before.system) / 1e6
}

/** Which side limited the delivered rate. */
function saturatedSide(r) {
  if (r.deliveredPerSec >= 0.97 * r.offeredPerSec) return 'none (offered rate met)'
  if (r.serverCpuCores >= 0.85) return 'server'
  if (Math.max(...r.loadCpuCores) >= 0.85) return 'load generator'
  if (r.machineBusy >= 0.85) return 'machine (both cores busy)'
  return 'neither side at full CPU (I/O bound)'
}

/** Every implementation's server at once, one load process driving them all in lockstep. */
async function runLatency(impls) {
  const cfg = CONFIG.latency
  // --pin: the servers on CPU 0, the load process on CPU 1 (see PIN).
  const servers = await Promise.all(impls.map((impl) => startServer(impl, {}, [], PIN ? 0 : null)))
  const { child } = await spawnChild('load-child.mjs', [], pinnedTo(PIN ? 1 : null))
  try {
    const targets = impls.map((impl, i) => ({ impl, port: servers[i].port }))
    return await call(child, 'latency', { targets, ...cfg })
  } finally {
    await Promise.all([...servers.map((server) => end(server.child)), end(child)])
  }
}

async function runMemory(impl) {
  const cfg = CONFIG.memory
  // wsmp with serverRelay off: it then assigns ids and nothing else, like the ws relay. (With the
  // relay on, every newcomer is announced to everyone: 2,000 connections cost ~4 million ADD_PEER
  // messages, which is the protocol's price, not memory per connection.)
  // Every server's young generation is pinned at 1 MB (V8 flags, the same for all): unpinned, V8
  // grows it while 2,000 connections arrive and shrinks it back only after ~10 s idle (its memory
  // reducer), so RSS 0.3 s after the last connection counts a transient semi-space size, a step
  // function of what happened to survive a scavenge, rather than memory per idle connection
  // (bench/LATENCY.md: waiting 12 s instead gives the same ratios as pinning).
  const server = await startServer(impl, impl === 'wsmp' ? { serverRelay: false } : {}, ['--max-semi-space-size=1', '--min-semi-space-size=1'])
  const { child } = await spawnChild('load-child.mjs')
  // Wait until the server itself counts `n` connections (wsmp: peer_connected polled), then
  // measure after full GCs.
  const settle = async (n) => {
    const deadline = Date.now() + 30_000
    while ((await call(server.child, 'connections')).connections < n && Date.now() < deadline) await sleep(50)
    await sleep(300)
    return call(server.child, 'mem')
  }
  try {
    // A first batch warms up every code path (JIT code is not per-connection memory), then the
    // measured batch: the delta over it, divided by its size.
    await call(child, 'idle', { impl, port: server.port, count: cfg.warmup, concurrency: cfg.concurrency }, 120_000)
    const before = await settle(cfg.warmup)
    const t0 = performance.now()
    await call(child, 'idle', { impl, port: server.port, count: cfg.count, concurrency: cfg.concurrency }, 120_000)
    const after = await settle(cfg.warmup + cfg.count)
    await call(child, 'stop')
    return {
      connections: after.connections - before.connections,
      heapPerConnBytes: (after.heapUsed - before.heapUsed) / cfg.count,
      rssPerConnBytes: (after.rss - before.rss) / cfg.count,
      connectSeconds: (performance.now() - t0) / 1000,
    }
  } finally {
    await Promise.all([end(server.child), end(child)])
  }
}

// ---- build ------------------------------------------------------------------------------------

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

function ensureBuilt() {
  const packages = ['core', 'client', 'server', 'godot']
  const outputs = packages.map((p) => join(root, `packages/${p}/dist/index.mjs`)).concat(join(root, 'packages/client/dist/wsmp.min.js'))
  const stale =
    outputs.some((file) => !existsSync(file)) ||
    Math.min(...outputs.map((file) => statSync(file).mtimeMs)) < Math.max(...packages.map((p) => newestMtime(join(root, `packages/${p}/src`))))
  if (!stale || flag('no-build')) return
  console.log('building (pnpm run build)…')
  execFileSync('pnpm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
}

// ---- report -----------------------------------------------------------------------------------

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Median and spread (min … max) of one metric over the rounds. */
function summarize(runs, pick) {
  const values = runs.map(pick).filter((v) => Number.isFinite(v))
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values }
}

function machine() {
  const cpus = os.cpus()
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((v) => Number(v.toFixed(2))),
  }
}

const fmt = {
  rate: (v) => (Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')}` : '–'),
  us: (v) => (Number.isFinite(v) ? v.toFixed(2) : '–'),
  ms: (v) => (Number.isFinite(v) ? v.toFixed(3) : '–'),
  kb: (v) => (Number.isFinite(v) ? (v / 1024).toFixed(2) : '–'),
  pct: (v) => (Number.isFinite(v) ? `${Math.round(v * 100)}%` : '–'),
}

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN
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

// ---- latency-only mode ------------------------------------------------------------------------

/**
 * `--latency`: the latency workload alone, `rounds` times, each round with fresh server processes
 * (all implementations at once, one load process). Prints each round's p50/p99 per server and the
 * wsmp/ws (and wsmp/socket.io) ratios of that round, then each ratio's median and spread over the
 * rounds. Writes bench/results/latency.json (not results.json) unless --no-write.
 */
async function latencyMain(info, started) {
  const cfg = CONFIG.latency
  console.log(
    `latency-only: ${cfg.rounds} round(s) × ${cfg.seconds} s at ${cfg.rate} msg/s per server (first ${cfg.warmup} s discarded), ${cfg.size}-byte payloads; ${IMPLS.join(', ')} each in its own server process, one load process, ${cfg.send} sends`,
  )
  const others = IMPLS.filter((impl) => impl !== 'wsmp')
  const rounds = []
  for (let round = 0; round < cfg.rounds; round++) {
    const all = await runLatency(IMPLS)
    rounds.push(all)
    const cells = IMPLS.map(
      (impl) =>
        `${impl} p50 ${fmt.ms(all[impl].p50)} p99 ${fmt.ms(all[impl].p99)}${all[impl].lost ? ` (${all[impl].lost} lost)` : ''}${cfg.send === 'burst' ? ` [${fmt.pct(all[impl].interleaved)} after another's answer]` : ''}`,
    )
    const ratios = all.wsmp
      ? others.map((other) => `wsmp/${other} p50 ${ratio(all.wsmp.p50, all[other].p50).toFixed(2)}× p99 ${ratio(all.wsmp.p99, all[other].p99).toFixed(2)}×`)
      : []
    console.log(`round ${String(round + 1).padStart(2)}: ${cells.join(' | ')}${ratios.length ? `  →  ${ratios.join(', ')}` : ''}`)
  }
  const spread = (values) => {
    const s = summarize(
      values.map((v) => ({ v })),
      (r) => r.v,
    )
    return { ...s, text: `${s.median.toFixed(2)}× (${s.min.toFixed(2)} … ${s.max.toFixed(2)})` }
  }
  const summary = { machine: info, config: cfg, date: new Date().toISOString(), rounds, servers: {}, ratios: {} }
  console.log()
  for (const impl of IMPLS) {
    const p50 = summarize(rounds, (r) => r[impl].p50)
    const p99 = summarize(rounds, (r) => r[impl].p99)
    summary.servers[impl] = { p50, p99 }
    console.log(
      `${impl.padEnd(9)} p50 median ${fmt.ms(p50.median)} ms (${fmt.ms(p50.min)} … ${fmt.ms(p50.max)}), p99 median ${fmt.ms(p99.median)} ms (${fmt.ms(p99.min)} … ${fmt.ms(p99.max)})`,
    )
  }
  if (IMPLS.includes('wsmp')) {
    for (const other of others) {
      const p50 = spread(rounds.map((r) => ratio(r.wsmp.p50, r[other].p50)))
      const p99 = spread(rounds.map((r) => ratio(r.wsmp.p99, r[other].p99)))
      summary.ratios[`wsmp/${other}`] = { p50, p99 }
      console.log(`wsmp/${other.padEnd(9)} over ${rounds.length} round(s): p50 ${p50.text}, p99 ${p99.text}   [median (min … max) of the per-round ratios]`)
    }
  }
  summary.seconds = Number(((performance.now() - started) / 1000).toFixed(1))
  console.log(
    `machine: ${info.cores} cores, ${info.cpu}, Node ${info.node}, load average before ${info.loadavg.join(' ')}, after ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}; ${summary.seconds} s`,
  )
  console.log(`LATENCY_JSON ${JSON.stringify({ ratios: summary.ratios, servers: summary.servers, send: cfg.send, rounds: rounds.length })}`)
  if (!flag('no-write')) {
    const dir = join(here, 'results')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'latency.json'), `${JSON.stringify(summary, null, 2)}\n`)
    console.log('wrote bench/results/latency.json')
  }
}

// ---- main -------------------------------------------------------------------------------------

/** `--variant`: bench/variant.mjs in a child process (its own table), with --rounds/--ms passed on. */
async function runVariant() {
  const passed = []
  for (const name of ['rounds', 'ms']) if (option(name, null) !== null) passed.push(`--${name}`, option(name, null))
  const child = track(fork(join(here, 'variant.mjs'), passed, { stdio: 'inherit' }))
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)))
  if (code !== 0) throw new Error(`bench/variant.mjs exited with ${code}`)
}

async function main() {
  ensureBuilt()
  if (flag('variant')) return runVariant()
  const started = performance.now()
  const info = machine()
  console.log(`wsmp bench: ${info.cores} cores (${info.cpu}), Node ${info.node}, load average ${info.loadavg.join(' ')}`)
  if (latencyOnly) return latencyMain(info, started)
  const results = { machine: info, config: CONFIG, rounds: ROUNDS, date: new Date().toISOString(), fanout: {}, latency: {}, memory: {}, bundle: null }
  const profileDir = flag('profile') ? join(here, 'results/profiles') : null
  if (profileDir) mkdirSync(profileDir, { recursive: true })

  if (ONLY.includes('fanout')) {
    const runs = Object.fromEntries(IMPLS.map((impl) => [impl, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const impl of IMPLS) {
        const r = await runFanout(impl, round === 0 ? profileDir : null)
        runs[impl].push(r)
        console.log(
          `fan-out  ${impl.padEnd(9)} round ${round + 1}: ${fmt.rate(r.deliveredPerSec)} delivered/s (offered ${fmt.rate(r.offeredPerSec)}, sent within the window ${fmt.rate(r.sentPerSec)}), server ${fmt.us(r.serverCpuPerPacketUs)} µs/packet at ${fmt.pct(r.serverCpuCores)} of a core, load ${r.loadCpuCores.map(fmt.pct).join('+')}, machine ${fmt.pct(r.machineBusy)} busy; saturated: ${r.saturated}${r.closed ? `; ${r.closed} clients closed!` : ''}`,
        )
      }
    }
    for (const impl of IMPLS) {
      results.fanout[impl] = {
        deliveredPerSec: summarize(runs[impl], (r) => r.deliveredPerSec),
        serverCpuPerPacketUs: summarize(runs[impl], (r) => r.serverCpuPerPacketUs),
        serverCpuCores: summarize(runs[impl], (r) => r.serverCpuCores),
        loadCpuCores: summarize(runs[impl], (r) => Math.max(...r.loadCpuCores)),
        saturated: runs[impl].map((r) => r.saturated),
        closedClients: runs[impl].reduce((n, r) => n + r.closed, 0),
        runs: runs[impl],
      }
    }
  }

  if (ONLY.includes('latency')) {
    const runs = Object.fromEntries(IMPLS.map((impl) => [impl, []]))
    for (let round = 0; round < CONFIG.latency.rounds; round++) {
      const all = await runLatency(IMPLS)
      for (const impl of IMPLS) {
        const r = all[impl]
        runs[impl].push(r)
        console.log(`latency  ${impl.padEnd(9)} round ${round + 1}: p50 ${fmt.ms(r.p50)} ms, p99 ${fmt.ms(r.p99)} ms, max ${fmt.ms(r.max)} ms (${r.count} samples, ${r.lost} lost)`)
      }
    }
    for (const impl of IMPLS) {
      results.latency[impl] = {
        p50: summarize(runs[impl], (r) => r.p50),
        p99: summarize(runs[impl], (r) => r.p99),
        lost: runs[impl].reduce((n, r) => n + r.lost, 0),
        runs: runs[impl],
      }
    }
  }

  if (ONLY.includes('memory')) {
    for (const impl of IMPLS) {
      const r = await runMemory(impl)
      results.memory[impl] = r
      console.log(
        `memory   ${impl.padEnd(9)}: ${r.connections} idle connections, heap ${fmt.kb(r.heapPerConnBytes)} KiB and RSS ${fmt.kb(r.rssPerConnBytes)} KiB per connection (connected in ${r.connectSeconds.toFixed(1)} s)`,
      )
    }
  }

  if (ONLY.includes('bundle')) results.bundle = await bundleSizes(root, here)
  await endAll()
  results.seconds = Number(((performance.now() - started) / 1000).toFixed(1))

  const pairedRatio = (key, other) => {
    const mine = results.latency.wsmp?.runs
    const theirs = results.latency[other]?.runs
    if (!mine || !theirs) return NaN
    return median(mine.map((run, i) => ratio(run[key], theirs[i]?.[key])))
  }
  const m = (section, impl, key) => results[section]?.[impl]?.[key]?.median ?? results[section]?.[impl]?.[key]
  const metrics = [
    { key: 'delivered', label: 'fan-out delivered packets/s', better: 'higher', unit: '/s', target: '≥ 6.0', get: (impl) => m('fanout', impl, 'deliveredPerSec'), show: fmt.rate },
    {
      key: 'cpu',
      label: 'server CPU per delivered packet (µs)',
      better: 'lower',
      unit: 'µs',
      target: '≤ 0.15',
      get: (impl) => m('fanout', impl, 'serverCpuPerPacketUs'),
      show: fmt.us,
    },
    { key: 'p50', label: 'relay latency p50 (ms)', better: 'lower', unit: 'ms', target: '≤ 1.0', get: (impl) => m('latency', impl, 'p50'), show: fmt.ms, paired: 'p50' },
    { key: 'p99', label: 'relay latency p99 (ms)', better: 'lower', unit: 'ms', target: '≤ 1.0', get: (impl) => m('latency', impl, 'p99'), show: fmt.ms, paired: 'p99' },
    { key: 'heap', label: 'heap per idle connection (KiB)', better: 'lower', unit: 'KiB', target: '≤ 1.0', get: (impl) => results.memory[impl]?.heapPerConnBytes, show: fmt.kb },
    { key: 'rss', label: 'RSS per idle connection (KiB)', better: 'lower', unit: 'KiB', target: '≤ 1.1', get: (impl) => results.memory[impl]?.rssPerConnBytes, show: fmt.kb },
    {
      key: 'bundle',
      label: 'script-tag file, gzip (KiB)',
      better: 'lower',
      unit: 'KiB',
      target: '',
      get: (impl) => (impl === 'ws' ? NaN : results.bundle?.[impl]?.gzip),
      show: fmt.kb,
    },
    {
      key: 'bundled',
      label: 'bundled app (rollup + terser), gzip (KiB)',
      better: 'lower',
      unit: 'KiB',
      target: '',
      get: (impl) => (impl === 'ws' ? NaN : results.bundle?.[impl]?.bundledGzip),
      show: fmt.kb,
    },
  ]
  const rows = [['metric', ...IMPLS, 'wsmp/ws', 'wsmp/socket.io', 'target (wsmp/ws)']]
  results.ratios = {}
  for (const metric of metrics) {
    const values = IMPLS.map(metric.get)
    const w = metric.get('wsmp')
    // Latency rounds run all servers at once, so a round's ratio compares the same moments of the
    // machine: the ratio shown is the median of the rounds' ratios.
    const vsWs = metric.paired ? pairedRatio(metric.paired, 'ws') : ratio(w, metric.get('ws'))
    const vsSio = metric.paired ? pairedRatio(metric.paired, 'socket.io') : ratio(w, metric.get('socket.io'))
    results.ratios[metric.key] = { wsmpOverWs: vsWs, wsmpOverSocketIo: vsSio }
    metric.vsWs = vsWs
    rows.push([metric.label, ...values.map(metric.show), Number.isFinite(vsWs) ? `${vsWs.toFixed(2)}×` : '–', Number.isFinite(vsSio) ? `${vsSio.toFixed(2)}×` : '–', metric.target])
  }
  if (ONLY.includes('fanout')) {
    rows.push(['server CPU during fan-out (cores)', ...IMPLS.map((impl) => fmt.pct(m('fanout', impl, 'serverCpuCores'))), '', '', ''])
    rows.push(['load generator CPU, busiest (cores)', ...IMPLS.map((impl) => fmt.pct(m('fanout', impl, 'loadCpuCores'))), '', '', ''])
  }
  console.log()
  console.log(table(rows))
  if (ONLY.includes('fanout')) {
    for (const impl of IMPLS) {
      const f = results.fanout[impl]
      console.log(
        `  ${impl}: delivered/s over ${ROUNDS} round(s) ${fmt.rate(f.deliveredPerSec.min)} … ${fmt.rate(f.deliveredPerSec.max)}, µs/packet ${fmt.us(f.serverCpuPerPacketUs.min)} … ${fmt.us(f.serverCpuPerPacketUs.max)}; saturated: ${[...new Set(f.saturated)].join(', ')}`,
      )
    }
  }
  if (ONLY.includes('latency')) {
    for (const impl of IMPLS) {
      const l = results.latency[impl]
      console.log(
        `  ${impl}: latency over ${CONFIG.latency.rounds} round(s) p50 ${fmt.ms(l.p50.min)} … ${fmt.ms(l.p50.max)} ms, p99 ${fmt.ms(l.p99.min)} … ${fmt.ms(l.p99.max)} ms`,
      )
    }
  }
  console.log(`machine: ${info.cores} cores, ${info.cpu}, Node ${info.node}; ${results.seconds} s`)
  console.log(
    `BENCH_JSON ${JSON.stringify({ machine: info, ratios: results.ratios, values: Object.fromEntries(metrics.map((mt) => [mt.key, Object.fromEntries(IMPLS.map((impl) => [impl, mt.get(impl) ?? null]))])) })}`,
  )

  if (!flag('no-write')) {
    const dir = join(here, 'results')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
    writeFileSync(join(dir, 'chart.svg'), renderChart({ impls: IMPLS, metrics, machine: info, rounds: ROUNDS, latencyRounds: CONFIG.latency.rounds }))
    console.log(`wrote bench/results/results.json and bench/results/chart.svg`)
  }
  if (profileDir) console.log(`CPU profiles in ${profileDir}; summarise with: node bench/profile-summary.mjs ${profileDir}/wsmp-fanout.cpuprofile`)
}

// pnpm bench --cluster: one process beside a @wsmp/cluster session instead (bench/cluster.mjs).
if (args.includes('--cluster')) await import('./cluster.mjs')
else
  main().then(
    () => endAll(),
    async (err) => {
      console.error(err)
      await endAll()
      process.exitCode = 1
    },
  )
