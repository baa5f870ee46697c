// Chromium (Debian's, /usr/bin/chromium, through Playwright) loading a page that has only the
// script-tag bundle packages/client/dist/wsmp.min.js, served from 127.0.0.1.
import { createReadStream, existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { chromium, type Browser, type Page } from '@playwright/test'
import { WAIT_MS, repoRoot, until } from './godot.js'
import type { WsmpEvent } from './wsmp.js'

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
export const scriptBundle = resolve(repoRoot, 'packages/client/dist/wsmp.min.js')
const pageFile = resolve(repoRoot, 'e2e/godot/support/page.html')

/** Serves the page at / and the bundle at /wsmp.min.js. */
export async function startSite(): Promise<{ url: string; server: Server }> {
  if (!existsSync(scriptBundle)) throw new Error(`${scriptBundle} is missing: run \`pnpm run build\` first`)
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const file = path === '/' ? pageFile : path === '/wsmp.min.js' ? scriptBundle : null
    if (!file) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'Content-Type': file.endsWith('.js') ? 'text/javascript' : 'text/html', 'Cache-Control': 'no-store' })
    createReadStream(file).pipe(res)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

/** The page's wsmp client, seen from the test. */
export class PagePeer {
  constructor(readonly page: Page) {}

  start(url: string, options: Record<string, unknown> = {}): Promise<number> {
    return this.page.evaluate(([u, o]) => (window as unknown as { start(url: string, options: object): number }).start(u, o), [url, options] as const)
  }

  log(): Promise<WsmpEvent[]> {
    return this.page.evaluate(() => (window as unknown as { log: WsmpEvent[] }).log.slice())
  }

  id(): Promise<number> {
    return this.page.evaluate(() => (window as unknown as { peer: { getUniqueId(): number } }).peer.getUniqueId())
  }

  send(target: number, hex: string): Promise<number> {
    return this.page.evaluate(([t, h]) => (window as unknown as { send(t: number, h: string): number }).send(t, h), [target, hex] as const)
  }

  /** Waits until the page logged an event named `ev` with `fields`. */
  waitEvent(ev: string, fields: Partial<WsmpEvent> = {}, timeoutMs = WAIT_MS): Promise<WsmpEvent> {
    return until(
      async () => (await this.log()).find((e) => e.ev === ev && Object.entries(fields).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v)),
      `the page's ${ev} ${JSON.stringify(fields)}`,
      timeoutMs,
    )
  }
}
