// The practical limit: a minimal hand-written relay on `ws`, doing the same work as wsmp's relay
// and nothing more. It assigns each client an id (sent as one int32 LE message, as wsmp does) and
// forwards every message to all other clients with the sender's 4-byte id in front.
import { once } from 'node:events'
import { WebSocketServer } from 'ws'

export async function start() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, clientTracking: false, perMessageDeflate: false, maxPayload: 65535 })
  const clients = new Set()
  let nextId = 2
  wss.on('connection', (ws) => {
    const id = nextId++
    const hello = Buffer.allocUnsafe(4)
    hello.writeInt32LE(id, 0)
    ws.send(hello)
    clients.add(ws)
    ws.on('message', (data) => {
      const out = Buffer.allocUnsafe(4 + data.length)
      out.writeInt32LE(id, 0)
      data.copy(out, 4)
      for (const other of clients) if (other !== ws) other.send(out)
    })
    ws.on('close', () => clients.delete(ws))
    ws.on('error', () => {})
  })
  await once(wss, 'listening')
  return { port: wss.address().port, connections: () => clients.size, close: () => wss.close() }
}
