import { STATUS_CODES } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode } from '@wsmp/server'
import { closeAll } from './helpers.js'
import { RawTcp, RawWs, bounded, clientFrame, finish, internals, scene, stopTraffic, until, upgradeRequest } from './hostile-helpers.js'

/**
 * Hostile connections: oversized messages, slowloris upgrades, silent peers, abrupt resets and
 * connection churn, each while well-behaved wsmp clients keep exchanging reliable,
 * sequence-numbered packets through the server.
 */

afterEach(() => {
  stopTraffic()
  closeAll()
})

/** Resolves after `ms`: paces an attacker (one byte at a time); never used to wait for a result. */
function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

describe('oversized messages', () => {
  it('closes a client whose message is over inboundBufferSize with 1009; a message of exactly the limit passes', async () => {
    const s = await scene({ inboundBufferSize: 1024 })
    const offender = await RawWs.connect(s.url)
    const exact = new Uint8Array(1024).fill(0x41)
    exact[0] = 0x03
    offender.send(exact)
    await until(() => s.traffic.serverReceiver.foreign.length === 1, 'the message of exactly inboundBufferSize')
    expect(s.traffic.serverReceiver.foreign[0]?.data.length).toBe(1023)
    const over = new Uint8Array(1025).fill(0x41)
    over[0] = 0x03
    offender.send(over)
    const close = await offender.closed()
    expect(close.code).toBe(CloseCode.MESSAGE_TOO_BIG)
    await until(() => s.traffic.serverReceiver.events.includes(`-${offender.id}`), 'the server to drop the offender')
    expect(s.traffic.serverReceiver.foreign).toHaveLength(1)
    await finish(s, [offender])
  })

  it('closes with 1009 a raw frame that claims 2^40 bytes, and a fragmented message whose fragments add up to too much', async () => {
    const s = await scene({ inboundBufferSize: 1024 })
    const huge = await RawTcp.upgraded(s.port)
    huge.write(clientFrame(0x2, Uint8Array.from([0x03, 0x41]), { claimedLength: 2 ** 40 }))
    const fragmented = await RawTcp.upgraded(s.port)
    const part = new Uint8Array(600).fill(0x42)
    part[0] = 0x03
    fragmented.write(clientFrame(0x2, part, { fin: false }))
    fragmented.write(clientFrame(0x0, part.subarray(1), { fin: true }))
    await huge.closed()
    await fragmented.closed()
    expect(huge.closeFrame?.code).toBe(CloseCode.MESSAGE_TOO_BIG)
    expect(fragmented.closeFrame?.code).toBe(CloseCode.MESSAGE_TOO_BIG)
    await until(() => s.traffic.serverReceiver.events.includes(`-${huge.id}`) && s.traffic.serverReceiver.events.includes(`-${fragmented.id}`), 'the server to drop both')
    expect(s.traffic.serverReceiver.foreign).toEqual([])
    await finish(s)
  })
})

describe('WebSocket protocol violations', () => {
  it('closes with 1002 clients that break RFC 6455 (unmasked, reserved opcode, RSV bits, oversized control frame), others untouched', async () => {
    const s = await scene()
    const attacks: [string, (raw: RawTcp) => void][] = [
      ['unmasked frame', (raw) => raw.write(Buffer.from([0x82, 0x02, 0x03, 0x41]))],
      ['reserved opcode 3', (raw) => raw.write(clientFrame(0x3, Uint8Array.from([0x03, 0x41])))],
      [
        'RSV1 without an extension',
        (raw) => {
          const frame = clientFrame(0x2, Uint8Array.from([0x03, 0x41]))
          frame[0] = (frame[0] as number) | 0x40
          raw.write(frame)
        },
      ],
      ['ping of 126 bytes', (raw) => raw.write(clientFrame(0x9, new Uint8Array(126)))],
      ['fragmented ping', (raw) => raw.write(clientFrame(0x9, new Uint8Array(4), { fin: false }))],
      ['continuation without a start', (raw) => raw.write(clientFrame(0x0, Uint8Array.from([0x03, 0x41])))],
    ]
    const raws: RawTcp[] = []
    for (const [, attack] of attacks) {
      const raw = await RawTcp.upgraded(s.port)
      raws.push(raw)
      attack(raw)
    }
    for (const [i, raw] of raws.entries()) {
      await raw.closed()
      expect([attacks[i]?.[0], raw.closeFrame?.code]).toEqual([attacks[i]?.[0], CloseCode.PROTOCOL_ERROR])
    }
    await until(() => raws.every((r) => s.traffic.serverReceiver.events.includes(`-${r.id}`)), 'the server to drop every violator')
    expect(s.traffic.serverReceiver.foreign).toEqual([])
    await finish(s)
  })
})

