#!/usr/bin/env node
// A diagnostic probe (not part of `pnpm bench`): what one idle connection keeps on a server's heap,
// by object type. Starts one server (bench/servers/<impl>.mjs, in its own process), opens
// `--warmup` connections (warming every code path), then `--count` more: heapUsed and RSS per
// connection as the bench measures them (`process.memoryUsage()` after full GCs). Then a heap
// snapshot, `--count` more connections, another snapshot; it prints the objects the second
// snapshot has and the first has not (V8 keeps an object's snapshot id for its lifetime), grouped
// by type and, for generic ones (plain objects, arrays, property stores), by the field of their
// first holder, in bytes per connection.
//
//   node bench/heap-probe.mjs --impl wsmp|ws|socket.io [--count 1000] [--warmup 100] [--top 40]
//        [--options '{"serverRelay":false}'] [--keep DIR]
//
// wsmp runs with serverRelay off by default, as in the bench's memory workload. Bounded: at most
// 5,000 connections; 127.0.0.1 only; every child is ended by its pid.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { call, endAll, sleep, spawnChild } from './common/children.mjs'

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback
}
const impl = option('impl', 'wsmp')
const count = Math.min(5000, Number(option('count', 1000)))
const warmup = Math.min(5000, Number(option('warmup', 100)))
const top = Number(option('top', 40))
const serverOptions = option('options', impl === 'wsmp' ? '{"serverRelay":false}' : '{}')
const keep = option('keep', null)

/** Reads a .heapsnapshot: nodes (type, name, id, self size, first edge) and edges, flat. */
function readSnapshot(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'))
  const meta = snap.snapshot.meta
  const nf = meta.node_fields
  const ef = meta.edge_fields
  const nodeTypes = meta.node_types[0]
  const edgeTypes = meta.edge_types[0]
  const N = nf.length
  const E = ef.length
  const iType = nf.indexOf('type')
  const iName = nf.indexOf('name')
  const iId = nf.indexOf('id')
  const iSize = nf.indexOf('self_size')
  const iEdges = nf.indexOf('edge_count')
  const eType = ef.indexOf('type')
  const eName = ef.indexOf('name_or_index')
  const eTo = ef.indexOf('to_node')
  const nodes = snap.nodes
  const edges = snap.edges
  const strings = snap.strings
  const count = nodes.length / N
  // Closures' source positions (script id, line, column), when the snapshot has them.
  const where = new Map()
  const loc = snap.locations ?? []
  const L = (meta.location_fields ?? []).length || 4
  for (let k = 0; k + L - 1 < loc.length; k += L) where.set(loc[k] / N, `script ${loc[k + 1]}:${loc[k + 2] + 1}:${loc[k + 3] + 1}`)
  const firstEdge = new Uint32Array(count + 1)
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e
    e += nodes[i * N + iEdges] * E
    firstEdge[i + 1] = e
  }
  return {
    count,
    type: (i) => nodeTypes[nodes[i * N + iType]],
    name: (i) => strings[nodes[i * N + iName]],
    id: (i) => nodes[i * N + iId],
    size: (i) => nodes[i * N + iSize],
    where: (i) => where.get(i) ?? '',
    /** Calls fn(edgeType, edgeName, toIndex) for each edge of node i. */
    forEdges(i, fn) {
      for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += E) {
        const type = edgeTypes[edges[e + eType]]
        const raw = edges[e + eName]
        const name = type === 'element' || type === 'hidden' ? `[${raw}]` : strings[raw]
        fn(type, name, edges[e + eTo] / N)
      }
    },
  }
}

/** A readable label for a node: its constructor or kind, strings and code by kind alone. */
function label(s, i) {
  const type = s.type(i)
  const name = s.name(i)
  switch (type) {
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return `(${type})`
    case 'code':
      return '(compiled code)'
    case 'closure':
      return `closure ${name || '(anonymous)'}`
    case 'hidden':
    case 'array':
    case 'object shape':
      return `(${type}) ${name.replace(/\d+/g, '#').slice(0, 60)}`
    case 'native':
      return `(native) ${name}`
    default:
      return name.length > 60 ? `${name.slice(0, 57)}…` : name
  }
}

/**
 * The objects of snapshot `b` that `a` does not have, grouped by label; objects of a generic kind
 * (plain Object, arrays, property stores, system objects) also by the field of their first
 * retainer that holds them (`WebSocketPeer._stats`).
 */
