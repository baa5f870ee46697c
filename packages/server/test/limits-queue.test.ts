import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_MAX_QUEUED_PACKETS, ErrorCode, WebSocketMultiplayerPeer, WebSocketPeer } from '@wsmp/server'
import { closeAll, connectClient, startServer, waitFor } from './helpers.js'

afterEach(closeAll)

const SIZE = 32 * 1024
const COUNT = 600 // 19 MiB: far more than the loopback socket buffers hold
const LIMIT = 32
/** Messages one socket read may still deliver after the pause (Node reads 64 KiB at a time). */
const SLACK = 4
/**
 * inboundBufferSize for these tests: the unread-bytes budget (inboundBufferSize bytes) then holds
 * all COUNT packets of SIZE, so that the packet count is the limit that applies.
 */
const BUDGET = 32 * 1024 * 1024
/** These floods (19 MiB in a burst) are what the queue must absorb: rate limits off (limits-rate.test.ts has them). */
const NO_RATE_LIMIT = { maxPacketsPerSecond: 0, maxBytesPerSecond: 0 }

function numbered(seq: number): Uint8Array {
  const data = new Uint8Array(SIZE).fill(seq & 0xff)
  new DataView(data.buffer).setUint32(0, seq, true)
  return data
}

function check(data: Uint8Array, seq: number): void {
  expect(data.length).toBe(SIZE)
  expect(new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true)).toBe(seq)
  expect(data[SIZE - 1]).toBe(seq & 0xff)
}

/**
 * Watches `receiver` (not polled) for `ms` while `sender` floods it: the messages that reached
 * the receiver's socket stay within the limit, and the rest wait in the sender's buffer.
 */
async function observeBackpressure(received: () => number, senderBuffered: () => number, ms: number): Promise<void> {
  await waitFor(() => received() >= LIMIT, [], 'the receiver to fill its queue')
  const until = Date.now() + ms
  let max = 0
  await waitFor(
    () => {
      max = Math.max(max, received())
      return Date.now() > until
    },
    [],
    'the observation window',
  )
  expect(max).toBeGreaterThanOrEqual(LIMIT)
  expect(max).toBeLessThanOrEqual(LIMIT + SLACK)
  // TCP backpressure reached the sender: part of the flood still waits in its buffer (how much
  // depends on the OS socket buffers, which hold a few MiB on loopback).
  expect(senderBuffered()).toBeGreaterThan(0)
}

/** Polls and reads `peer` until `COUNT` packets came, checking order; returns the largest queue seen. */
async function drainInOrder(peer: WebSocketMultiplayerPeer, from: number, others: WebSocketMultiplayerPeer[] = []): Promise<number> {
  let next = 0
  let largest = 0
  await waitFor(
    () => {
      largest = Math.max(largest, peer.getAvailablePacketCount())
      while (peer.getAvailablePacketCount() > 0) {
        expect(peer.getPacketPeer()).toBe(from)
        check(peer.getPacket(), next)
        next++
      }
      return next === COUNT
    },
    [peer, ...others],
    `all ${COUNT} packets (got ${next})`,
    30_000,
  )
  return largest
}

