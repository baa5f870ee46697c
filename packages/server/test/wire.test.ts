import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionStatus, DropReason, ErrorCode } from '@wsmp/server'
import { admitted, bytes, closeEverything, connectClient, drain, hex, int32Hex, plainServer, rawClient, record, startServer, toHex, waitFor, type RawClient } from './helpers.js'

afterEach(closeEverything)

// A plain `ws` client stands in for a Godot 4 peer: these tests check the bytes on the wire
// against DESIGN.md's framing and Godot 4 SceneMultiplayer's.

const frames = (client: RawClient, from = 1): string[] => client.messages.slice(from).map((m) => toHex(m.data))

async function godotClient(url: string): Promise<{ raw: RawClient; id: number }> {
  const raw = await rawClient(url)
  await raw.waitMessages(1, 'the id message')
  return { raw, id: raw.id() }
}

describe('server → client bytes', () => {
  it('the first message is the id: exactly 4 bytes, binary, int32 little-endian, 2 … 2^31-1', async () => {
    const { server, url } = await startServer()
    const { raw, id } = await godotClient(url)
    const first = raw.messages[0]
    expect(first?.isBinary).toBe(true)
    expect(first?.data.length).toBe(4)
    expect(id).toBeGreaterThanOrEqual(2)
    expect(id).toBeLessThanOrEqual(2 ** 31 - 1)
    expect(toHex(first?.data ?? new Uint8Array())).toBe(int32Hex(id))
    await admitted(server, [id])
    expect(server.getPeer(id)).not.toBeNull()
  })

  it('ADD_PEER goes to the existing peers and, for each of them, to the newcomer', async () => {
    const { server, url } = await startServer()
    const first = await godotClient(url)
    const second = await godotClient(url)
    await second.raw.waitMessages(2, 'ADD_PEER of the first')
    await first.raw.waitMessages(2, 'ADD_PEER of the second')
    expect(frames(second.raw)).toEqual([`07 01 ${int32Hex(first.id)}`])
    expect(frames(first.raw)).toEqual([`07 01 ${int32Hex(second.id)}`])
    const third = await godotClient(url)
    await third.raw.waitMessages(3, 'ADD_PEER of both')
    expect(frames(third.raw).sort()).toEqual([`07 01 ${int32Hex(first.id)}`, `07 01 ${int32Hex(second.id)}`].sort())
    await first.raw.waitMessages(3, 'ADD_PEER of the third')
    expect(frames(first.raw)[1]).toBe(`07 01 ${int32Hex(third.id)}`)
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('DEL_PEER goes to the others when a peer leaves', async () => {
    const { url } = await startServer()
    const first = await godotClient(url)
    const second = await godotClient(url)
    await first.raw.waitMessages(2, 'ADD_PEER')
    second.raw.ws.close()
    await first.raw.waitMessages(3, 'DEL_PEER')
    expect(frames(first.raw)).toEqual([`07 01 ${int32Hex(second.id)}`, `07 02 ${int32Hex(second.id)}`])
  })

  it('a server packet is [0x03][payload], binary', async () => {
    const { server, url } = await startServer()
    const { raw, id } = await godotClient(url)
    await admitted(server, [id])
    server.setTargetPeer(id)
    expect(server.putPacket(hex('de ad be ef'))).toBe(ErrorCode.OK)
    await raw.waitMessages(2, 'the packet')
    expect(frames(raw)).toEqual(['03 de ad be ef'])
    expect(raw.messages[1]?.isBinary).toBe(true)
  })

  it("with serverRelay = false, nothing but the id and the server's packets", async () => {
    const { server, url } = await startServer({ serverRelay: false })
    const first = await godotClient(url)
    const second = await godotClient(url)
    await admitted(server, [first.id, second.id])
    second.raw.ws.close()
    await waitFor(() => server.getPeer(second.id) === null, [server], 'the leave')
    server.setTargetPeer(0)
    server.putPacket(hex('01'))
    await first.raw.waitMessages(2, 'the marker')
    expect(frames(first.raw)).toEqual(['03 01'])
  })
})

describe('a Godot client relaying through the server', () => {
  it('[0x07][0x03][target][0x03][payload] is relayed with the true source stamped, like a wsmp client', async () => {
    const { server, url } = await startServer()
    const godot = await godotClient(url)
    const other = await godotClient(url)
    const wsmp = await connectClient(url, {}, [server])
    await admitted(server, [godot.id, other.id, wsmp.getUniqueId()])
    await other.raw.waitMessages(3, 'ADD_PEER x2')

    // Broadcast (target 0): the server and every other client.
    godot.raw.send(hex(`07 03 ${int32Hex(0)} 03 68 69`))
    await waitFor(() => server.getAvailablePacketCount() === 1 && wsmp.getAvailablePacketCount() === 1, [server, wsmp], 'the broadcast')
    expect(drain(server)).toEqual([[godot.id, 'hi']])
    expect(drain(wsmp)).toEqual([[godot.id, 'hi']])
    await other.raw.waitMessages(4, 'the relay at the other Godot client')
    expect(frames(other.raw, 3)).toEqual([`07 03 ${int32Hex(godot.id)} 03 68 69`])

    // Unicast to the wsmp client.
    godot.raw.send(hex(`07 03 ${int32Hex(wsmp.getUniqueId())} 03 2a`))
    await waitFor(() => wsmp.getAvailablePacketCount() === 1, [wsmp], 'the unicast')
    expect(wsmp.getPacketPeer()).toBe(godot.id)
    expect(toHex(wsmp.getPacket())).toBe('2a')

    // A claimed source is never trusted: the target field is a target, the source is stamped.
    godot.raw.send(hex(`07 03 ${int32Hex(other.id)} 03 ff`))
    await other.raw.waitMessages(5, 'the second relay')
    expect(frames(other.raw, 4)).toEqual([`07 03 ${int32Hex(godot.id)} 03 ff`])

    // Exclusion: everyone but the wsmp client (the server included).
    godot.raw.send(hex(`07 03 ${int32Hex(-wsmp.getUniqueId())} 03 07`))
    await other.raw.waitMessages(6, 'the exclusion')
    expect(frames(other.raw, 5)).toEqual([`07 03 ${int32Hex(godot.id)} 03 07`])
    await waitFor(() => server.getAvailablePacketCount() === 1, [server], 'the server share')
    expect(server.getPacketPeer()).toBe(godot.id)
    expect(toHex(server.getPacket())).toBe('07')
    expect(wsmp.getAvailablePacketCount()).toBe(0)
  })

  it('a wsmp client relay arrives at a Godot client as [0x07][0x03][source][0x03][payload]', async () => {
    const { server, url } = await startServer()
    const godot = await godotClient(url)
    const wsmp = await connectClient(url, {}, [server])
    await godot.raw.waitMessages(2, 'ADD_PEER')
    wsmp.setTargetPeer(godot.id)
    wsmp.putPacket(hex('01 02'))
    await godot.raw.waitMessages(3, 'the relay')
    expect(frames(godot.raw, 2)).toEqual([`07 03 ${int32Hex(wsmp.getUniqueId())} 03 01 02`])
  })
})

describe('what a wsmp client sends on the wire', () => {
  async function fakeGodotServer(id: number) {
    const fake = await plainServer()
    fake.wss.on('connection', (ws) => ws.send(hex(int32Hex(id))))
    return fake
  }

  it("'scene': [0x03]… to the server, [0x07][0x03][target LE][0x03]… to anyone else", async () => {
    const fake = await fakeGodotServer(0x12345678)
    const c = await connectClient(fake.url)
    expect(c.getUniqueId()).toBe(0x12345678)
    const sends: [number, string][] = [
      [1, 'aa'],
      [0, 'bb'],
      [-5, 'cc'],
      [77, 'dd'],
      [0x7fffffff, 'ee'],
      [-(2 ** 31), 'ff'],
    ]
    expect(c.putPacket(new Uint8Array(0))).toBe(ErrorCode.OK) // zero bytes: OK, nothing sent
    for (const [target, payload] of sends) {
      c.setTargetPeer(target)
      expect(c.putPacket(hex(payload))).toBe(ErrorCode.OK)
    }
    await waitFor(() => fake.messages.length === sends.length, [c], 'every frame')
    expect(fake.messages.map((m) => toHex(m.data))).toEqual([
      '03 aa',
      '07 03 00 00 00 00 03 bb',
      '07 03 fb ff ff ff 03 cc',
      '07 03 4d 00 00 00 03 dd',
      '07 03 ff ff ff 7f 03 ee',
      '07 03 00 00 00 80 03 ff',
    ])
    expect(fake.messages.every((m) => m.isBinary)).toBe(true)
  })

  it("'raw': the payload verbatim, whatever the target", async () => {
    const fake = await fakeGodotServer(2)
    const c = await connectClient(fake.url, { framing: 'raw' })
    c.setTargetPeer(0)
    c.putPacket(hex('07 03 00'))
    c.setTargetPeer(9)
    c.putPacket(hex('01'))
    await waitFor(() => fake.messages.length === 2, [c], 'both frames')
    expect(fake.messages.map((m) => toHex(m.data))).toEqual(['07 03 00', '01'])
  })

  it('understands what a Godot server sends: ADD_PEER, RELAY with a source, DEL_PEER, text frames', async () => {
    const fake = await fakeGodotServer(5)
    const c = await connectClient(fake.url)
    const log = record(c)
    const ws = fake.sockets[0]
    if (!ws) throw new Error('no socket')
    ws.send(hex(`07 01 ${int32Hex(9)}`))
    ws.send(hex(`07 03 ${int32Hex(9)} 03 41 42`))
    ws.send('\u0003text', { binary: false })
    ws.send(hex(`07 02 ${int32Hex(9)}`))
    await waitFor(() => log.length === 2 && c.getAvailablePacketCount() === 2, [c], 'the announcements and packets')
    expect(log).toEqual(['peer_connected 9', 'peer_disconnected 9'])
    expect(c.getPacketPeer()).toBe(9)
    expect(new TextDecoder().decode(c.getPacket())).toBe('AB')
    expect(c.getPacketPeer()).toBe(1)
    expect(new TextDecoder().decode(c.getPacket())).toBe('text')
    expect(c.wasStringPacket()).toBe(true)
  })
})

describe('bad input basics', () => {
  it('truncated and unknown frames are dropped and counted, never thrown; the other peers keep working', async () => {
    const { server, url } = await startServer()
    const bad = await godotClient(url)
    const good = await connectClient(url, {}, [server])
    const other = await connectClient(url, {}, [server])
    await admitted(server, [bad.id, good.getUniqueId(), other.getUniqueId()])
    const cases: [string, DropReason][] = [
      ['03', DropReason.MALFORMED], // RAW without payload
      ['07', DropReason.MALFORMED], // SYS without a header
      ['07 03 00 00', DropReason.MALFORMED], // truncated RELAY
      ['07 03 00 00 00 00', DropReason.MALFORMED], // RELAY without a packet
      ['07 03 00 00 00 00 03', DropReason.MALFORMED], // RELAY with an empty packet
      ['07 09 00 00 00 00', DropReason.UNKNOWN_COMMAND], // no such SYS command
      ['07 01 05 00 00 00', DropReason.NOT_INTERPRETED], // ADD_PEER from a client
      ['07 00 01 02 03 04', DropReason.NOT_INTERPRETED], // AUTH data after admission
      ['00 01 02 03', DropReason.NOT_INTERPRETED], // an RPC, with no scene handler installed
      ['04 01 02', DropReason.NOT_INTERPRETED], // SPAWN
    ]
    for (const [frame] of cases) bad.raw.send(hex(frame))
    bad.raw.send(new Uint8Array(0)) // an empty message
    // Well-behaved traffic right after.
    bad.raw.send(hex('03 6f 6b'))
    good.setTargetPeer(0)
    good.putPacket(bytes('fine'))
    await waitFor(() => server.getAvailablePacketCount() === 2, [server], 'the good packets')
    const got = drain(server)
    expect(got).toContainEqual([bad.id, 'ok'])
    expect(got).toContainEqual([good.getUniqueId(), 'fine'])
    await waitFor(() => other.getAvailablePacketCount() === 1, [other], 'the relay to the other client')
    expect(drain(other)).toEqual([[good.getUniqueId(), 'fine']])

    const stats = server.getPeerStats(bad.id)
    const expected: Partial<Record<DropReason, number>> = {}
    for (const [, reason] of cases) expected[reason] = (expected[reason] ?? 0) + 1
    expected[DropReason.MALFORMED] = (expected[DropReason.MALFORMED] ?? 0) + 1 // the empty message
    expect(stats?.dropped).toEqual(expected)
    expect(stats?.protocolErrors).toBe(cases.length + 1)
    expect(server.getPeerStats(good.getUniqueId())?.protocolErrors).toBe(0)
    // The server-wide counters include them.
    expect(server.getStats().protocolErrors).toBe(cases.length + 1)
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    expect(server.getPeer(bad.id)).not.toBeNull()
  })

  it('a client drops and counts bad frames from the server, and keeps the connection', async () => {
    const fake = await plainServer()
    fake.wss.on('connection', (ws) => ws.send(hex('05 00 00 00')))
    const c = await connectClient(fake.url)
    const ws = fake.sockets[0]
    if (!ws) throw new Error('no socket')
    for (const frame of ['03', '07 01 00', '07 09 01 00 00 00', '00 01', `07 01 ${int32Hex(5)}`, `07 03 ${int32Hex(1)} 03 01`]) ws.send(hex(frame))
    ws.send(hex('03 6f 6b'))
    await waitFor(() => c.getAvailablePacketCount() === 1, [c], 'the good packet')
    expect(new TextDecoder().decode(c.getPacket())).toBe('ok')
    const stats = c.getStats()
    expect(stats.protocolErrors).toBe(6)
    expect(stats.dropped[DropReason.MALFORMED]).toBe(4) // '03', short ADD, ADD of ourselves, relay from 1
    expect(stats.dropped[DropReason.UNKNOWN_COMMAND]).toBe(1)
    expect(stats.dropped[DropReason.NOT_INTERPRETED]).toBe(1)
    expect(c.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  })

  it('getPeerStats counts messages and bytes both ways, framing included; null for unknown peers', async () => {
    const { server, url } = await startServer()
    const c = await connectClient(url, {}, [server])
    const id = c.getUniqueId()
    await admitted(server, [id])
    c.setTargetPeer(1)
    c.putPacket(bytes('12345')) // [0x03] + 5 = 6 bytes
    c.setTargetPeer(0)
    c.putPacket(bytes('12345')) // [0x07 0x03 int32 0x03] + 5 = 12 bytes
    await waitFor(() => server.getAvailablePacketCount() === 2, [server], 'the packets')
    server.setTargetPeer(id)
    server.putPacket(bytes('abc')) // 4 bytes
    await waitFor(() => c.getAvailablePacketCount() === 1, [c], 'the server packet')
    expect(server.getPeerStats(id)).toEqual({ packetsIn: 2, bytesIn: 18, packetsOut: 2, bytesOut: 8, protocolErrors: 0, dropped: {} })
    expect(c.getStats()).toEqual({ packetsIn: 2, bytesIn: 8, packetsOut: 2, bytesOut: 18, protocolErrors: 0, dropped: {} })
    expect(server.getPeerStats(424242)).toBeNull()
  })
})

describe('a client with serverRelay = false (as Godot SceneMultiplayer)', () => {
  it('wraps nothing in RELAY: 0 and -n go to the server unwrapped, -1 goes nowhere, another client is ERR_INVALID_PARAMETER', async () => {
    const fake = await plainServer()
    fake.wss.on('connection', (ws) => ws.send(hex(int32Hex(5))))
    const c = await connectClient(fake.url, { serverRelay: false })
    c.setTargetPeer(0)
    expect(c.putPacket(hex('aa'))).toBe(ErrorCode.OK)
    c.setTargetPeer(-9)
    expect(c.putPacket(hex('bb'))).toBe(ErrorCode.OK)
    c.setTargetPeer(-1)
    expect(c.putPacket(hex('cc'))).toBe(ErrorCode.OK)
    c.setTargetPeer(9)
    expect(c.putPacket(hex('dd'))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(c.getLastError()).toMatch(/serverRelay/)
    c.setTargetPeer(1)
    expect(c.putPacket(hex('ee'))).toBe(ErrorCode.OK)
    await waitFor(() => fake.messages.length === 3, [c], 'three frames')
    expect(fake.messages.map((m) => toHex(m.data))).toEqual(['03 aa', '03 bb', '03 ee'])
  })

  it('drops and counts announcements and relayed packets', async () => {
    const fake = await plainServer()
    fake.wss.on('connection', (ws) => ws.send(hex(int32Hex(5))))
    const c = await connectClient(fake.url, { serverRelay: false })
    const log = record(c)
    const ws = fake.sockets[0]
    if (!ws) throw new Error('no socket')
    ws.send(hex(`07 01 ${int32Hex(9)}`))
    ws.send(hex(`07 03 ${int32Hex(9)} 03 41`))
    ws.send(hex('03 42'))
    await waitFor(() => c.getAvailablePacketCount() === 1, [c], 'the direct packet')
    expect(c.getPacketPeer()).toBe(1)
    expect(toHex(c.getPacket())).toBe('42')
    expect(log).toEqual([])
    expect(c.getStats().dropped[DropReason.RELAY_DISABLED]).toBe(2)
  })
})

describe('relays of empty packets', () => {
  it('a RELAY whose inner [0x03] has no payload is dropped and counted, not forwarded', async () => {
    const { server, url } = await startServer()
    const sender = await godotClient(url)
    const receiver = await godotClient(url)
    await admitted(server, [sender.id, receiver.id])
    await receiver.raw.waitMessages(2, 'ADD_PEER')
    sender.raw.send(hex(`07 03 ${int32Hex(0)} 03`))
    sender.raw.send(hex(`07 03 ${int32Hex(receiver.id)} 03`))
    sender.raw.send(hex(`07 03 ${int32Hex(-5)} 03`))
    sender.raw.send(hex(`07 03 ${int32Hex(receiver.id)} 03 01`)) // a good one after
    await receiver.raw.waitMessages(3, 'the good relay')
    expect(frames(receiver.raw, 2)).toEqual([`07 03 ${int32Hex(sender.id)} 03 01`])
    expect(server.getPeerStats(sender.id)?.dropped).toEqual({ [DropReason.MALFORMED]: 3 })
    server.poll()
    expect(server.getAvailablePacketCount()).toBe(0)
  })
})
