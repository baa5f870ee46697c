// A deliberately small RFC 6455 client over a plain TCP socket, for the load generator only.
//
// Why not the `ws` client: in the fan-out workload the load process receives every delivered
// packet (hundreds of thousands a second). Through `ws` each one is a parsed frame, a Buffer and an
// emitted event, which costs about as much CPU as the server spends sending it, and on a 2-core
// machine the load generator would become the bottleneck. This client parses frame headers straight
// from each TCP chunk and only hands a frame's bytes to a callback when one is registered, so
// counting a delivered packet costs a few dozen nanoseconds. Client frames are masked with the
// all-zero key (valid per RFC 6455 §5.3), so sending costs no masking work.
import { connect } from 'node:net'
import { randomBytes } from 'node:crypto'

export const OPCODE_TEXT = 1
export const OPCODE_BINARY = 2
const OPCODE_CLOSE = 8
const OPCODE_PING = 9

/** A masked (zero key) client frame carrying `payload` (Buffer, ≤ 65535 bytes). */
export function clientFrame(opcode, payload) {
  const length = payload.length
  const header = length < 126 ? 6 : 8
  const out = Buffer.allocUnsafe(header + length)
  out[0] = 0x80 | opcode
  if (length < 126) {
    out[1] = 0x80 | length
  } else {
    out[1] = 0x80 | 126
    out.writeUInt16BE(length, 2)
  }
  out.writeUInt32BE(0, header - 4)
  payload.copy(out, header)
  return out
}

/**
 * Opens a WebSocket to `ws://host:port/path`. Resolves once the upgrade is done with
 * `{ socket, send(frame), close(), binaryFrames, counted }`. `onFrame(client, opcode, data, start, end)`
 * sees every data frame (frames right behind the 101 response included); `counted` counts binary
 * frames whose payload is `countSize` bytes.
 */
export function openRawWebSocket({ host = '127.0.0.1', port, path = '/', onFrame = null, countSize = -1 }) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    socket.setNoDelay(true)
    const key = randomBytes(16).toString('base64')
    let upgraded = false
    let pending = null
    const client = {
      socket,
      /** Called for every data frame; `data.subarray(start, end)` is its payload (valid only during the call). */
      onFrame,
      /** Binary frames received. */
      binaryFrames: 0,
      /** Binary frames received whose payload size equals `countSize` (when set). */
      countSize,
      counted: 0,
      closed: false,
      /** Set by the protocol's onFrame: the id the server gave (wsmp, ws), and whether the handshake is done. */
      id: 0,
      ready: false,
      /** Set by the user: called with each delivered packet's payload bytes. */
      onPayload: null,
      send(frame) {
        if (!socket.destroyed) socket.write(frame)
      },
      close() {
        socket.destroy()
      },
    }
    const fail = (err) => {
      if (!upgraded) reject(err)
    }
    socket.once('error', fail)
    socket.on('error', () => {})
    socket.on('close', () => {
      client.closed = true
      if (!upgraded) reject(new Error('closed before the upgrade'))
    })
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      )
    })
    const parse = (buf) => {
      let at = 0
      const end = buf.length
      while (end - at >= 2) {
        const b0 = buf[at]
        let length = buf[at + 1] & 0x7f
        let header = 2
        if (length === 126) {
          if (end - at < 4) break
          length = buf.readUInt16BE(at + 2)
          header = 4
        } else if (length === 127) {
          if (end - at < 10) break
          length = Number(buf.readBigUInt64BE(at + 2))
          header = 10
        }
        if (end - at < header + length) break
        const opcode = b0 & 0x0f
        const start = at + header
        if (opcode === OPCODE_BINARY) {
          client.binaryFrames++
          if (length === client.countSize) client.counted++
        }
        if (opcode === OPCODE_PING) {
          client.send(clientFrame(0x0a, Buffer.from(buf.subarray(start, start + length))))
        } else if (opcode === OPCODE_CLOSE) {
          socket.destroy()
          return null
        } else if (client.onFrame !== null) {
          client.onFrame(client, opcode, buf, start, start + length)
        }
        at = start + length
      }
      return at === end ? null : buf.subarray(at)
    }
    socket.on('data', (chunk) => {
      let buf = pending === null ? chunk : Buffer.concat([pending, chunk])
      if (!upgraded) {
        const headEnd = buf.indexOf('\r\n\r\n')
        if (headEnd < 0) {
          pending = buf
          return
        }
        const head = buf.toString('latin1', 0, headEnd)
        if (!head.startsWith('HTTP/1.1 101')) {
          socket.destroy()
          reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`))
          return
        }
        upgraded = true
        socket.off('error', fail)
        buf = buf.subarray(headEnd + 4)
        resolve(client)
      }
      pending = buf.length > 0 ? parse(buf) : null
      if (pending !== null) pending = Buffer.from(pending)
    })
  })
}
