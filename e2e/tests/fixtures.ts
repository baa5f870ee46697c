// Real parts only: a static HTTP server for the pages, a wsmp Node server, Node clients, all on
// 127.0.0.1 with ports picked by the OS. Waits are on conditions, never fixed sleeps.
import { createReadStream, existsSync, readFileSync } from 'node:fs'
import { runInNewContext } from 'node:vm'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import { test as base, expect, type Page } from '@playwright/test'
import { ErrorCode, TLSOptions, WebSocketMultiplayerPeer, type ServerPeerOptions, type WebSocketPeer } from '@wsmp/server'
import { missingChromium } from '../chromium'
import { pageBundle, pagesDir, scriptBundle } from '../global-setup'

export { expect }

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' }

/** Serves e2e/pages, the page bundle at /bundle.mjs and the script-tag bundle at /wsmp.min.js. */
async function startSite(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const file = path === '/bundle.mjs' ? pageBundle : path === '/wsmp.min.js' ? scriptBundle : join(pagesDir, path.replace(/^\/+/, ''))
    if (!file.startsWith(pagesDir) && file !== pageBundle && file !== scriptBundle) {
      res.writeHead(403).end()
      return
    }
    if (!existsSync(file)) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' })
    createReadStream(file).pipe(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** A wsmp server on 127.0.0.1:0 that records its signals and packets. */
export interface Relay {
  server: WebSocketMultiplayerPeer
  url: string
  joined: number[]
  left: number[]
  packets: { from: number; text: string; length: number; data: Uint8Array }[]
  /** How each departed peer's connection closed, as the server's side of it saw (in leaving order). */
  closes: { id: number; code: number; reason: string }[]
}

/**
 * Starts a relay: plain `ws://`, or `wss://` with `tls` (a PEM key and certificate); `options` go
 * to the server peer's constructor (limits, `onHandshake`).
 */
export async function startRelay(tls: { key: string; cert: string } | null = null, options: ServerPeerOptions = {}): Promise<Relay> {
  const server = new WebSocketMultiplayerPeer({ autoPoll: true, logger: null, ...options })
  const relay: Relay = { server, url: '', joined: [], left: [], packets: [], closes: [] }
  const sockets = new Map<number, WebSocketPeer>()
  server.on('peer_connected', (id) => {
    relay.joined.push(id)
    const socket = server.getPeer(id)
    if (socket) sockets.set(id, socket)
  })
  server.on('peer_disconnected', (id) => {
    relay.left.push(id)
    const socket = sockets.get(id)
    sockets.delete(id)
    if (socket) relay.closes.push({ id, code: socket.getCloseCode(), reason: socket.getCloseReason() })
  })
  server.on('packet', (data, from) => relay.packets.push({ from, data, length: data.length, text: data.length <= 256 ? new TextDecoder().decode(data) : '' }))
  const err = await server.createServer(0, '127.0.0.1', tls ? TLSOptions.server(tls.key, tls.cert) : null)
  if (err !== ErrorCode.OK) throw new Error(`createServer: ${server.getLastError()}`)
  relay.url = `${tls ? 'wss' : 'ws'}://127.0.0.1:${server.getLocalPort()}`
  return relay
}

/** A Node client peer, polled every 10 ms, recording what it sees. */
export interface NodeClient {
  peer: WebSocketMultiplayerPeer
  joined: number[]
  left: number[]
  events: string[]
  packets: { from: number; text: string }[]
  stop(): void
}

export function nodeClient(url: string, options: ServerPeerOptions = {}): NodeClient {
  const peer = new WebSocketMultiplayerPeer({ logger: null, ...options })
  const client: NodeClient = { peer, joined: [], left: [], events: [], packets: [], stop: () => clearInterval(timer) }
  peer.on('peer_connected', (id) => client.joined.push(id))
  peer.on('peer_disconnected', (id) => client.left.push(id))
  peer.on('connected_to_server', () => client.events.push('connected_to_server'))
  peer.on('server_disconnected', () => client.events.push('server_disconnected'))
  if (peer.createClient(url) !== ErrorCode.OK) throw new Error(peer.getLastError())
  const timer = setInterval(() => {
    peer.poll()
    while (peer.getAvailablePacketCount() > 0) {
      const from = peer.getPacketPeer()
      client.packets.push({ from, text: new TextDecoder().decode(peer.getPacket()) })
    }
  }, 10)
  return client
}

export type Kind = 'bundler' | 'script'

/** What the page's harness records (see pages/harness.js). */
export interface PageLog {
  id: number
  status: number
  joined: number[]
  left: number[]
  events: string[]
  packets: { from: number; length: number; checksum: number; text: string }[]
  vars: { from: number; value: unknown }[]
  errors: string[]
  lastError: string
}

/** Opens the page of `kind` (bundled ESM or script tag only), loaded and ready. */
export async function openPage(page: Page, site: string, kind: Kind): Promise<void> {
  page.on('pageerror', (err) => console.error(`[${kind} page] ${err.message}`))
  await page.goto(`${site}/${kind === 'script' ? 'script-tag' : 'bundler'}.html`)
  await page.waitForFunction(() => (window as unknown as { W?: unknown }).W !== undefined)
}

/** Connects the page's peer; resolves with its id once the server admitted it. */
export async function connectPage(page: Page, url: string, mode: 'packet' | 'var' = 'packet', options: PageOptions = {}): Promise<number> {
  expect(await startPageClient(page, url, mode, options)).toBe(ErrorCode.OK)
  await page.waitForFunction(() => (window as unknown as { log: PageLog }).log.id > 0)
  return pageLog(page).then((log) => log.id)
}

/**
 * Options for the page's peer constructor (JSON-safe ones: limits, protocols, headers); warnings
 * are silenced unless `useConsole` keeps the default logger, which writes to the page's console.
 */
export type PageOptions = Record<string, unknown> & { useConsole?: boolean }

/** Starts the page's client peer (see pages/harness.js) without waiting; returns createClient's ErrorCode. */
export function startPageClient(page: Page, url: string, mode: 'packet' | 'var' = 'packet', options: PageOptions = {}): Promise<number> {
  return page.evaluate(
    ([u, m, o]) => {
      const w = window as unknown as { W: unknown; wsmpTest: { connect(W: unknown, url: string, mode: string, options: object): number } }
      return w.wsmpTest.connect(w.W, u, m, o)
    },
    [url, mode, options] as const,
  )
}

export function pageLog(page: Page): Promise<PageLog> {
  return page.evaluate(() => structuredClone((window as unknown as { log: PageLog }).log))
}

/** Sends text (or `length` pattern bytes) from the page's peer to `target`; returns the ErrorCode. */
export function pageSend(page: Page, target: number, text: string, length = 0): Promise<number> {
  return page.evaluate(
    ([t, s, n]) => {
      const w = window as unknown as { W: unknown; wsmpTest: { send(W: unknown, target: number, text: string, length: number): number } }
      return w.wsmpTest.send(w.W, t, s, n)
    },
    [target, text, length] as const,
  )
}

export const test = base.extend<{ relay: Relay; requireChromium: void }, { site: string }>({
  // Without a Chromium (e2e/chromium.ts) every test is skipped with the message saying how to get
  // one, instead of failing on a browser launch (auto fixtures are set up first, so no launch is tried).
  requireChromium: [
    async ({}, use, testInfo) => {
      testInfo.skip(missingChromium !== null, missingChromium ?? '')
      await use()
    },
    { auto: true },
  ],
  site: [
    async ({}, use) => {
      const { url, server } = await startSite()
      await use(url)
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
    { scope: 'worker' },
  ],
  relay: async ({}, use) => {
    const relay = await startRelay()
    await use(relay)
    relay.server.close()
  },
})

/** pages/harness.js run in Node with this realm's constructors, so its values are Node's own. */
export function loadHarness(): { describeValue(value: unknown): unknown; checksum(bytes: Uint8Array): number; sampleValue(): unknown } {
  const window: Record<string, unknown> = {}
  const realm = { window, Date, Map, Set, ArrayBuffer, Uint8Array, Int32Array, Float32Array, BigUint64Array, Object, Array, TextDecoder, TextEncoder }
  runInNewContext(readFileSync(join(pagesDir, 'harness.js'), 'utf8'), realm)
  return window['wsmpTest'] as ReturnType<typeof loadHarness>
}

/** The pattern bytes `pageSend` sends for a `length`. */
export function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff)
}

export const byNumber = (a: number, b: number): number => a - b
