// wsmp: the built @wsmp/server (dist), as an application would run it.
import { ErrorCode, WebSocketMultiplayerPeer } from '@wsmp/server'

/** maxPacketsPerSecond for the bench's clients: above any load it offers (see run.mjs `rate`). */
const RATE_LIMIT = 1_000_000

export async function start({ serverRelay = true } = {}) {
  // The fan-out load is 30,000 messages/s per client, 3× the default rate limit (a game client's
  // ceiling): limits stay on — their cost is measured — set above the load.
  const server = new WebSocketMultiplayerPeer({ logger: null, autoPoll: true, serverRelay, maxPacketsPerSecond: RATE_LIMIT })
  let connected = 0
  server.on('peer_connected', () => connected++)
  server.on('peer_disconnected', () => connected--)
  const err = await server.createServer(0, '127.0.0.1')
  if (err !== ErrorCode.OK) throw new Error(`createServer: ${server.getLastError()}`)
  return { port: server.getLocalPort(), connections: () => connected, close: () => server.close() }
}