describe('maxQueuedPackets', () => {
  it('defaults to 4096 on both classes', () => {
    expect(DEFAULT_MAX_QUEUED_PACKETS).toBe(4096)
    expect(new WebSocketMultiplayerPeer().maxQueuedPackets).toBe(4096)
    expect(new WebSocketPeer().maxQueuedPackets).toBe(4096)
  })

  it('server: a flood from a client the application does not read pauses that socket; every packet arrives in order once it reads', { timeout: 60_000 }, async () => {
    const { server, url } = await startServer({ maxQueuedPackets: LIMIT, inboundBufferSize: BUDGET, ...NO_RATE_LIMIT })
    const client = await connectClient(url, { outboundBufferSize: 0 }, [server])
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    const onServer = server.getPeer(id) as WebSocketPeer
    const toServer = client.getPeer(1) as WebSocketPeer

    client.setTargetPeer(1)
    for (let seq = 0; seq < COUNT; seq++) expect(client.putPacket(numbered(seq))).toBe(ErrorCode.OK)

    // The server does not poll: its inbox holds at most the limit (plus one socket read).
    await observeBackpressure(
      () => onServer.getStats().packetsIn,
      () => toServer.getCurrentOutboundBufferedAmount(),
      300,
    )
    expect(onServer.getStats().dropped).toEqual({})

    const largest = await drainInOrder(server, id)
    expect(largest).toBeLessThanOrEqual(LIMIT + SLACK)
    expect(onServer.getStats().packetsIn).toBe(COUNT)
    expect(toServer.getCurrentOutboundBufferedAmount()).toBe(0)
  })

  it('Node client: a flood from the server while the client does not poll pauses the client socket; nothing is lost', { timeout: 60_000 }, async () => {
    const { server, url } = await startServer({ outboundBufferSize: 0 })
    const client = await connectClient(url, { maxQueuedPackets: LIMIT, inboundBufferSize: BUDGET }, [server])
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    const onServer = server.getPeer(id) as WebSocketPeer
    const toServer = client.getPeer(1) as WebSocketPeer
    const before = toServer.getStats().packetsIn

    server.setTargetPeer(id)
    for (let seq = 0; seq < COUNT; seq++) expect(server.putPacket(numbered(seq))).toBe(ErrorCode.OK)

    await observeBackpressure(
      () => toServer.getStats().packetsIn - before,
      () => onServer.getCurrentOutboundBufferedAmount(),
      300,
    )
    const largest = await drainInOrder(client, 1)
    expect(largest).toBeLessThanOrEqual(LIMIT + SLACK)
    expect(toServer.getStats().dropped).toEqual({})
  })

  it("a 'packet' listener consumes packets as they are handed over, so a flood never pauses the socket", { timeout: 60_000 }, async () => {
    const { server, url } = await startServer({ maxQueuedPackets: LIMIT, autoPoll: true, inboundBufferSize: BUDGET, ...NO_RATE_LIMIT })
    let next = 0
    server.on('packet', (data) => {
      check(data, next)
      next++
    })
    const client = await connectClient(url, { outboundBufferSize: 0 }, [server])
    client.setTargetPeer(1)
    for (let seq = 0; seq < COUNT; seq++) expect(client.putPacket(numbered(seq))).toBe(ErrorCode.OK)
    await waitFor(() => next === COUNT, [], 'the listener to see every packet', 30_000)
  })

  it('lowering the limit below the queue pauses at the next packet; raising it resumes reading', { timeout: 60_000 }, async () => {
    const { server, url } = await startServer({ maxQueuedPackets: 4096, inboundBufferSize: BUDGET, ...NO_RATE_LIMIT })
    const client = await connectClient(url, { outboundBufferSize: 0 }, [server])
    const id = client.getUniqueId()
    await waitFor(() => server.getPeer(id) !== null, [server], 'admission')
    const onServer = server.getPeer(id) as WebSocketPeer
    onServer.maxQueuedPackets = LIMIT
    client.setTargetPeer(1)
    for (let seq = 0; seq < COUNT; seq++) expect(client.putPacket(numbered(seq))).toBe(ErrorCode.OK)
    await observeBackpressure(
      () => onServer.getStats().packetsIn,
      () => (client.getPeer(1) as WebSocketPeer).getCurrentOutboundBufferedAmount(),
      200,
    )
    // Raising the limit past the flood lets the socket be read through without the application reading.
    onServer.maxQueuedPackets = COUNT + 10
    await waitFor(() => onServer.getStats().packetsIn === COUNT, [], 'the socket to be read to the end', 30_000)
    await drainInOrder(server, id)
  })
})
