// The demo (`npm run demo` → node demo/server.mjs) in two Chromium pages: each is a player; one
// moves (keys, then a click) and the other page sees it move. Saves test-results/demo.png.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface Snapshot {
  me: number
  tick: number
  peers: number[]
  players: Record<string, [number, number]>
  /** id → the label the page shows ("Player 2", "Server"). */
  names: Record<string, string>
}

const snapshot = (page: Page): Promise<Snapshot> => page.evaluate(() => (window as unknown as { demo: { snapshot(): Snapshot } }).demo.snapshot())

/** Starts the demo server on a free port and resolves with its URL (from its first line). */
function startDemo(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['demo/server.mjs'], { cwd: root, env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`the demo printed no URL within 15 s:\n${out}`)), 15_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0]
      if (url) {
        clearTimeout(timer)
        resolve({ url, child })
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the demo exited (${code}):\n${out}`))
    })
  })
}

test('the demo: two tabs are two players; one moves and the other sees it move', async ({ browser }) => {
  const { url, child } = await startDemo()
  try {
    const a = await browser.newPage({ viewport: { width: 1280, height: 820 } })
    const b = await browser.newPage({ viewport: { width: 1280, height: 820 } })
    await a.goto(url)
    await b.goto(url)
    await expect.poll(async () => (await snapshot(a)).me).toBeGreaterThan(1)
    await expect.poll(async () => (await snapshot(b)).me).toBeGreaterThan(1)
    const aId = (await snapshot(a)).me
    const bId = (await snapshot(b)).me
    expect(aId).not.toBe(bId)
    // Each page shows who it is ("Player N", a colour name and its peer id), the connected peers
    // (the server and the other player, by name) and traffic.
    await expect(a.locator('#me')).toHaveText(/^Player \d+$/)
    await expect(a.locator('#me')).toHaveAttribute('data-id', String(aId))
    await expect(a.locator('#me-detail')).toHaveText(new RegExp(`^(Red|Orange|Yellow|Green|Teal|Blue|Purple|Pink) · peer id ${aId}$`))
    await expect.poll(async () => (await snapshot(b)).peers.sort((x, y) => x - y)).toEqual([1, aId].sort((x, y) => x - y))
    await expect(b.locator('#peers li')).toHaveCount(2)
    const aName = (await a.locator('#me').textContent()) ?? ''
    await expect(b.locator(`#peers li[data-id="${aId}"]`)).toContainText(aName)
    await expect(b.locator('#peers li[data-id="1"]')).toContainText('Server')
    expect(aName).not.toBe(await b.locator('#me').textContent())
    await expect.poll(async () => (await snapshot(b)).names[aId]).toBe(aName)
    await expect.poll(async () => Number(await b.locator('#in-rate').textContent())).toBeGreaterThan(5)
    await expect.poll(async () => Object.keys((await snapshot(b)).players).length).toBe(2)

    // Keys: A holds an arrow key; B sees A travel.
    const [x0, y0] = (await snapshot(b)).players[aId] as [number, number]
    const key = x0 < 480 ? 'ArrowRight' : 'ArrowLeft'
    await a.bringToFront()
    await a.locator('header').click()
    await a.keyboard.down(key)
    await expect.poll(async () => Math.abs(((await snapshot(b)).players[aId] as [number, number])[0] - x0), { timeout: 20_000 }).toBeGreaterThan(120)
    await a.keyboard.up(key)
    const afterKeys = (await snapshot(b)).players[aId] as [number, number]
    expect(afterKeys[1]).toBeCloseTo(y0, 0)

    // A click: A heads for the clicked point; B sees it arrive.
    const target = { x: afterKeys[0] < 480 ? 760 : 200, y: y0 < 300 ? 450 : 150 }
    const box = await a.locator('#world').boundingBox()
    if (!box) throw new Error('no canvas')
    await a.mouse.click(box.x + (target.x / 960) * box.width, box.y + (target.y / 600) * box.height)
    await expect
      .poll(
        async () => {
          const [x, y] = (await snapshot(b)).players[aId] as [number, number]
          return Math.hypot(x - target.x, y - target.y)
        },
        { timeout: 20_000 },
      )
      .toBeLessThan(4)

    // Let B's drawing catch up with the last state, then keep a picture of B's view.
    await expect
      .poll(() =>
        b.evaluate((id) => {
          const p = (window as unknown as { demo: { players: Map<number, { x: number; y: number; rx: number; ry: number }> } }).demo.players.get(id)
          return p ? Math.hypot(p.rx - p.x, p.ry - p.y) : Infinity
        }, aId),
      )
      .toBeLessThan(1)
    await b.screenshot({ path: `${root}test-results/demo.png` })

    // Closing A: B hears that the player left and stops drawing it.
    await a.close()
    await expect.poll(async () => (await snapshot(b)).peers).toEqual([1])
    await expect.poll(async () => Object.keys((await snapshot(b)).players)).toEqual([String(bId)])
  } finally {
    child.kill('SIGTERM')
  }
})
