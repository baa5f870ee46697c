// A wsmp client in real Chromium (the script-tag bundle only) on a real Godot 4 server, next to a
// Godot client: ids, signals, packets both ways and the relay between the page and Godot.
import type { Server } from 'node:http'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import type { Browser } from '@playwright/test'
import { PagePeer, launchChromium, startSite } from './support/browser.js'
import { GodotPeer, bigHex, godotIt, godotMissing, textHex } from './support/godot.js'

describe('wsmp client in Chromium → Godot server', () => {
  let browser: Browser | null = null
  let site: { url: string; server: Server } | null = null

  beforeAll(async () => {
    if (godotMissing) return
    site = await startSite()
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    site?.server.closeAllConnections()
    await new Promise((done) => (site ? site.server.close(done) : done(null)))
  })

  godotIt('a script-tag page joins a Godot server: id, connected_to_server, packets both ways, relay with a Godot client, and leaving', async () => {
    const server = await GodotPeer.server('godot server')
    const page = new PagePeer(await (browser as Browser).newPage())
    await page.page.goto((site as { url: string }).url)
    expect(await page.start(server.url())).toBe(0)
    await page.waitEvent('connected_to_server')
    const pageId = await page.id()
    expect(pageId).toBeGreaterThanOrEqual(2)
    await server.waitEvent('peer_connected', { id: pageId })

    const g = await GodotPeer.connected('godot G', server.url())
    await page.waitEvent('peer_connected', { id: g.id })
    await g.waitEvent('peer_connected', { id: pageId })

    expect(await page.send(1, textHex('page to server'))).toBe(0)
    expect(await page.send(g.id, textHex('page to g'))).toBe(0)
    expect(await page.send(0, textHex('page to all'))).toBe(0)
    await server.waitPacket(pageId, textHex('page to all'))
    await g.waitPacket(pageId, textHex('page to all'))
    expect(server.all('peer_packet').map((e) => e.hex)).toEqual([textHex('page to server'), textHex('page to all')])
    expect(g.all('peer_packet').map((e) => e.hex)).toEqual([textHex('page to g'), textHex('page to all')])

    expect(await g.send(pageId, textHex('g to page'))).toBe(0)
    expect(await server.send(pageId, textHex('server to page'))).toBe(0)
    await page.waitEvent('packet', { from: g.id, hex: textHex('g to page') })
    await page.waitEvent('packet', { from: 1, hex: textHex('server to page') })

    await g.quit()
    await page.waitEvent('peer_disconnected', { id: g.id })
    await page.page.close()
    await server.waitEvent('peer_disconnected', { id: pageId })
  })

  godotIt('a page over the Godot server’s inbound_buffer_size is closed with 1009; a page kicked by the Godot server sees server_disconnected', async () => {
    const server = await GodotPeer.server('godot server', { inbound: 1024 })
    const big = new PagePeer(await (browser as Browser).newPage())
    const kicked = new PagePeer(await (browser as Browser).newPage())
    for (const page of [big, kicked]) {
      await page.page.goto((site as { url: string }).url)
      expect(await page.start(server.url())).toBe(0)
      await page.waitEvent('connected_to_server')
    }
    const bigId = await big.id()
    const kickedId = await kicked.id()
    await server.waitEvent('peer_connected', { id: kickedId })

    expect(await big.send(1, bigHex(2000))).toBe(0)
    await big.waitEvent('server_disconnected')
    const left = await server.waitEvent('peer_disconnected', { id: bigId })
    expect(left.code).toBe(1009)
    // Godot queues close 1009, then drops the TCP connection at its next poll with the rest of
    // the message unread (a reset): Chromium reports either the 1009 or an abnormal closure.
    expect((await big.log()).find((e) => e.ev === 'server_disconnected')?.reason).toMatch(/1009|connection lost/)
    await kicked.waitEvent('peer_disconnected', { id: bigId })

    await server.command({ cmd: 'kick', id: kickedId })
    const gone = await kicked.waitEvent('server_disconnected')
    // Godot sends close 1000 and drops the TCP connection at its next poll without waiting for the
    // reply: Chromium reports the 1000, or an abnormal closure when the drop wins the race.
    expect(gone.reason).toMatch(/1000|connection lost/)
    await server.waitEvent('transport_peer_disconnected', { id: kickedId })
    expect(server.signals()).not.toContain(`peer_disconnected ${kickedId}`)
    await big.page.close()
    await kicked.page.close()
  })
})
