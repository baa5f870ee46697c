// The three wire formats, as the load generator speaks them over bench/lib/rawws.mjs.
//
//   wsmp      Godot 4 SceneMultiplayer framing. The server first sends the client's id (int32 LE).
//             A broadcast to the other clients is a relay to target -1 ("everyone but the server"):
//             [0x07][0x03][int32 LE target][0x03][payload]; the server forwards it with the source id
//             in place of the target. A direct message targets the receiver's id.
//   ws        The minimal relay in bench/servers/ws.mjs: the server sends the client's id (int32 LE),
//             a client's message is forwarded to every other client as [int32 LE sender][payload].
//   socket.io Engine.IO 4 over the websocket transport: "0{…}" open → "40" connect → "40{…}" ack;
//             an event with one binary argument is a text frame 451-["m",{"_placeholder":true,"num":0}]
//             followed by a binary frame carrying the bytes; the server's broadcast adds the sender's
//             number: 451-["m",<id>,{…}] + the binary frame. Pings ("2") are answered ("3").
import { OPCODE_BINARY, OPCODE_TEXT, clientFrame } from './rawws.mjs'

const SIO_EVENT = Buffer.from('451-["m",{"_placeholder":true,"num":0}]')

export const protocols = {
  wsmp: {
    path: '/',
    /** Bytes of a delivered binary frame before the payload. */
    deliveredOffset: 7,
    onFrame(client, opcode, data, start, end) {
      if (opcode !== OPCODE_BINARY) return
      if (client.id === 0) {
        if (end - start === 4) {
          client.id = data.readInt32LE(start)
          client.ready = true
        }
        return
      }
      // [0x07][0x03][source][0x03][payload]: a relayed packet; ADD/DEL_PEER are 6 bytes.
      if (end - start > 7 && data[start + 1] === 3) client.onPayload?.(data, start + 7, end)
    },
    /** The frames that send `payload` to `target` (0: everyone else). */
    frames(payload, target) {
      const body = Buffer.allocUnsafe(7 + payload.length)
      body[0] = 0x07
      body[1] = 0x03
      body.writeInt32LE(target === 0 ? -1 : target, 2)
      body[6] = 0x03
      payload.copy(body, 7)
      return clientFrame(OPCODE_BINARY, body)
    },
  },
  ws: {
    path: '/',
    deliveredOffset: 4,
    onFrame(client, opcode, data, start, end) {
      if (opcode !== OPCODE_BINARY) return
      if (client.id === 0) {
        client.id = data.readInt32LE(start)
        client.ready = true
        return
      }
      client.onPayload?.(data, start + 4, end)
    },
    frames(payload) {
      return clientFrame(OPCODE_BINARY, payload)
    },
  },
  'socket.io': {
    path: '/socket.io/?EIO=4&transport=websocket',
    deliveredOffset: 0,
    onFrame(client, opcode, data, start, end) {
      if (opcode === OPCODE_TEXT) {
        const c0 = data[start]
        if (c0 === 0x32 && end - start === 1) {
          client.send(clientFrame(OPCODE_TEXT, Buffer.from('3'))) // ping → pong
        } else if (c0 === 0x30) {
          client.send(clientFrame(OPCODE_TEXT, Buffer.from('40'))) // open → connect to "/"
        } else if (c0 === 0x34 && data[start + 1] === 0x30) {
          client.id = 1
          client.ready = true
        }
        return
      }
      if (opcode === OPCODE_BINARY) client.onPayload?.(data, start, end)
    },
    frames(payload) {
      return Buffer.concat([clientFrame(OPCODE_TEXT, SIO_EVENT), clientFrame(OPCODE_BINARY, payload)])
    },
  },
}
