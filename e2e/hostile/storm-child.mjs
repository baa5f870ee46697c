// A join storm from a process of its own (so the test process's honest clients are not starved):
// `count` raw TCP WebSocket connections to 127.0.0.1:`port`, opened as fast as this process can
// (at most `inFlight` handshakes at once; default: all), each counted as admitted when its 4-byte
// id arrives; everything after the id (the roster, announcements) is read and thrown away unparsed.
// Not parsing, they cannot answer the server's pings: instead every admitted connection sends an
// unsolicited pong every 2 s (RFC 6455 §5.5.3: a unidirectional heartbeat), so the server's silence
// watch (peerTimeout) hears from it, as it would from a real client answering its pings.
// Config: one JSON argument {port, count, inFlight?, path?}. IPC out: 'started', 'progress'
// {opened, admitted, failed, t} every 250 ms, 'admitted' {admitted, failed, ms, slowestMs} once every
// connection got its id or failed, 'left' {ms} after the 'leave' command closed them all.
import * as net from 'node:net'

const config = JSON.parse(process.argv[2] ?? '{}')
const { port, count } = config
const inFlight = config.inFlight ?? count
const head = Buffer.from(
  `GET ${config.path ?? '/'} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  'latin1',
)
const send = (msg) => {
  if (process.connected) process.send(msg)
}

const sockets = []
/** Connections that got their id: they send the heartbeat. */
const admittedSockets = []
/** A masked, empty pong frame. */
const pong = Buffer.from([0x8a, 0x80, 0, 0, 0, 0])
const heartbeat = setInterval(() => {
  for (const socket of admittedSockets) if (!socket.destroyed) socket.write(pong)
}, 2000)
let opened = 0
let admitted = 0
let failed = 0
let pending = 0
let slowestMs = 0
/** Handshakes by time to the id: under 100 ms, 1 s, 3 s, and longer (a SYN retransmitted after a full listen backlog waits 1 s, then 3 s). */
const histogram = { '<100ms': 0, '<1s': 0, '<3s': 0, '>=3s': 0 }
let started = 0
let reported = false
const failures = new Map()

function finished() {
  if (reported || admitted + failed < count) return
  reported = true
  send({ type: 'admitted', admitted, failed, ms: Math.round(performance.now() - started), slowestMs: Math.round(slowestMs), histogram, failures: Object.fromEntries(failures) })
}

function open() {
  opened++
  pending++
  const at = performance.now()
  const socket = net.connect(port, '127.0.0.1')
  sockets.push(socket)
  let state = 0 // 0: waiting for the response head, 1: for the id frame, 2: admitted
  let buffer = Buffer.alloc(0)
  const settle = (ok, why) => {
    pending--
    if (ok) {
      admitted++
      const ms = performance.now() - at
      slowestMs = Math.max(slowestMs, ms)
      histogram[ms < 100 ? '<100ms' : ms < 1000 ? '<1s' : ms < 3000 ? '<3s' : '>=3s']++
    } else {
      failed++
      failures.set(why, (failures.get(why) ?? 0) + 1)
    }
    if (opened < count) open()
    finished()
  }
  socket.on('connect', () => socket.write(head))
  socket.on('data', (chunk) => {
    if (state === 2) return
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    if (state === 0) {
      const end = buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      if (!buffer.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
        state = 2
        settle(false, buffer.subarray(0, buffer.indexOf('\r\n')).toString('latin1'))
        socket.destroy()
        return
      }
      buffer = buffer.subarray(end + 4)
      state = 1
    }
    // The first frame: [0x82][4][int32 LE id].
    if (buffer.length >= 6) {
      state = 2
      const ok = buffer[0] === 0x82 && buffer[1] === 4
      buffer = Buffer.alloc(0)
      if (ok) admittedSockets.push(socket)
      settle(ok, ok ? '' : 'not an id')
    }
  })
  socket.on('error', () => {})
  socket.on('close', () => {
    if (state !== 2) {
      state = 2
      settle(false, 'closed before its id')
    }
  })
}

process.on('message', (msg) => {
  if (msg.cmd === 'leave') {
    const at = performance.now()
    clearInterval(heartbeat)
    for (const socket of sockets) socket.destroy()
    send({ type: 'left', ms: Math.round(performance.now() - at) })
  }
})
process.on('disconnect', () => process.exit(0))

send({ type: 'started' })
started = performance.now()
const progress = setInterval(() => {
  send({ type: 'progress', opened, admitted, failed, pending, t: Math.round(performance.now() - started) })
  if (reported) clearInterval(progress)
}, 250)
for (let i = 0; i < Math.min(inFlight, count); i++) open()
