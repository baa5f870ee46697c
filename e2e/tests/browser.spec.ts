// wsmp in Chromium: a page bundled from the ESM packages and a page with only the script tag,
// against a real Node server and a Node client.
import { createServer } from 'node:net'
import { ConnectionStatus, ErrorCode, decodeVar } from '@wsmp/server'
import { byNumber, connectPage, expect, loadHarness, nodeClient, openPage, pageLog, pageSend, pattern, test, type Kind } from './fixtures'

const harness = loadHarness()

test('a bundled page, a script-tag page and a Node client get ids, see each other and exchange packets', async ({ browser, site, relay }) => {
  const a = await browser.newPage()
  const b = await browser.newPage()
  await openPage(a, site, 'bundler')
  await openPage(b, site, 'script')
  const aId = await connectPage(a, relay.url)
  const bId = await connectPage(b, relay.url)
  const c = nodeClient(relay.url)
  try {
    await expect.poll(() => c.peer.getUniqueId()).toBeGreaterThan(1)
    const cId = c.peer.getUniqueId()
    expect(new Set([aId, bId, cId, 1]).size).toBe(4)

    // Everyone hears of everyone: the server directly, the clients through its announcements.
    await expect.poll(() => [...relay.joined].sort(byNumber)).toEqual([aId, bId, cId].sort(byNumber))
    await expect.poll(async () => (await pageLog(a)).joined.sort(byNumber)).toEqual([1, bId, cId].sort(byNumber))
    await expect.poll(async () => (await pageLog(b)).joined.sort(byNumber)).toEqual([1, aId, cId].sort(byNumber))
    await expect.poll(() => [...c.joined].sort(byNumber)).toEqual([1, aId, bId].sort(byNumber))
    // The pages run on the browser's own WebSocket, which hides the remote address.
    const host = await a.evaluate(() => {
      const server = (window as unknown as { peer: { getPeer(id: number): { getConnectedHost(): string; getLastError(): string } } }).peer.getPeer(1)
      return [server.getConnectedHost(), server.getLastError()]
    })
    expect(host).toEqual(['', 'getConnectedHost: browsers do not expose the remote address'])

    // Broadcast from the bundled page: the other page, the Node client and the server.
    expect(await pageSend(a, 0, 'a to all')).toBe(ErrorCode.OK)
    await expect.poll(async () => (await pageLog(b)).packets.map((p) => [p.from, p.text])).toEqual([[aId, 'a to all']])
    await expect.poll(() => c.packets).toEqual([{ from: aId, text: 'a to all' }])
    await expect.poll(() => relay.packets.map((p) => [p.from, p.text])).toEqual([[aId, 'a to all']])

    // Unicast from the script-tag page to the bundled page only, then a broadcast marker: whoever
    // has the marker would have had the unicast before it (one ordered stream per connection).
    expect(await pageSend(b, aId, 'b to a')).toBe(ErrorCode.OK)
    expect(await pageSend(b, 0, 'marker 1')).toBe(ErrorCode.OK)
    await expect
      .poll(async () => (await pageLog(a)).packets.map((p) => [p.from, p.text]))
      .toEqual([
        [bId, 'b to a'],
        [bId, 'marker 1'],
      ])
    await expect.poll(() => c.packets.map((p) => p.text)).toEqual(['a to all', 'marker 1'])
    await expect.poll(() => relay.packets.map((p) => p.text)).toEqual(['a to all', 'marker 1'])

    // Exclusion from the Node client: everyone but the bundled page.
    c.peer.setTargetPeer(-aId)
    expect(c.peer.putPacket(new TextEncoder().encode('not for a'))).toBe(ErrorCode.OK)
    c.peer.setTargetPeer(0)
    expect(c.peer.putPacket(new TextEncoder().encode('marker 2'))).toBe(ErrorCode.OK)
    await expect
      .poll(async () => (await pageLog(b)).packets.map((p) => [p.from, p.text]))
      .toEqual([
        [aId, 'a to all'],
        [cId, 'not for a'],
        [cId, 'marker 2'],
      ])
    await expect.poll(async () => (await pageLog(a)).packets.map((p) => p.text)).toEqual(['b to a', 'marker 1', 'marker 2'])
    await expect.poll(() => relay.packets.map((p) => p.text)).toEqual(['a to all', 'marker 1', 'not for a', 'marker 2'])

    // The server: unicast to the script-tag page, then everyone but it.
    relay.server.setTargetPeer(bId)
    expect(relay.server.putPacket(new TextEncoder().encode('server to b'))).toBe(ErrorCode.OK)
    relay.server.setTargetPeer(-bId)
    expect(relay.server.putPacket(new TextEncoder().encode('server to all but b'))).toBe(ErrorCode.OK)
    await expect.poll(async () => (await pageLog(b)).packets.slice(3).map((p) => [p.from, p.text])).toEqual([[1, 'server to b']])
    await expect.poll(async () => (await pageLog(a)).packets.slice(3).map((p) => [p.from, p.text])).toEqual([[1, 'server to all but b']])
    await expect.poll(() => c.packets.slice(2)).toEqual([{ from: 1, text: 'server to all but b' }])

    // A 60 KB packet, page to page through the relay and page to server, arrives whole.
    const big = 60 * 1024
    expect(await pageSend(a, bId, '', big)).toBe(ErrorCode.OK)
    expect(await pageSend(a, 1, '', big)).toBe(ErrorCode.OK)
    await expect.poll(async () => (await pageLog(b)).packets.slice(4)).toEqual([{ from: aId, length: big, checksum: harness.checksum(pattern(big)), text: '' }])
    await expect.poll(() => relay.packets.length).toBe(5)
    const atServer = relay.packets[4]
    expect(atServer?.from).toBe(aId)
    expect(Buffer.from(atServer?.data ?? []).equals(Buffer.from(pattern(big)))).toBe(true)

    // Closing the script-tag page: peer_disconnected on the server, the other page and the Node client.
    await b.close()
    await expect.poll(() => relay.left).toEqual([bId])
    await expect.poll(async () => (await pageLog(a)).left).toEqual([bId])
    await expect.poll(() => c.left).toEqual([bId])
  } finally {
    c.stop()
    c.peer.close()
  }
})

