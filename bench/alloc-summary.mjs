// Summarises a sampling heap profile (bench/probe.mjs --alloc): bytes allocated per relayed message
// by allocating function (self) and by the path that led there.
//   node bench/alloc-summary.mjs FILE.heapprofile MESSAGES [top]
import { readFileSync } from 'node:fs'

const [file, messagesArg, topArg = '25'] = process.argv.slice(2)
if (!file || !messagesArg) {
  console.error('usage: node bench/alloc-summary.mjs <file.heapprofile> <messages> [top]')
  process.exit(1)
}
const messages = Number(messagesArg)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const self = new Map()
const paths = new Map()
let total = 0
const frame = (node) => {
  const f = node.callFrame
  const where = f.url ? `${f.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/packages\//, 'packages/')}:${f.lineNumber + 1}` : ''
  return `${f.functionName || '(anonymous)'} ${where}`.trim()
}
const walk = (node, stack) => {
  const here = [...stack, frame(node)]
  const bytes = node.selfSize ?? 0
  if (bytes > 0) {
    total += bytes
    self.set(here.at(-1), (self.get(here.at(-1)) ?? 0) + bytes)
    const path = here.slice(-4).join(' ← ')
    paths.set(path, (paths.get(path) ?? 0) + bytes)
  }
  for (const child of node.children ?? []) walk(child, here)
}
walk(profile.head, [])
const top = Number(topArg)
console.log(`${(total / messages).toFixed(0)} bytes allocated per message (sampled), by allocating function:`)
for (const [name, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(bytes / messages).toFixed(1).padStart(8)}  ${name}`)