function diff(a, b) {
  const before = new Set()
  for (let i = 0; i < a.count; i++) before.add(a.id(i))
  const fresh = new Uint8Array(b.count)
  for (let i = 0; i < b.count; i++) if (!before.has(b.id(i))) fresh[i] = 1
  // First retainer (by edge order) of each new node, and the edge's name.
  const holder = new Int32Array(b.count).fill(-1)
  const holderEdge = new Array(b.count)
  for (let i = 0; i < b.count; i++) {
    b.forEdges(i, (type, name, to) => {
      if (type === 'weak' || !fresh[to] || holder[to] >= 0 || to === i) return
      holder[to] = i
      holderEdge[to] = `${type === 'element' ? '[]' : name}`
    })
  }
  const generic = /^(Object|\(array\)|\(hidden\)|\(object shape\)|system|\(system\)|Array|closure)/
  const groups = new Map()
  let total = 0
  let native = 0
  for (let i = 0; i < b.count; i++) {
    if (!fresh[i]) continue
    let key = label(b, i)
    if (b.type(i) === 'closure' && b.where(i)) key = `${key} @${b.where(i)}`
    if (generic.test(key) && holder[i] >= 0) key = `${key}  ← ${label(b, holder[i])}.${holderEdge[i]}`
    const g = groups.get(key) ?? { count: 0, bytes: 0 }
    g.count++
    g.bytes += b.size(i)
    // Native (C++) objects are outside the JS heap (heapUsed); shown, but counted apart.
    if (b.type(i) === 'native' || b.name(i).startsWith('Node / ')) native += b.size(i)
    else total += b.size(i)
    groups.set(key, g)
  }
  return { groups, total, native }
}

const dir = keep ?? mkdtempSync(join(tmpdir(), 'wsmp-heap-'))
const server = await spawnChild('server-child.mjs', [impl, serverOptions], { execArgv: ['--expose-gc'] })
const load = await spawnChild('load-child.mjs')
try {
  const settle = async (n) => {
    const deadline = Date.now() + 30_000
    while ((await call(server.child, 'connections')).connections < n && Date.now() < deadline) await sleep(50)
    await sleep(300)
  }
  // heapUsed and RSS first (a snapshot's own memory would inflate RSS), then the snapshots around
  // `count` more connections.
  await call(load.child, 'idle', { impl, port: server.port, count: warmup, concurrency: 50 })
  await settle(warmup)
  const m0 = await call(server.child, 'mem')
  await call(load.child, 'idle', { impl, port: server.port, count, concurrency: 50 })
  await settle(warmup + count)
  const m1 = await call(server.child, 'mem')
  const a = await call(server.child, 'snapshot', { file: join(dir, `${impl}-a.heapsnapshot`) })
  await call(load.child, 'idle', { impl, port: server.port, count, concurrency: 50 })
  await settle(warmup + 2 * count)
  const b = await call(server.child, 'snapshot', { file: join(dir, `${impl}-b.heapsnapshot`) })
  await call(load.child, 'stop')
  const per = (key) => ((m1[key] - m0[key]) / count).toFixed(0)
  const spaces = Object.keys(m1.spaces)
    .map((name) => `${name} ${((m1.spaces[name].committed - (m0.spaces[name]?.committed ?? 0)) / count).toFixed(0)}`)
    .join(', ')
  console.log(
    `${impl}: per connection: rss ${per('rss')} B = V8 heap committed ${per('heapTotal')} B (used ${per('heapUsed')} B) + the rest ${((m1.rss - m1.heapTotal - m0.rss + m0.heapTotal) / count).toFixed(0)} B (external ${per('external')} B); committed by space: ${spaces}`,
  )
  const { groups, total, native } = diff(readSnapshot(a.file), readSnapshot(b.file))
  const rows = [...groups.entries()].sort((x, y) => y[1].bytes - x[1].bytes)
  console.log(
    `${impl}: ${count} idle connections (after ${warmup}); heapUsed ${((m1.heapUsed - m0.heapUsed) / count).toFixed(0)} B and RSS ${((m1.rss - m0.rss) / count).toFixed(0)} B per connection; new objects in the snapshot ${(total / count).toFixed(0)} B of JS heap (+ ${(native / count).toFixed(0)} B native) per connection`,
  )
  console.log(`${'bytes/conn'.padStart(10)} ${'objs/conn'.padStart(9)}  type  (← first holder.field)`)
  for (const [key, g] of rows.slice(0, top)) console.log(`${(g.bytes / count).toFixed(1).padStart(10)} ${(g.count / count).toFixed(2).padStart(9)}  ${key}`)
  const rest = rows.slice(top).reduce((n, [, g]) => n + g.bytes, 0)
  if (rest > 0) console.log(`${(rest / count).toFixed(1).padStart(10)} ${''.padStart(9)}  (${rows.length - top} more groups)`)
  console.log(
    `HEAP_JSON ${JSON.stringify({ impl, count, heapPerConn: (m1.heapUsed - m0.heapUsed) / count, rssPerConn: (m1.rss - m0.rss) / count, snapshotPerConn: total / count, nativePerConn: native / count, groups: Object.fromEntries(rows.slice(0, top).map(([k, g]) => [k, Number((g.bytes / count).toFixed(1))])) })}`,
  )
} finally {
  await endAll()
  if (!keep) rmSync(dir, { recursive: true, force: true })
}
