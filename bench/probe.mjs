#!/usr/bin/env node
// A diagnostic probe (not part of `pnpm bench`): ONE server, optionally started under a wrapper
// (strace, valgrind, perf), driven by one load process with the 1,000 msg/s one-sender latency
// workload for `--count` messages. Prints the server's pid, its CPU time over the run and the
// latency; the wrapper's own output goes where its options say. Used for bench/LATENCY.md.
//
//   node bench/probe.mjs --impl wsmp|ws|socket.io [--count N] [--rate R] [--size B]
//        [--wrap "strace -f -qq -c -o /tmp/x"] [--node-args "--cpu-prof --cpu-prof-dir=/tmp/p"]
//        [--options '{"serverRelay":false}'] [--warmup N] [--warmup-rate R]
//        [--mark "callgrind_control -z {pid}"] [--end "callgrind_control -d {pid}"]
//        [--alloc FILE.heapprofile]   (with --window: allocations sampled between --mark and --end)
//
// --warmup runs N messages first (on their own connections; JIT warm-up), then --mark runs (a
// shell command, {pid} is the server's pid), then the measured run, then --end.
// --window A,B instead runs --mark A seconds into the measured run and --end B seconds into it
// (same connections, after the JIT settled) and reports how many messages were relayed between.
//
// Differential use: run with two counts (e.g. 1000 and 3000) and divide the difference of any
// counter by the difference of the counts: what one relayed packet costs, start-up excluded.
// Bounded: at most 60,000 messages; the server listens on 127.0.0.1; every child is ended by pid.
import { execSync } from 'node:child_process'
import { call, endAll, spawnChild } from './common/children.mjs'

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback
}
const impl = option('impl', 'wsmp')
const count = Math.min(60_000, Number(option('count', 2000)))
const rate = Number(option('rate', 1000))
const size = Number(option('size', 32))
const wrap = option('wrap', '').split(' ').filter(Boolean)
const nodeArgs = option('node-args', '').split(' ').filter(Boolean)
const serverOptions = option('options', '{}')
const warmup = Math.min(60_000, Number(option('warmup', 0)))
const warmupRate = Number(option('warmup-rate', rate))
const windowAt = option('window', '').split(',').filter(Boolean).map(Number)
const allocFile = option('alloc', '')
const markCmd = option('mark', '')
const endCmd = option('end', '')
const hook = (cmd, pid) => {
  if (cmd) execSync(cmd.replaceAll('{pid}', String(pid)), { stdio: 'inherit' })
}

// Under a wrapper, fork() runs `<wrapper…> node <execArgv> server-child.mjs <args>`; the IPC
// channel's fd is inherited through it.
const serverSpawn = wrap.length > 0 ? { execPath: wrap[0], execArgv: [...wrap.slice(1), process.execPath, '--expose-gc', ...nodeArgs] } : { execArgv: ['--expose-gc', ...nodeArgs] }
const server = await spawnChild('server-child.mjs', [impl, serverOptions], { ...serverSpawn, startMs: 60_000 })
const load = await spawnChild('load-child.mjs')
try {
  console.log(`probe: ${impl} server pid ${server.child.pid} (port ${server.port}), load pid ${load.child.pid}; ${count} messages at ${rate}/s`)
  if (warmup > 0) await call(load.child, 'latency', { targets: [{ impl, port: server.port }], size, rate: warmupRate, seconds: warmup / warmupRate, warmup: 0 })
  if (windowAt.length !== 2) hook(markCmd, server.child.pid)
  const c0 = await call(server.child, 'cpu')
  const running = call(load.child, 'latency', { targets: [{ impl, port: server.port }], size, rate, seconds: count / rate, warmup: Math.min(0.5, count / rate / 4) }, 600_000)
  if (windowAt.length === 2) {
    const t0 = Date.now()
    await new Promise((resolve) => setTimeout(resolve, windowAt[0] * 1000))
    const p0 = (await call(load.child, 'progress')).received
    hook(markCmd, server.child.pid)
    if (allocFile) await call(server.child, 'alloc-start', { interval: 256 })
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, windowAt[1] * 1000 - (Date.now() - t0))))
    if (allocFile) await call(server.child, 'alloc-stop', { file: allocFile })
    hook(endCmd, server.child.pid)
    const p1 = (await call(load.child, 'progress')).received
    console.log(`probe: window ${windowAt.join('…')} s: ${p1 - p0} messages relayed between --mark and --end`)
  }
  const result = await running
  const c1 = await call(server.child, 'cpu')
  if (windowAt.length !== 2) hook(endCmd, server.child.pid)
  const r = result[impl]
  const cpuUs = c1.cpu.user - c0.cpu.user + c1.cpu.system - c0.cpu.system
  console.log(
    `probe: server CPU ${(cpuUs / 1000).toFixed(1)} ms (user ${((c1.cpu.user - c0.cpu.user) / 1000).toFixed(1)}, system ${((c1.cpu.system - c0.cpu.system) / 1000).toFixed(1)}) = ${(cpuUs / count).toFixed(1)} µs per message`,
  )
  console.log(`probe: latency p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, max ${r.max.toFixed(3)} ms (${r.count} samples, ${r.lost} lost)`)
  console.log(`PROBE_JSON ${JSON.stringify({ ...r, impl, messages: count, cpuUs, userUs: c1.cpu.user - c0.cpu.user, systemUs: c1.cpu.system - c0.cpu.system })}`)
  await call(load.child, 'stop')
  // Let the server write its profile / the wrapper its summary.
  await call(server.child, 'exit').catch(() => {})
  await Promise.race([new Promise((resolve) => server.child.once('exit', resolve)), new Promise((resolve) => setTimeout(resolve, 30_000))])
} finally {
  await endAll()
}
