import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { CloseCode, ConnectionStatus, DEFAULT_OUTBOUND_BUFFER_SIZE, ErrorCode, TransferMode, WebSocketMultiplayerPeer, WebSocketPeer } from '@wsmp/server'
import { closeAll, connectClient, startServer, track, waitFor } from './helpers.js'

/** The UNRELIABLE_ORDERED packets a connection holds under congestion (one per channel at most). */
function held(peer: WebSocketPeer): number {
  return (peer as unknown as { _held: Map<number, Uint8Array> | null })._held?.size ?? 0
}

afterEach(closeAll)
const raws = new Set<WebSocket>()
afterEach(() => {
  for (const ws of raws) ws.terminate()
  raws.clear()
})

const SIZE = 16 * 1024
/** Bound on every fill loop: 80 MiB, far beyond what the loopback socket buffers take. */
const MAX_SENDS = 5000

/** A 16 KiB payload starting with its sequence number and the channel/tag byte. */
function numbered(seq: number, tag = 0, size = SIZE): Uint8Array {
  const data = new Uint8Array(size).fill(tag)
  new DataView(data.buffer).setUint32(0, seq, true)
  return data
}

function seqOf(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.length).getUint32(0, true)
}

interface Received {
  seq: number
  tag: number
  from: number
}

/**
 * A raw `ws` client speaking the scene framing by hand, which can stop reading its socket
 * (`ws.pause()`): a real slow consumer.
 */
class SlowClient {
  readonly ws: WebSocket
  id = 0
  readonly packets: Received[] = []
  readonly sys: [number, number][] = []
  close: { code: number; reason: string } | null = null

  constructor(url: string) {
    this.ws = new WebSocket(url)
    raws.add(this.ws)
    this.ws.on('message', (raw: Buffer) => {
      const data = new Uint8Array(raw.buffer, raw.byteOffset, raw.length)
      const view = new DataView(data.buffer, data.byteOffset, data.length)
      if (this.id === 0) {
        this.id = view.getInt32(0, true)
        return
      }
      if (data[0] === 0x03) {
        this.packets.push({ seq: data.length >= 5 ? view.getUint32(1, true) : -1, tag: data[5] ?? -1, from: 1 })
      } else if (data[0] === 0x07 && data[1] === 3) {
        this.packets.push({ seq: view.getUint32(7, true), tag: data[11] ?? -1, from: view.getInt32(2, true) })
      } else if (data[0] === 0x07) {
        this.sys.push([data[1] ?? 0, view.getInt32(2, true)])
      }
    })
    this.ws.on('close', (code, reason) => {
      this.close = { code, reason: reason.toString() }
    })
  }

  /** Connects, waits for the id, then stops reading. */
  static async paused(url: string, server: WebSocketMultiplayerPeer): Promise<SlowClient> {
    const client = new SlowClient(url)
    await waitFor(() => client.id !== 0, [server], 'the slow client to get its id')
    await waitFor(() => server.getPeer(client.id) !== null, [server], 'the server to admit the slow client')
    client.ws.pause()
    return client
  }

  resume(): void {
    this.ws.resume()
  }
}

/** Fills a peer's outbound buffer with reliable unicasts until `ERR_OUT_OF_MEMORY`, checking the rule at every send. */
function fillUntilFull(server: WebSocketMultiplayerPeer, peer: WebSocketPeer, id: number, size = SIZE): number {
  const limit = peer.outboundBufferSize
  server.setTargetPeer(id)
  server.transferMode = TransferMode.RELIABLE
  const bound = (MAX_SENDS * SIZE) / size
  for (let seq = 0; seq < bound; seq++) {
    const buffered = peer.getCurrentOutboundBufferedAmount()
    const sentBefore = peer.getStats().packetsOut
    const frameSize = size + 1
    const err = server.putPacket(numbered(seq, 0, size))
    if (buffered + frameSize <= limit) {
      expect(err).toBe(ErrorCode.OK)
      continue
    }
    // The first packet that would pass the limit: refused, nothing sent.
    expect(err).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(server.getLastError()).toMatch(/outboundBufferSize/)
    expect(peer.getStats().packetsOut).toBe(sentBefore)
    expect(peer.getCurrentOutboundBufferedAmount()).toBe(buffered)
    return seq
  }
  throw new Error(`the outbound buffer never filled after ${bound} sends`)
}

