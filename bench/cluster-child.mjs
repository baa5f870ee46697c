// One process of a benchmarked cluster. argv: <authority|edge> <json { url, session, serverRelay }>.
// IPC, as server-child.mjs:
//   → { type: 'ready', port }            the edge's port once it serves (0 for the authority)
//   ← { id, cmd: 'cpu' }                 → { id, cpu: process.cpuUsage(), t }
//   ← { id, cmd: 'mem' }                 → { id, heapUsed, rss, connections } after full GCs
//   ← { id, cmd: 'connections' }         → { id, connections } (authority: peers connected; edge: its clients)
//   ← { id, cmd: 'stats' }               → { id, stats } (the cluster object's counters)
//   ← { id, cmd: 'exit' }                closes and exits
import { WebSocketMultiplayerPeer } from '@wsmp/server'
import { RedisCluster } from '@wsmp/cluster'

/** maxPacketsPerSecond for the bench's clients: above any load it offers (see run.mjs `rate`). */
const RATE_LIMIT = 1_000_000

const [role, json = '{}'] = process.argv.slice(2)
const { url, session, serverRelay = true } = JSON.parse(json)
let connections = () => 0
let node
if (role === 'authority') {
  // The fan-out load is 30,000 messages/s per client, 3× the default rate limit (a game client's
  // ceiling): limits stay on — their cost is measured — set above the load.
  const game = new WebSocketMultiplayerPeer({ logger: null, autoPoll: true, serverRelay, maxPacketsPerSecond: RATE_LIMIT })
  let connected = 0
  game.on('peer_connected', () => connected++)
  game.on('peer_disconnected', () => connected--)
  node = await RedisCluster.authority(game, { url, session, logger: null })
  connections = () => connected
} else {
  node = await RedisCluster.edge({ url, session, port: 0, bindAddress: '127.0.0.1', logger: null })
  await node.whenServing(15_000)
  connections = () => node.getClientCount()
}

function gcFully() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')
  for (let i = 0; i < 4; i++) globalThis.gc()
}

process.on('message', async (msg) => {
  const reply = (body) => process.send({ id: msg.id, ...body })
  switch (msg.cmd) {
    case 'cpu':
      reply({ cpu: process.cpuUsage(), t: performance.now() })
      break
    case 'mem': {
      gcFully()
      const mem = process.memoryUsage()
      reply({ heapUsed: mem.heapUsed, rss: mem.rss, connections: connections() })
      break
    }
    case 'connections':
      reply({ connections: connections() })
      break
    case 'stats':
      reply({ stats: node.getStats() })
      break
    case 'exit':
      await node.close()
      reply({})
      setImmediate(() => process.exit(0))
      break
  }
})
process.on('disconnect', () => process.exit(0))
process.send({ type: 'ready', port: role === 'edge' ? node.getLocalPort() : 0 })
