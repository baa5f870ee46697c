// wsmp in Chromium at its edges: wss:// with a certificate made at test time (trusted through an
// SPKI pin, refused without it), the browser side of every limit (DESIGN.md "Limits and bad
// input", README "Limits"), what browsers cannot do (headers, pings, the remote address), and
// tokens in the URL query or a subprotocol checked by the server's onHandshake hook.
import { X509Certificate, createHash } from 'node:crypto'
import { chromium, type Browser, type ConsoleMessage, type Page } from '@playwright/test'
import { CloseCode, ConnectionStatus, ErrorCode, TLSOptions, WebSocketMultiplayerPeer, type HandshakeRequest } from '@wsmp/server'
import { testCertificates } from '../../packages/server/test/certs'
import { connectPage, expect, nodeClient, openPage, pageLog, pageSend, pattern, startPageClient, startRelay, test, type Kind, type Relay } from './fixtures'

/** Chromium's SPKI pin of a certificate: base64 of the SHA-256 of its DER SubjectPublicKeyInfo. */
function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(spki).digest('base64')
}

/** The page's wsmp warnings (the default logger writes `[wsmp] …` with console.warn). */
function collectWarnings(page: Page): string[] {
  const warnings: string[] = []
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'warning' && msg.text().startsWith('[wsmp] ')) warnings.push(msg.text())
  })
  return warnings
}

interface BrowserPeer {
  setTargetPeer(id: number): void
  putPacket(data: Uint8Array): number
  getLastError(): string
  getMaxPacketSize(): number
  getConnectionStatus(): number
  getStats(): { packetsIn: number; packetsOut: number; dropped: Record<string, number | undefined> }
  getPeer(id: number): {
    getConnectedHost(): string
    getConnectedPort(): number
    getLastError(): string
    getReadyState(): number
    getSelectedProtocol(): string
  } | null
  heartbeatInterval: number
}
type PageWindow = { peer: BrowserPeer; stopPolling(): void; startPolling(): void }

