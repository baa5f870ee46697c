// socket.io 4.8: websocket transport only, binary payloads, socket.broadcast.emit with the
// sender's number (the same work as the other two: forward to everyone else, say who sent it).
import { createServer } from 'node:http'
import { once } from 'node:events'
import { Server } from 'socket.io'

export async function start() {
  const http = createServer()
  const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false })
  let nextId = 2
  io.on('connection', (socket) => {
    const id = nextId++
    socket.on('m', (data) => socket.broadcast.emit('m', id, data))
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  return { port: http.address().port, connections: () => io.engine.clientsCount, close: () => io.close() }
}
