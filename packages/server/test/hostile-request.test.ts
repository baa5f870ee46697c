import * as http from 'node:http'
import * as net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketMultiplayerPeer } from '@wsmp/server'
import { closeAll, connectClient, track } from './helpers.js'

/**
 * Upgrade requests whose head the server cannot parse: every one gets an HTTP 4xx and the server
 * keeps serving. (Before the guard, `GET //a:99999/x` threw out of the upgrade listener when a
 * handshake hook was set or the server was attached, ending the process before any auth.)
 */

afterEach(() => closeAll())

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

/** Sends one raw request head and resolves with the response's status line ('' when closed without one). */
function send(port: number, head: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let response = ''
    const done = (): void => {
      socket.destroy()
      resolve(response.split('\r\n')[0] ?? '')
    }
    socket.on('data', (chunk) => {
      response += chunk.toString('latin1')
      if (response.includes('\r\n')) done()
    })
    socket.on('error', () => {})
    socket.on('close', done)
    socket.write(head)
  })
}

function upgrade(target: string, extra = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
}

/** Request targets URL parsers reject: each must be answered 400. */
const BAD_TARGETS = ['//a:99999/x', '//[::1', 'http://a:99999/x', '//a:b/x']

/** Odd but parseable heads: each is answered (101 or 4xx) and never ends the process. */
const ODD_HEADS = [
  upgrade('*'),
  upgrade('/%'),
  upgrade('/x?%zz=%'),
  upgrade('/', 'Sec-WebSocket-Protocol: ,,, ,\r\n'),
  upgrade('/', 'Sec-WebSocket-Protocol: a b\r\n'),
  upgrade('/', 'Cookie: =;;=;%\r\n'),
  upgrade('/', 'Origin: ::::\r\n'),
  upgrade('/', 'Sec-WebSocket-Version: 99\r\n'),
  upgrade('/').replace(`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Key: short'),
]

async function stillServes(url: string, server: WebSocketMultiplayerPeer): Promise<void> {
  const client = await connectClient(url, {}, [server])
  expect(client.getUniqueId()).toBeGreaterThan(1)
}

describe('request heads a URL parser rejects', () => {
  for (const variant of ['createServer', 'createServer + onHandshake', 'attach', 'attach + onHandshake'] as const) {
    it(`${variant}: each gets an HTTP 4xx, and the server keeps serving`, async () => {
      const onHandshake = variant.endsWith('onHandshake') ? () => true : null
      const server = track(new WebSocketMultiplayerPeer({ onHandshake }))
      let port: number
      let url: string
      if (variant.startsWith('attach')) {
        const httpServer = http.createServer()
        expect(server.attach(httpServer, '/x')).toBe(0)
        await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
        port = (httpServer.address() as net.AddressInfo).port
        url = `ws://127.0.0.1:${port}/x`
        const closeHttp = server.close.bind(server)
        server.close = () => {
          closeHttp()
          httpServer.close()
        }
      } else {
        expect(await server.createServer(0, '127.0.0.1')).toBe(0)
        port = server.getLocalPort()
        url = `ws://127.0.0.1:${port}`
      }
      const base = variant.startsWith('attach') ? '/x' : ''
      for (const target of BAD_TARGETS) expect(await send(port, upgrade(target)), target).toMatch(/^HTTP\/1\.1 400 /)
      for (const head of ODD_HEADS) {
        const status = await send(port, head.replace('GET /', `GET ${base}/`))
        expect(status, head.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 (101|4\d\d) /)
      }
      await stillServes(url, server)
    })
  }
})