for (const kind of ['bundler', 'script'] as const satisfies readonly Kind[]) {
  test.describe(`${kind} page`, () => {
    test('wss:// with a pinned test certificate: id and packets both ways; an unpinned certificate or browser gets connection_failed', async ({
      site,
      page: unpinnedPage,
    }, testInfo) => {
      const certs = testCertificates()
      // The pinned server: a self-signed certificate for 127.0.0.1 that no trust store knows.
      const pinned = await startRelay(certs.selfSigned)
      // Another wss server whose certificate (signed by a test CA nobody trusts) is not pinned.
      const other = await startRelay(certs.server)
      const launch = testInfo.project.use.launchOptions ?? {}
      let browser: Browser | null = null
      try {
        expect(pinned.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/)
        browser = await chromium.launch({ ...launch, args: [...(launch.args ?? []), `--ignore-certificate-errors-spki-list=${spkiHash(certs.selfSigned.cert)}`] })
        const page = await browser.newPage()
        await openPage(page, site, kind)
        const id = await connectPage(page, pinned.url)
        await expect.poll(() => pinned.joined).toEqual([id])

        expect(await pageSend(page, 1, 'page to server over wss')).toBe(ErrorCode.OK)
        await expect.poll(() => pinned.packets.map((p) => [p.from, p.text])).toEqual([[id, 'page to server over wss']])
        pinned.server.setTargetPeer(id)
        expect(pinned.server.putPacket(new TextEncoder().encode('server to page over wss'))).toBe(ErrorCode.OK)
        const big = 40 * 1024
        expect(pinned.server.putPacket(pattern(big))).toBe(ErrorCode.OK)
        await expect
          .poll(async () => (await pageLog(page)).packets.map((p) => [p.from, p.text || p.length]))
          .toEqual([
            [1, 'server to page over wss'],
            [1, big],
          ])

        // The pin is for that key only: the same browser refuses the other server's certificate.
        const refusedPage = await browser.newPage()
        await openPage(refusedPage, site, kind)
        expect(await startPageClient(refusedPage, other.url)).toBe(ErrorCode.OK)
        await expect.poll(async () => (await pageLog(refusedPage)).events).toEqual([expect.stringMatching(/^connection_failed: /)])
        expect((await pageLog(refusedPage)).status).toBe(ConnectionStatus.DISCONNECTED)
        expect(other.joined).toEqual([])
        // That server does serve whoever trusts its CA: a Node client given the CA gets an id.
        const trusting = new WebSocketMultiplayerPeer({ logger: null, autoPoll: true })
        try {
          expect(trusting.createClient(other.url, TLSOptions.client(certs.ca))).toBe(ErrorCode.OK)
          await expect.poll(() => trusting.getUniqueId()).toBeGreaterThan(1)
          await expect.poll(() => other.joined).toEqual([trusting.getUniqueId()])
        } finally {
          trusting.close()
        }

        // A browser without the pin refuses the pinned server's certificate.
        await openPage(unpinnedPage, site, kind)
        expect(await startPageClient(unpinnedPage, pinned.url)).toBe(ErrorCode.OK)
        await expect.poll(async () => (await pageLog(unpinnedPage)).events).toEqual([expect.stringMatching(/^connection_failed: /)])
        const refused = await pageLog(unpinnedPage)
        expect(refused.status).toBe(ConnectionStatus.DISCONNECTED)
        expect(refused.id).toBe(0)
        expect(refused.lastError).not.toBe('')
        // The refused connection did not get past TLS: the server admitted only the pinned page.
        expect(pinned.joined).toEqual([id])
      } finally {
        await browser?.close()
        pinned.server.close()
        other.server.close()
      }
    })

    test('inboundBufferSize: a larger message closes with 4009 (not 1009), counted, the reason names the limit', async ({ page, site, relay }) => {
      await openPage(page, site, kind)
      const id = await connectPage(page, relay.url, 'packet', { inboundBufferSize: 1024 })
      relay.server.setTargetPeer(id)
      // 1023 bytes + the 1-byte framing: exactly the limit, accepted.
      expect(relay.server.putPacket(pattern(1023))).toBe(ErrorCode.OK)
      await expect.poll(async () => (await pageLog(page)).packets.map((p) => p.length)).toEqual([1023])
      // One byte more: the page closes the connection.
      expect(relay.server.putPacket(pattern(1024))).toBe(ErrorCode.OK)
      await expect.poll(() => relay.closes).toEqual([{ id, code: CloseCode.MESSAGE_TOO_BIG_BROWSER, reason: 'message too big' }])
      expect(relay.left).toEqual([id])
      await expect.poll(async () => (await pageLog(page)).events).toEqual(['connected_to_server', expect.stringMatching(/^server_disconnected: /)])
      const log = await pageLog(page)
      expect(log.packets.map((p) => p.length)).toEqual([1023])
      expect(log.status).toBe(ConnectionStatus.DISCONNECTED)
      expect(log.left).toEqual([1])
      const disconnected = log.events[1] ?? ''
      expect(disconnected).toContain('4009')
      expect(disconnected).toContain('inboundBufferSize (1024 bytes)')
      expect(log.lastError).toContain('inboundBufferSize (1024 bytes)')
      const stats = await page.evaluate(() => (window as unknown as PageWindow).peer.getStats())
      expect(stats.dropped['oversize']).toBe(1)
    })

    test('maxQueuedPackets: a page that does not poll is closed with 4004 at the limit; what it had queued is still read', async ({ page, site, relay }) => {
      const limit = 8
      await openPage(page, site, kind)
      const id = await connectPage(page, relay.url, 'packet', { maxQueuedPackets: limit })
      await page.evaluate(() => (window as unknown as PageWindow).stopPolling())
      relay.server.setTargetPeer(id)
      // One short of the limit: every message arrives (the id message + limit − 1) and the
      // connection stays open.
      for (let i = 0; i < limit - 1; i++) expect(relay.server.putPacket(new TextEncoder().encode(`p${i}`))).toBe(ErrorCode.OK)
      const open = () =>
        page.evaluate(() => {
          const peer = (window as unknown as PageWindow).peer
          return [peer.getStats().packetsIn, peer.getPeer(1)?.getReadyState()]
        })
      await expect.poll(open).toEqual([limit, 1])
      expect(relay.closes).toEqual([])
      // The packet that fills the queue: browsers cannot pause a socket, so the page closes it.
      expect(relay.server.putPacket(new TextEncoder().encode(`p${limit - 1}`))).toBe(ErrorCode.OK)
      await expect.poll(() => relay.closes).toEqual([{ id, code: CloseCode.INBOUND_QUEUE_FULL, reason: 'inbound queue full' }])
      // Polling again: every packet that arrived is read, in order, then the disconnect, which
      // names the page's own limit (not the server) as the cause.
      await page.evaluate(() => (window as unknown as PageWindow).startPolling())
      await expect
        .poll(async () => (await pageLog(page)).events)
        .toEqual(['connected_to_server', `server_disconnected: inbound queue full (maxQueuedPackets = ${limit}): browsers cannot pause a socket; closing with 4004`])
      const log = await pageLog(page)
      expect(log.packets.map((p) => [p.from, p.text])).toEqual(Array.from({ length: limit }, (_, i) => [1, `p${i}`]))
      expect(log.left).toEqual([1])
      expect(log.status).toBe(ConnectionStatus.DISCONNECTED)
      expect(log.lastError).toContain(`maxQueuedPackets = ${limit}`)
    })

    test('outboundBufferSize: a reliable packet over the limit is ERR_OUT_OF_MEMORY and sends nothing', async ({ page, site, relay }) => {
      await openPage(page, site, kind)
      const id = await connectPage(page, relay.url, 'packet', { outboundBufferSize: 1024 })
      const result = await page.evaluate(() => {
        const peer = (window as unknown as PageWindow).peer
        peer.setTargetPeer(1)
        const max = peer.getMaxPacketSize()
        const before = peer.getStats().packetsOut
        const tooBig = peer.putPacket(new Uint8Array(1024).fill(7))
        const error = peer.getLastError()
        const afterTooBig = peer.getStats().packetsOut
        const fits = peer.putPacket(new Uint8Array(1023).fill(9))
        return { max, tooBig, error, sent: afterTooBig - before, fits, sentAfter: peer.getStats().packetsOut - before }
      })
      expect(result).toEqual({
        max: 1023,
        tooBig: ErrorCode.ERR_OUT_OF_MEMORY,
        error: expect.stringContaining('outboundBufferSize (1024'),
        sent: 0,
        fits: ErrorCode.OK,
        sentAfter: 1,
      })
      // One ordered stream: had the refused packet gone out, it would have arrived first.
      await expect.poll(() => relay.packets.map((p) => [p.from, p.length])).toEqual([[id, 1023]])
      expect(relay.packets[0]?.data.every((b) => b === 9)).toBe(true)
      expect((await pageLog(page)).status).toBe(ConnectionStatus.CONNECTED)
    })

    test('handshakeHeaders are dropped with one warning and the connection works', async ({ page, site }) => {
      const requests: HandshakeRequest[] = []
      const relay = await startRelay(null, { onHandshake: (request) => void requests.push(request) })
      try {
        const warnings = collectWarnings(page)
        await openPage(page, site, kind)
        const options = { useConsole: true, handshakeHeaders: ['X-Token: abc'] }
        const first = await connectPage(page, relay.url, 'packet', options)
        expect(await pageSend(page, 1, 'first')).toBe(ErrorCode.OK)
        // A second connection from the same page: no second warning.
        const second = await connectPage(page, relay.url, 'packet', options)
        expect(await pageSend(page, 1, 'second')).toBe(ErrorCode.OK)
        await expect
          .poll(() => relay.packets.map((p) => [p.from, p.text]))
          .toEqual([
            [first, 'first'],
            [second, 'second'],
          ])
        expect(requests).toHaveLength(2)
        for (const request of requests) expect(request.headers['x-token']).toBeUndefined()
        expect(warnings.filter((w) => w.includes('handshakeHeaders'))).toEqual([
          '[wsmp] handshakeHeaders are ignored: browsers cannot send them (pass a token in the URL or a subprotocol)',
        ])
      } finally {
        relay.server.close()
      }
    })

    test('heartbeatInterval has no effect, with one warning: no pings, no timeout', async ({ page, site, relay }) => {
      const interval = 0.2
      // Pings the server receives, per connection (ws answers them itself; wsmp does not count them).
      const pings = new Map<number, number>()
      relay.server.on('peer_connected', (id) => {
        const socket = (relay.server.getPeer(id) as unknown as { _socket: { on(event: 'ping', listener: () => void): void } })._socket
        pings.set(id, 0)
        socket.on('ping', () => pings.set(id, (pings.get(id) ?? 0) + 1))
      })
      const warnings = collectWarnings(page)
      await openPage(page, site, kind)
      const id = await connectPage(page, relay.url, 'packet', { useConsole: true, heartbeatInterval: interval })
      expect(await page.evaluate(() => (window as unknown as PageWindow).peer.heartbeatInterval)).toBe(interval)
      // A Node client with the same setting, as the control: its pings do reach the server.
      const control = nodeClient(relay.url, { heartbeatInterval: interval })
      try {
        await expect.poll(() => control.peer.getUniqueId()).toBeGreaterThan(1)
        const controlId = control.peer.getUniqueId()
        // Three of the control's intervals have passed once it has sent three pings.
        await expect.poll(() => pings.get(controlId) ?? 0).toBeGreaterThanOrEqual(3)
        expect(pings.get(id)).toBe(0)
        // Well past two intervals, the page is still connected and exchanges packets.
        expect(await pageSend(page, 1, 'still here')).toBe(ErrorCode.OK)
        await expect.poll(() => relay.packets.filter((p) => p.from === id).map((p) => p.text)).toEqual(['still here'])
        const log = await pageLog(page)
        expect(log.status).toBe(ConnectionStatus.CONNECTED)
        expect(log.events).toEqual(['connected_to_server'])
        expect(relay.closes.filter((c) => c.id === id)).toEqual([])
        expect(warnings.filter((w) => w.includes('heartbeatInterval'))).toEqual(['[wsmp] heartbeatInterval is ignored: browsers cannot send pings'])
      } finally {
        control.stop()
        control.peer.close()
      }
    })

    test("the server's address is hidden from the page ('' and 0, with an error); the server sees the page's", async ({ page, site, relay }) => {
      await openPage(page, site, kind)
      const id = await connectPage(page, relay.url)
      const seen = await page.evaluate(() => {
        const server = (window as unknown as PageWindow).peer.getPeer(1)
        if (!server) return null
        const host = server.getConnectedHost()
        const hostError = server.getLastError()
        const port = server.getConnectedPort()
        const portError = server.getLastError()
        return { host, hostError, port, portError }
      })
      expect(seen).toEqual({
        host: '',
        hostError: 'getConnectedHost: browsers do not expose the remote address',
        port: 0,
        portError: 'getConnectedPort: browsers do not expose the remote port',
      })
      expect(relay.server.getPeerAddress(id)).toBe('127.0.0.1')
      expect(relay.server.getPeerPort(id)).toBeGreaterThan(0)
    })

    test('a token in the URL query or a subprotocol reaches onHandshake; a rejected one is connection_failed', async ({ page, site }) => {
      const seen: { token: string | null; protocols: string[] }[] = []
      const relay: Relay = await startRelay(null, {
        onHandshake: ({ query, protocols }) => {
          const token = query.get('token') ?? protocols.find((p) => p.startsWith('token.'))?.slice('token.'.length) ?? null
          seen.push({ token, protocols })
          if (token !== 'good') return { status: 403, reason: 'bad token' }
          return protocols.includes('wsmp') ? { protocol: 'wsmp' } : true
        },
      })
      // What the browser itself knows of each WebSocket (through DevTools; the page has no access).
      const socketErrors: string[] = []
      page.on('websocket', (ws) => ws.on('socketerror', (error) => socketErrors.push(error)))
      try {
        await openPage(page, site, kind)
        const byQuery = await connectPage(page, `${relay.url}/?token=good`)
        expect(await page.evaluate(() => (window as unknown as PageWindow).peer.getPeer(1)?.getSelectedProtocol())).toBe('')

        const bySubprotocol = await connectPage(page, relay.url, 'packet', { supportedProtocols: ['wsmp', 'token.good'] })
        expect(await page.evaluate(() => (window as unknown as PageWindow).peer.getPeer(1)?.getSelectedProtocol())).toBe('wsmp')
        expect(await pageSend(page, 1, 'with a subprotocol token')).toBe(ErrorCode.OK)
        await expect.poll(() => relay.packets.map((p) => [p.from, p.text])).toEqual([[bySubprotocol, 'with a subprotocol token']])

        for (const [url, options] of [
          [`${relay.url}/?token=bad`, {}],
          [relay.url, { supportedProtocols: ['wsmp', 'token.bad'] }],
        ] as const) {
          expect(await startPageClient(page, url, 'packet', options)).toBe(ErrorCode.OK)
          await expect.poll(async () => (await pageLog(page)).events).toEqual([expect.stringMatching(/^connection_failed: /)])
          const log = await pageLog(page)
          expect(log.status).toBe(ConnectionStatus.DISCONNECTED)
          expect(log.id).toBe(0)
        }
        expect(seen).toEqual([
          { token: 'good', protocols: [] },
          { token: 'good', protocols: ['wsmp', 'token.good'] },
          { token: 'bad', protocols: [] },
          { token: 'bad', protocols: ['wsmp', 'token.bad'] },
        ])
        expect([...relay.joined].sort((a, b) => a - b)).toEqual([byQuery, bySubprotocol].sort((a, b) => a - b))
        // The page only learns that the connection failed; the browser knows the status.
        // (Chromium words a 401 as "HTTP Authentication failed", hence 403 here.)
        await expect.poll(() => socketErrors).toEqual([expect.stringContaining('403'), expect.stringContaining('403')])
      } finally {
        relay.server.close()
      }
    })
  })
}
