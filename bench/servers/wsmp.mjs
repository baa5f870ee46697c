// wsmp: the built @wsmp/server (dist), as an application would run it.
import { ErrorCode, WebSocketMultiplayerPeer } from '@wsmp/server'

export async function start({ serverRelay = true } = {}) {
  const server = new WebSocketMultiplayerPeer({ logger: null, autoPoll: true, serverRelay })
  let connected = 0
  server.on('peer_connected', () => connected++)
  server.on('peer_disconnected', () => connected--)
  const err = await server.createServer(0, '127.0.0.1')
  if (err !== ErrorCode.OK) throw new Error(`createServer: ${server.getLastError()}`)
  return { port: server.getLocalPort(), connections: () => connected, close: () => server.close() }
}