for (const kind of ['bundler', 'script'] as const satisfies readonly Kind[]) {
  test(`${kind} page: stopping the server is server_disconnected`, async ({ page, site, relay }) => {
    await openPage(page, site, kind)
    await connectPage(page, relay.url)
    relay.server.close()
    await expect.poll(async () => (await pageLog(page)).events).toEqual(['connected_to_server', expect.stringMatching(/^server_disconnected: /)])
    const log = await pageLog(page)
    expect(log.left).toEqual([1])
    expect(log.status).toBe(ConnectionStatus.DISCONNECTED)
  })

  test(`${kind} page: a client to a dead port gets connection_failed`, async ({ page, site }) => {
    // A port that was just free: listen on 0, note it, close.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as { port: number }).port
    await new Promise((resolve) => probe.close(resolve))
    await openPage(page, site, kind)
    const err = await page.evaluate((url) => {
      const w = window as unknown as { W: unknown; wsmpTest: { connect(W: unknown, url: string): number } }
      return w.wsmpTest.connect(w.W, url)
    }, `ws://127.0.0.1:${port}`)
    expect(err).toBe(ErrorCode.OK)
    await expect.poll(async () => (await pageLog(page)).events).toEqual([expect.stringMatching(/^connection_failed: /)])
    const log = await pageLog(page)
    expect(log.status).toBe(ConnectionStatus.DISCONNECTED)
    expect(log.id).toBe(0)
    expect(log.lastError).not.toBe('')
  })

  test(`${kind} page: putVar/getVar carry nested objects, typed arrays and binary both ways`, async ({ page, site, relay }) => {
    await openPage(page, site, kind)
    const id = await connectPage(page, relay.url, 'var')
    const expected = harness.describeValue(harness.sampleValue())
    expect(expected).toMatchObject({ grid: { Float32Array: [0.5, 1, -3.25] }, blob: { Uint8Array: [0, 1, 2, 253, 254, 255] }, big: { bigint: (-(2n ** 80n)).toString() } })

    // Page → server.
    const err = await page.evaluate(() => {
      const w = window as unknown as { peer: { setTargetPeer(id: number): void; putVar(v: unknown): number }; wsmpTest: { sampleValue(): unknown } }
      w.peer.setTargetPeer(1)
      return w.peer.putVar(w.wsmpTest.sampleValue())
    })
    expect(err).toBe(ErrorCode.OK)
    await expect.poll(() => relay.packets.length).toBe(1)
    const decoded = decodeVar(relay.packets[0]?.data ?? new Uint8Array(0))
    expect(decoded.ok).toBe(true)
    if (decoded.ok) expect(harness.describeValue(decoded.value)).toEqual(expected)
    expect(relay.packets[0]?.from).toBe(id)

    // Server → page.
    relay.server.setTargetPeer(id)
    expect(relay.server.putVar(harness.sampleValue())).toBe(ErrorCode.OK)
    await expect.poll(async () => (await pageLog(page)).vars).toEqual([{ from: 1, value: expected }])
    expect((await pageLog(page)).errors).toEqual([])
  })
}
