#!/usr/bin/env node
// Summarises a callgrind dump of a server (bench/probe.mjs run under valgrind --tool=callgrind):
// instructions of the whole file and per function (self cost), per relayed message. JIT frames,
// which callgrind shows as bare addresses, are named from the process's perf map (node
// --perf-basic-prof writes /tmp/perf-PID.map; bench/LATENCY.md shows the probe command).
//   node bench/callgrind-summary.mjs CALLGRIND.OUT MESSAGES [PERF.MAP] [top]
import { readFileSync } from 'node:fs'

const [file, messagesArg, mapFile, topArg = '40'] = process.argv.slice(2)
if (!file || !messagesArg) {
  console.error('usage: node bench/callgrind-summary.mjs <callgrind.out> <messages> [perf map] [top]')
  process.exit(1)
}
const messages = Number(messagesArg)
// perf map lines: "START SIZE name" (hex, hex, rest), sorted for a binary search.
const ranges = mapFile
  ? readFileSync(mapFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [start, size, ...name] = line.split(' ')
        return { start: parseInt(start, 16), end: parseInt(start, 16) + parseInt(size, 16), name: name.join(' ') }
      })
      .sort((a, b) => a.start - b.start)
  : []
const resolve = (name) => {
  const m = /^0x([0-9a-f]+)$/i.exec(name)
  if (!m) return name
  const at = parseInt(m[1], 16)
  let lo = 0
  let hi = ranges.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const r = ranges[mid]
    if (at < r.start) hi = mid - 1
    else if (at >= r.end) lo = mid + 1
    else return r.name
  }
  return '(unknown JIT code)'
}
// JIT compilation on the main thread (the probe runs node with --no-concurrent-recompilation, so
// TurboFan's work is counted here, but how much of it falls in the window varies between runs):
// the inclusive cost of calls into these from outside them is reported apart.
const COMPILE = /^v8::internal::Runtime_Compile|^v8::internal::Runtime_InstallBaselineCode|BaselineBatchCompiler::CompileBatch/
// Callgrind's format: "fn=(id) name" starts a function's block (later "fn=(id)" alone; "cfn=" names
// a callee the same way); each cost line ends with the Ir count; a "calls=" line is followed by the
// call's inclusive cost (not the caller's self cost).
const names = new Map()
const self = new Map()
const named = (spec) => {
  const m = /^\((\d+)\)(?: (.*))?$/.exec(spec)
  if (!m) return resolve(spec)
  if (m[2] !== undefined) names.set(m[1], resolve(m[2]))
  return names.get(m[1]) ?? m[1]
}
let current = '?'
let callee = '?'
let inCall = false
let total = 0
let compile = 0
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line.startsWith('fn=')) {
    current = named(line.slice(3))
    continue
  }
  if (line.startsWith('cfn=')) {
    callee = named(line.slice(4))
    continue
  }
  if (line.startsWith('calls=')) {
    inCall = true
    continue
  }
  if (!/^[0-9+*-]/.test(line)) continue
  const parts = line.trim().split(/\s+/)
  const ir = Number(parts[parts.length - 1])
  if (parts.length < 2 || !Number.isFinite(ir)) continue
  if (inCall) {
    inCall = false
    if (COMPILE.test(callee) && !COMPILE.test(current)) compile += ir
    continue
  }
  total += ir
  self.set(current, (self.get(current) ?? 0) + ir)
}
const per = (n) => (n / messages).toFixed(0)
console.log(
  `${per(total - compile)} instructions per message without JIT compilation (${per(total)} with its ${per(compile)}; ${total} over ${messages}); by function (self, compilation included):`,
)
for (const [name, ir] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${(ir / messages).toFixed(1).padStart(9)}  ${name}`)
