// One server under test, in its own process. argv: <impl> [json options]. Talks over IPC:
//   → { type: 'ready', port }            once listening
//   ← { id, cmd: 'cpu' }                 → { id, cpu: process.cpuUsage(), t: hrtime ms }
//   ← { id, cmd: 'mem' }                 → { id, heapUsed, heapTotal, external, rss, spaces, connections } after full GCs
//   ← { id, cmd: 'connections' }         → { id, connections }
//   ← { id, cmd: 'snapshot', file }      → { id, file } after full GCs, a heap snapshot written to `file`
//   ← { id, cmd: 'alloc-start', interval } starts V8's sampling heap profiler (collected objects included)
//   ← { id, cmd: 'alloc-stop', file }    → { id, file } stops it and writes the profile (.heapprofile)
//   ← { id, cmd: 'exit' }                closes the server and exits (writes --cpu-prof output)
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
const [impl, json = '{}'] = process.argv.slice(2)
const { start } = await import(`./servers/${impl}.mjs`)
const server = await start(JSON.parse(json))

function gcFully() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')
  for (let i = 0; i < 4; i++) globalThis.gc()
}

process.on('message', (msg) => {
  const reply = (body) => process.send({ id: msg.id, ...body })
  switch (msg.cmd) {
    case 'cpu':
      reply({ cpu: process.cpuUsage(), t: performance.now() })
      break
    case 'mem': {
      gcFully()
      const mem = process.memoryUsage()
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { committed: s.physical_space_size, used: s.space_used_size }]))
      reply({ heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, rss: mem.rss, spaces, connections: server.connections() })
      break
    }
    case 'snapshot':
      gcFully()
      reply({ file: writeHeapSnapshot(msg.file) })
      break
    case 'alloc-start': {
      // Every allocation is sampled (about one in `interval` bytes), those the GC collected since
      // included: what the server allocates per packet, not only what it keeps.
      const session = new Session()
      session.connect()
      globalThis.allocSession = session
      session.post('HeapProfiler.startSampling', { samplingInterval: msg.interval ?? 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, (err) =>
        reply({ error: err ? String(err) : undefined }),
      )
      break
    }
    case 'alloc-stop':
      globalThis.allocSession.post('HeapProfiler.stopSampling', (err, result) => {
        if (err) return reply({ error: String(err) })
        writeFileSync(msg.file, JSON.stringify(result.profile))
        reply({ file: msg.file })
      })
      break
    case 'connections':
      reply({ connections: server.connections() })
      break
    case 'exit':
      server.close()
      reply({})
      setImmediate(() => process.exit(0))
      break
  }
})
process.on('disconnect', () => process.exit(0))
process.send({ type: 'ready', port: server.port })