/** Asserts `got` is exactly `0 … n-1` in order (every reliable packet, none lost). */
function expectSequence(got: number[], n: number): void {
  expect(got.length).toBe(n)
  for (let i = 0; i < n; i++) if (got[i] !== i) expect(got.slice(Math.max(0, i - 2), i + 3)).toEqual([i - 2, i - 1, i, i + 1, i + 2].filter((x) => x >= 0))
}

describe('outboundBufferSize', () => {
  it('defaults to 65535 on both classes', () => {
    expect(DEFAULT_OUTBOUND_BUFFER_SIZE).toBe(65535)
    expect(new WebSocketMultiplayerPeer().outboundBufferSize).toBe(65535)
    expect(new WebSocketPeer().outboundBufferSize).toBe(65535)
  })

  it('reliable unicast: ERR_OUT_OF_MEMORY, nothing sent, exactly when queued + packet would pass the limit; nothing lost', async () => {
    const { server, url } = await startServer()
    const slow = await SlowClient.paused(url, server)
    const peer = server.getPeer(slow.id) as WebSocketPeer
    const refused = fillUntilFull(server, peer, slow.id)
    expect(refused).toBeGreaterThan(0)
    // Still refused while nothing drains; the peer stays connected.
    expect(server.putPacket(numbered(refused))).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(peer.getReadyState()).toBe(WebSocketPeer.State.OPEN)

    slow.resume()
    await waitFor(() => slow.packets.length === refused, [server], 'the slow client to read everything sent')
    expectSequence(
      slow.packets.map((p) => p.seq),
      refused,
    )
    await waitFor(() => peer.getCurrentOutboundBufferedAmount() === 0, [server], 'the buffer to drain')
    // Room again: the refused packet can be sent now.
    expect(server.putPacket(numbered(refused))).toBe(ErrorCode.OK)
    await waitFor(() => slow.packets.length === refused + 1, [server], 'the late packet')
    expect(slow.packets.at(-1)?.seq).toBe(refused)
  })

  it('a client unicast to the server gets ERR_OUT_OF_MEMORY too when the server stops reading', async () => {
    const { server, url } = await startServer({ maxQueuedPackets: 1 })
    const client = await connectClient(url, {}, [server])
    const toServer = client.getPeer(1) as WebSocketPeer
    client.setTargetPeer(1)
    let err: ErrorCode = ErrorCode.OK
    let sent = 0
    // The server does not poll, so it pauses its socket after one packet; TCP backs up to the client.
    await waitFor(
      () => {
        for (let i = 0; i < 64 && err === ErrorCode.OK && sent < MAX_SENDS; i++) {
          err = client.putPacket(numbered(sent))
          if (err === ErrorCode.OK) sent++
        }
        return err !== ErrorCode.OK || sent >= MAX_SENDS
      },
      [],
      'the client to hit its outbound limit',
    )
    expect(err).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(client.getLastError()).toMatch(/outboundBufferSize \(65535/)
    expect(toServer.getCurrentOutboundBufferedAmount() + SIZE + 1).toBeGreaterThan(65535)
    // Nothing was lost: the server reads every packet sent.
    const got: number[] = []
    await waitFor(
      () => {
        while (server.getAvailablePacketCount() > 0) got.push(seqOf(server.getPacket()))
        return got.length === sent
      },
      [server],
      'the server to read everything',
      30_000,
    )
    expectSequence(got, sent)
  })

  // 65535 with 16 KiB packets: the socket passes Node's 16 KiB high-water mark and drains with an
  // event; 4000 with 1 KiB packets stays below it, so the held packets go out on a short re-check.
  for (const [limit, size] of [
    [DEFAULT_OUTBOUND_BUFFER_SIZE, SIZE],
    [4000, 1024],
  ] as const) {
    it(`congested (outboundBufferSize ${limit}, ${size}-byte packets): UNRELIABLE dropped and counted, UNRELIABLE_ORDERED keeps the newest per channel and sends it when the socket drains`, async () => {
      const { server, url } = await startServer({ outboundBufferSize: limit })
      const slow = await SlowClient.paused(url, server)
      const peer = server.getPeer(slow.id) as WebSocketPeer
      const reliable = fillUntilFull(server, peer, slow.id, size)
      const sentBefore = peer.getStats().packetsOut

      server.transferMode = TransferMode.UNRELIABLE
      for (let i = 0; i < 5; i++) expect(server.putPacket(numbered(100_000 + i, 0xee, size))).toBe(ErrorCode.OK)
      expect(peer.getStats().dropped.congestion).toBe(5)

      server.transferMode = TransferMode.UNRELIABLE_ORDERED
      server.transferChannel = 0
      for (const seq of [200_000, 200_001, 200_002]) expect(server.putPacket(numbered(seq, 0xa0, size))).toBe(ErrorCode.OK)
      server.transferChannel = 3
      for (const seq of [300_000, 300_001]) expect(server.putPacket(numbered(seq, 0xa3, size))).toBe(ErrorCode.OK)
      // Two replaced on channel 0, one on channel 3; the newest of each is held.
      expect(peer.getStats().dropped.congestion).toBe(5 + 3)
      expect(held(peer)).toBe(2)
      expect(peer.getStats().packetsOut).toBe(sentBefore)

      // The consumer reads again; the server is not polled: the socket's drain sends the held ones.
      slow.resume()
      await waitFor(() => slow.packets.length === reliable + 2, [], 'the reliable packets and the two held ones')
      expectSequence(
        slow.packets.slice(0, reliable).map((p) => p.seq),
        reliable,
      )
      expect(slow.packets.slice(reliable).map((p) => p.seq)).toEqual([200_002, 300_001])
      expect(slow.packets.some((p) => p.tag === 0xee)).toBe(false)
      expect(held(peer)).toBe(0)
      expect(peer.getStats().dropped.congestion).toBe(8)
    })
  }

  it('not congested: unreliable packets are sent like any other', async () => {
    const { server, url } = await startServer()
    const client = await connectClient(url, {}, [server])
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    server.setTargetPeer(id)
    server.transferMode = TransferMode.UNRELIABLE
    expect(server.putPacket(numbered(1))).toBe(ErrorCode.OK)
    server.transferMode = TransferMode.UNRELIABLE_ORDERED
    expect(server.putPacket(numbered(2))).toBe(ErrorCode.OK)
    await waitFor(() => client.getAvailablePacketCount() === 2, [client], 'both packets')
    expect(server.getPeerStats(id)?.dropped).toEqual({})
  })

  it('a Node client drops UNRELIABLE and holds UNRELIABLE_ORDERED when its connection to the server is congested', async () => {
    const { server, url } = await startServer({ maxQueuedPackets: 1 })
    const client = await connectClient(url, {}, [server])
    const toServer = client.getPeer(1) as WebSocketPeer
    client.setTargetPeer(1)
    let sent = 0
    let err: ErrorCode = ErrorCode.OK
    await waitFor(
      () => {
        for (let i = 0; i < 64 && err === ErrorCode.OK && sent < MAX_SENDS; i++) {
          err = client.putPacket(numbered(sent))
          if (err === ErrorCode.OK) sent++
        }
        return err !== ErrorCode.OK || sent >= MAX_SENDS
      },
      [],
      'congestion',
    )
    expect(err).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    client.transferMode = TransferMode.UNRELIABLE
    expect(client.putPacket(numbered(90_000))).toBe(ErrorCode.OK)
    client.transferMode = TransferMode.UNRELIABLE_ORDERED
    expect(client.putPacket(numbered(90_001))).toBe(ErrorCode.OK)
    expect(client.putPacket(numbered(90_002))).toBe(ErrorCode.OK)
    expect(client.getStats().dropped.congestion).toBe(2)
    expect(held(toServer)).toBe(1)
    const got: number[] = []
    await waitFor(
      () => {
        while (server.getAvailablePacketCount() > 0) got.push(seqOf(server.getPacket()))
        return got.length === sent + 1
      },
      [server, client],
      'everything reliable and the newest ordered packet',
      30_000,
    )
    expectSequence(got.slice(0, sent), sent)
    expect(got[sent]).toBe(90_002)
  })
})

describe('slow consumers of broadcasts and relays', () => {
  /** Two healthy clients that read every packet as it comes (auto-poll + listener). */
  async function healthyPair(
    url: string,
    server: WebSocketMultiplayerPeer,
  ): Promise<{ clients: WebSocketMultiplayerPeer[]; got: Map<WebSocketMultiplayerPeer, Received[]>; left: Map<WebSocketMultiplayerPeer, number[]> }> {
    const clients = [await connectClient(url, { autoPoll: true }, [server]), await connectClient(url, { autoPoll: true }, [server])]
    const got = new Map<WebSocketMultiplayerPeer, Received[]>()
    const left = new Map<WebSocketMultiplayerPeer, number[]>()
    for (const client of clients) {
      const list: Received[] = []
      got.set(client, list)
      const gone: number[] = []
      left.set(client, gone)
      client.on('packet', (data, from) => {
        const view = new DataView(data.buffer, data.byteOffset, data.length)
        list.push({ seq: view.getUint32(0, true), tag: data[4] ?? -1, from })
      })
      client.on('peer_disconnected', (id) => gone.push(id))
    }
    return { clients, got, left }
  }

  /** Calls `send(seq)` until the slow peer is gone, letting the healthy peers catch up as it goes. */
  async function sendUntilCut(server: WebSocketMultiplayerPeer, slowId: number, healthy: WebSocketMultiplayerPeer[], send: (seq: number) => void): Promise<number> {
    const onServer = healthy.map((c) => server.getPeer(c.getUniqueId()) as WebSocketPeer)
    for (let seq = 0; seq < MAX_SENDS; seq++) {
      send(seq)
      if (server.getPeer(slowId) === null) return seq + 1
      if (onServer.some((p) => p.getCurrentOutboundBufferedAmount() > 0)) {
        await waitFor(() => onServer.every((p) => p.getCurrentOutboundBufferedAmount() === 0), [server], 'the healthy peers to catch up')
      }
    }
    throw new Error(`the slow peer was never cut after ${MAX_SENDS} sends`)
  }

  it('server broadcast: every peer with room gets it; the slow peer is closed with 4000 "outbound buffer full", counted, and announced gone', async () => {
    const { server, url } = await startServer()
    const slow = await SlowClient.paused(url, server)
    const { clients, got, left } = await healthyPair(url, server)
    const serverLeft: number[] = []
    server.on('peer_disconnected', (id) => serverLeft.push(id))
    await waitFor(() => clients.every((c) => server.getPeer(c.getUniqueId()) !== null), [server], 'admission')

    server.setTargetPeer(0)
    const sent = await sendUntilCut(server, slow.id, clients, (seq) => expect(server.putPacket(numbered(seq))).toBe(ErrorCode.OK))
    // A few more after the cut, to the healthy ones.
    for (let seq = sent; seq < sent + 3; seq++) expect(server.putPacket(numbered(seq))).toBe(ErrorCode.OK)

    await waitFor(() => serverLeft.includes(slow.id), [server], 'peer_disconnected for the slow peer')
    expect(server.getStats().dropped.outbound_full).toBe(1)
    for (const client of clients) {
      await waitFor(
        () => (got.get(client) as Received[]).length === sent + 3 && (left.get(client) as number[]).includes(slow.id),
        [server],
        'the healthy clients to get everything',
      )
      expectSequence(
        (got.get(client) as Received[]).map((p) => p.seq),
        sent + 3,
      )
      expect(client.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    }

    // The slow consumer reads again: everything before the cut, in order, then the close frame.
    slow.resume()
    await waitFor(() => slow.close !== null, [server], 'the slow client to see the close')
    expect(slow.close).toEqual({ code: CloseCode.OUTBOUND_BUFFER_FULL, reason: 'outbound buffer full' })
    expectSequence(
      slow.packets.map((p) => p.seq),
      slow.packets.length,
    )
    expect(slow.packets.length).toBeLessThan(sent)
  })

  it('relay: a client relaying to a peer that stops reading is slowed, not the receiver; a receiver that does not drain within 1 s is cut with 4000 and the sender goes on', async () => {
    const { server, url } = await startServer()
    // The server's own share of the broadcasts is read as it comes (an unread share would stop the
    // sender too: inboundBufferSize bytes unread).
    server.on('packet', () => {})
    const slow = await SlowClient.paused(url, server)
    const { clients, got, left } = await healthyPair(url, server)
    const [sender, other] = clients as [WebSocketMultiplayerPeer, WebSocketMultiplayerPeer]
    await waitFor(() => clients.every((c) => server.getPeer(c.getUniqueId()) !== null), [server], 'admission')
    await waitFor(() => sender.getConnectionStatus() === ConnectionStatus.CONNECTED, [], 'sender ready')

    const toServer = sender.getPeer(1) as WebSocketPeer
    const slowOnServer = server.getPeer(slow.id) as WebSocketPeer
    const senderOnServer = server.getPeer(sender.getUniqueId()) as WebSocketPeer
    sender.setTargetPeer(0) // everyone: the server relays to the other client and to the slow one
    let sent = 0
    let senderPaused = false
    await waitFor(
      () => {
        senderPaused ||= (senderOnServer as unknown as { _paused: boolean })._paused
        if (server.getPeer(slow.id) === null || sent >= MAX_SENDS) return true
        if (toServer.getCurrentOutboundBufferedAmount() === 0) {
          expect(sender.putPacket(numbered(sent))).toBe(ErrorCode.OK)
          sent++
        }
        return false
      },
      [server],
      'the slow peer to be cut',
      30_000,
    )
    // The relays waited for the receiver and the sender was not read meanwhile, until the receiver
    // had not drained for 1 s: then it was cut as a slow consumer.
    expect(senderPaused).toBe(true)
    expect(server.getPeer(slow.id)).toBeNull()
    expect(slowOnServer.getStats().dropped.outbound_full).toBe(1)
    expect(server.getStats().dropped.outbound_full).toBe(1)

    // The sender is read again: its buffer drains, a few more go, and the other client gets every one.
    await waitFor(() => toServer.getCurrentOutboundBufferedAmount() === 0, [server], 'the sender to be read again')
    for (let i = 0; i < 3; i++) expect(sender.putPacket(numbered(sent++))).toBe(ErrorCode.OK)
    await waitFor(() => (got.get(other) as Received[]).length === sent && (left.get(other) as number[]).includes(slow.id), [server], 'the other client to get every relayed packet')
    expectSequence(
      (got.get(other) as Received[]).map((p) => p.seq),
      sent,
    )
    expect((got.get(other) as Received[]).every((p) => p.from === sender.getUniqueId())).toBe(true)
    expect(sender.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
    slow.resume()
    await waitFor(() => slow.close !== null, [server], 'the slow client to see the close')
    expect(slow.close?.code).toBe(CloseCode.OUTBOUND_BUFFER_FULL)
  })

  it('an announcement a slow peer has no room for cuts it, and the newcomer never hears of it', async () => {
    const { server, url } = await startServer()
    const slow = await SlowClient.paused(url, server)
    const peer = server.getPeer(slow.id) as WebSocketPeer
    // Fill the slow peer's buffer to the last byte of what the server's own traffic may use (twice
    // outboundBufferSize: see the relay tests): not even a 6-byte ADD_PEER fits. Broadcasts (it is
    // the only peer) may use all of it, unicasts only the first outboundBufferSize.
    server.setTargetPeer(0)
    const room = () => 2 * peer.outboundBufferSize - peer.getCurrentOutboundBufferedAmount()
    for (let i = 0; i < MAX_SENDS && room() > 6; i++) {
      const size = Math.min(SIZE, room() - 1) // the frame is the payload and its [0x03]
      if (size < 1) break
      expect(server.putPacket(numbered(0, 0, Math.max(size, 4)).subarray(0, size))).toBe(ErrorCode.OK)
    }
    expect(server.getPeer(slow.id)).not.toBeNull()
    expect(peer.getCurrentOutboundBufferedAmount() + 6).toBeGreaterThan(2 * peer.outboundBufferSize)
    const serverLeft: number[] = []
    server.on('peer_disconnected', (id) => serverLeft.push(id))

    const newcomer = track(new WebSocketMultiplayerPeer({ logger: null }))
    const heard: string[] = []
    newcomer.on('peer_connected', (id) => heard.push(`+${id}`))
    newcomer.on('peer_disconnected', (id) => heard.push(`-${id}`))
    expect(newcomer.createClient(url)).toBe(ErrorCode.OK)
    await waitFor(() => newcomer.getConnectionStatus() === ConnectionStatus.CONNECTED, [server, newcomer], 'the newcomer to connect')
    await waitFor(() => serverLeft.includes(slow.id), [server, newcomer], 'the slow peer to be cut by the announcement')
    expect(peer.getStats().dropped.outbound_full).toBe(1)
    // Anything the server sent the newcomer before this packet has arrived when it does.
    server.setTargetPeer(newcomer.getUniqueId())
    expect(server.putPacket(numbered(7))).toBe(ErrorCode.OK)
    await waitFor(() => newcomer.getAvailablePacketCount() === 1, [server, newcomer], 'a marker packet')
    expect(heard).toEqual(['+1'])
    slow.resume()
    await waitFor(() => slow.close !== null, [server], 'the slow client to see the close')
    expect(slow.close?.code).toBe(CloseCode.OUTBOUND_BUFFER_FULL)
  })

  it('an UNRELIABLE broadcast skips a congested peer (counted) without disconnecting it', async () => {
    const { server, url } = await startServer()
    const slow = await SlowClient.paused(url, server)
    const { clients, got } = await healthyPair(url, server)
    await waitFor(() => clients.every((c) => server.getPeer(c.getUniqueId()) !== null), [server], 'admission')
    const slowPeer = server.getPeer(slow.id) as WebSocketPeer
    fillUntilFull(server, slowPeer, slow.id)
    server.setTargetPeer(0)
    server.transferMode = TransferMode.UNRELIABLE
    for (let seq = 0; seq < 3; seq++) expect(server.putPacket(numbered(seq, 0x55))).toBe(ErrorCode.OK)
    expect(slowPeer.getStats().dropped.congestion).toBe(3)
    expect(server.getPeer(slow.id)).toBe(slowPeer)
    for (const client of clients) {
      await waitFor(() => (got.get(client) as Received[]).length === 3, [server], 'the healthy clients to get the unreliable broadcast')
      expect(client.getStats().dropped).toEqual({})
    }
    expect(server.getStats().dropped.congestion).toBe(3)
  })
})
