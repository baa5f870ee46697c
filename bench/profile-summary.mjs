// Summarises a .cpuprofile (node --cpu-prof): the top frames by self time, and by total time.
//   node bench/profile-summary.mjs bench/results/profiles/wsmp-fanout.cpuprofile [top]
import { readFileSync } from 'node:fs'

const [file, topArg = '25'] = process.argv.slice(2)
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]')
  process.exit(1)
}
const top = Number(topArg)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

// Self time per node from the samples and their time deltas.
const selfTime = new Map()
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...selfTime.values()].reduce((a, b) => a + b, 0)

const label = (node) => {
  const f = node.callFrame
  const where = f.url ? `${f.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/packages\//, 'packages/')}:${f.lineNumber + 1}` : ''
  return `${f.functionName || '(anonymous)'} ${where}`.trim()
}
const self = new Map()
const inclusive = new Map()
for (const [id, time] of selfTime) {
  const key = label(byId.get(id))
  self.set(key, (self.get(key) ?? 0) + time)
  // Charge every distinct frame on the stack once.
  const seen = new Set()
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const k = label(byId.get(at))
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + time)
  }
}
const show = (map, title) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`)
  for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`)
  }
}
show(self, 'self time')
show(inclusive, 'total time')