describe('malformed upgrade requests', () => {
  it('answers broken upgrade requests with an HTTP error or a close, admits none of them, and keeps serving', async () => {
    const s = await scene()
    const key = 'dGhlIHNhbXBsZSBub25jZQ=='
    const host = `Host: 127.0.0.1:${s.port}\r\n`
    const requests: [string, number, string][] = [
      ['a plain GET', 426, `GET / HTTP/1.1\r\n${host}\r\n`],
      ['no key', 400, `GET / HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`],
      ['a bad key', 400, `GET / HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n`],
      ['version 99', 400, `GET / HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 99\r\n\r\n`],
      [
        'POST upgrade',
        405,
        `POST / HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n`,
      ],
      [
        'headers over 16 KiB',
        431,
        `GET / HTTP/1.1\r\n${host}X-Pad: ${'a'.repeat(20_000)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ],
      ['not HTTP (a TLS hello)', 400, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n'],
    ]
    const raws = requests.map(([, , request]) => {
      const raw = new RawTcp(s.port)
      raw.write(request)
      return raw
    })
    await until(
      () => raws.every((r) => r.ended),
      () =>
        `every broken request to be closed (open: ${requests
          .filter((_, i) => !raws[i]?.ended)
          .map(([n]) => n)
          .join(', ')})`,
    )
    // Each got an HTTP error status, then the connection closed: never 101, never an id.
    expect(raws.map((r, i) => [requests[i]?.[0], r.response.split('\r\n')[0], r.id])).toEqual(
      requests.map(([name, status]) => [name, `HTTP/1.1 ${status} ${STATUS_CODES[status]}`, 0]),
    )
    expect(s.traffic.serverReceiver.events.filter((e) => !s.traffic.isWellBehaved(Number(e.slice(1))))).toEqual([])
    await finish(s)
  })
})

describe('slow and silent clients', () => {
  it('cuts slowloris upgrades (headers one byte at a time) at handshakeTimeout, before they are admitted', async () => {
    const s = await scene({ handshakeTimeout: 1 })
    const request = upgradeRequest(s.port)
    const started = Date.now()
    const attackers = Array.from({ length: 8 }, () => new RawTcp(s.port))
    const written = new Array<number>(attackers.length).fill(0)
    await Promise.all(
      attackers.map(async (a, i) => {
        await until(() => a.connected || a.ended, 'the attacker to connect')
        // One byte every 25 ms: the whole request would take several seconds.
        while (!a.ended && written[i]! < request.length) {
          a.write(request[written[i]!] as string)
          written[i]!++
          await pace(25)
        }
      }),
    )
    const elapsed = Date.now() - started
    for (const [i, a] of attackers.entries()) {
      expect(a.ended).toBe(true)
      expect(written[i]).toBeLessThan(request.length)
      expect(a.id).toBe(0)
    }
    // Loose upper bound: cut within the timeout plus generous slack, far below the request's pace.
    expect(elapsed).toBeLessThan(request.length * 25)
    expect(s.traffic.serverReceiver.events.filter((e) => !s.traffic.isWellBehaved(Number(e.slice(1))))).toEqual([])
    await finish(s)
  })

  it('cuts a client that sends its whole upgrade request but the final blank line, then nothing', async () => {
    const s = await scene({ handshakeTimeout: 1 })
    const request = upgradeRequest(s.port)
    const a = new RawTcp(s.port)
    a.write(request.slice(0, -2))
    await a.closed()
    expect(a.response).toBe('')
    expect(internals(s.server)._handshaking.has(a.socket)).toBe(false)
    await finish(s)
  })

  it('keeps a client that upgrades and then stays silent: it gets an id and idles without disturbing anyone', async () => {
    const s = await scene()
    const silent = await RawTcp.upgraded(s.port)
    await s.traffic.runTicks(100)
    expect(silent.ended).toBe(false)
    expect(internals(s.server)._peers.has(silent.id)).toBe(true)
    // It was announced, heard the others, and got their broadcasts: [0x07][0x03][source][0x03]…
    await until(() => silent.frames.some((f) => f.payload[0] === 0x07 && f.payload[1] === 0x03), 'relayed broadcasts to reach the silent client')
    for (const r of s.traffic.receivers) expect(r.peers.has(silent.id)).toBe(true)
    await finish(s, [], [silent.socket])
  })

  it('with heartbeatInterval set, cuts a client that never answers pings while the others stay', async () => {
    const s = await scene({ heartbeatInterval: 0.25 })
    const silent = await RawTcp.upgraded(s.port)
    await silent.closed()
    // It was pinged first, then cut; when a close frame came, it names the heartbeat.
    expect(silent.frames.some((f) => f.opcode === 0x9)).toBe(true)
    if (silent.closeFrame) expect(silent.closeFrame.code).toBe(CloseCode.HEARTBEAT_TIMEOUT)
    await until(() => s.traffic.serverReceiver.events.includes(`-${silent.id}`), 'the server to drop the silent client')
    // The well-behaved clients answered every ping through the same intervals.
    await finish(s)
  })
})

describe('abrupt disconnects', () => {
  it('survives resets and half-closes in the middle of a message or of the upgrade', async () => {
    const s = await scene({ handshakeTimeout: 2 })
    const admitted: RawTcp[] = []
    const preUpgrade: RawTcp[] = []
    for (let i = 0; i < 12; i++) {
      const raw = await RawTcp.upgraded(s.port)
      admitted.push(raw)
      const payload = new Uint8Array(100).fill(0x43)
      payload[0] = 0x03
      const frame = clientFrame(0x2, payload)
      // Half a frame (the header says 100 bytes; 50 come), then RST or FIN.
      raw.write(frame.subarray(0, 50 + (i % 3)))
      if (i % 2 === 0) raw.socket.resetAndDestroy()
      else raw.socket.destroy()
    }
    for (let i = 0; i < 6; i++) {
      const raw = new RawTcp(s.port)
      preUpgrade.push(raw)
      await until(() => raw.connected, 'a raw connection')
      const request = upgradeRequest(s.port)
      raw.write(request.slice(0, 40 + i * 10))
      if (i % 2 === 0) raw.socket.resetAndDestroy()
      else raw.socket.destroy()
    }
    await until(() => admitted.every((a) => s.traffic.serverReceiver.events.includes(`-${a.id}`)), 'the server to drop every reset client')
    expect(s.traffic.serverReceiver.foreign).toEqual([])
    const departed = s.server.getStats()
    expect(departed.protocolErrors).toBe(0)
    await finish(s)
  })
})

describe('cut by the server', () => {
  it('removes a peer the application drops at once with getPeer(id).close(-1), like any disconnect', async () => {
    const s = await scene()
    const victim = await RawWs.connect(s.url)
    await until(() => s.traffic.serverReceiver.peers.has(victim.id), 'the server to admit the client')
    s.server.getPeer(victim.id)?.close(-1)
    await victim.closed()
    await until(() => s.traffic.serverReceiver.events.includes(`-${victim.id}`), 'peer_disconnected of the dropped client')
    expect(s.server.getPeer(victim.id)).toBeNull()
    await finish(s)
  })
})

describe('connection churn', () => {
  it('keeps its peer table consistent through 500 rapid connect/disconnect cycles', async () => {
    const s = await scene({ handshakeTimeout: 5 })
    const CYCLES = 500
    const seen = new Set<number>()
    let duplicateIds = 0
    await bounded(CYCLES, 10, async (i) => {
      const variant = i % 4
      if (variant === 2) {
        const raw = await RawTcp.upgraded(s.port)
        if (seen.has(raw.id)) duplicateIds++
        seen.add(raw.id)
        raw.socket.resetAndDestroy()
        await raw.closed()
        return
      }
      if (variant === 3) {
        // Gone right after the upgrade, before reading the id.
        const raw = new RawWs(s.url)
        raw.ws.once('upgrade', () => raw.ws.terminate())
        await raw.closed()
        return
      }
      const raw = await RawWs.connect(s.url)
      if (seen.has(raw.id)) duplicateIds++
      seen.add(raw.id)
      if (variant === 0) raw.ws.close(1000, 'bye')
      else raw.ws.terminate()
      await raw.closed()
    })
    expect(duplicateIds).toBe(0)
    const server = s.traffic.serverReceiver
    const isChurn = (e: string) => !s.traffic.isWellBehaved(Number(e.slice(1)))
    await until(() => {
      const events = server.events.filter(isChurn)
      return events.filter((e) => e[0] === '+').length === events.filter((e) => e[0] === '-').length && internals(s.server)._peers.size === 3
    }, 'every churned peer_connected to be matched by a peer_disconnected')
    const events = server.events.filter(isChurn)
    const connected = events.filter((e) => e[0] === '+').map((e) => Number(e.slice(1)))
    // Every id the clients were given was admitted, once, and later left, once.
    expect(new Set(connected).size).toBe(connected.length)
    for (const id of seen) expect(connected).toContain(id)
    expect(connected.length).toBeGreaterThanOrEqual(seen.size)
    expect(connected.length).toBeLessThanOrEqual(CYCLES)
    for (const id of connected) {
      const plus = events.indexOf(`+${id}`)
      const minus = events.indexOf(`-${id}`)
      expect(minus).toBeGreaterThan(plus)
      expect(events.lastIndexOf(`-${id}`)).toBe(minus)
    }
    await finish(s)
    // The well-behaved clients heard every churned peer come and go, in that order.
    for (const r of s.traffic.receivers) {
      const theirs = r.events.filter(isChurn)
      expect(theirs.filter((e) => e[0] === '+').length).toBe(theirs.filter((e) => e[0] === '-').length)
    }
  })
})
