// The built packages: what `pnpm run build` leaves in each dist, and the script-tag bundle
// (packages/client/dist/wsmp.min.js): a licence banner, under 16 KiB gzipped with it, no Node code,
// the same exports as the package, working when loaded as a classic script. Reads the build; CI
// builds before testing.
import { existsSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import * as client from '@wsmp/client'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const iifePath = `${root}packages/client/dist/wsmp.min.js`
/** DESIGN.md: the script-tag IIFE, MessagePack and its licence banner included, is at most 16 KiB gzipped. */
const LIMIT = 16 * 1024
/** The leading `/*! … *\/` licence banner (rollup.config.mjs, licenseBanner): measured on its own. */
const BANNER = /^\/\*![^]*?\*\/\n?/
const BANNER_LIMIT = 200

/**
 * The exports of @wsmp/client the script tag leaves out (packages/client/src/script-tag.ts): what
 * @wsmp/server and @wsmp/godot build on, not the user's API. A new export must be added here or
 * reach the global.
 */
const WIRE_PLUMBING = new Set([
  'AUTH_HEADER_SIZE',
  'Deferred',
  'FRAMINGS',
  'FrameKind',
  'ID_MESSAGE_SIZE',
  'Queue',
  'RAW_OVERHEAD',
  'RELAY_OVERHEAD',
  'SYS_HEADER_SIZE',
  'SceneAuth',
  'SceneCommand',
  'SysCommand',
  'applyOptions',
  'countDrop',
  'createPeerStats',
  'createSceneFrame',
  'decodeIdMessage',
  'decodeRelayedPacket',
  'decodeSceneFrame',
  'describe',
  'encodeAuthPacket',
  'encodeIdMessage',
  'encodeRawPacket',
  'encodeRelayCommand',
  'encodeRelayPacket',
  'encodeSysCommand',
  'generateUniqueId',
  'isSettableProperty',
  'plainBytes',
  'rewriteSysPeer',
])

function built(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`pnpm run build\` before the tests`)
  return readFileSync(path, 'utf8')
}

/** Loads the IIFE as a browser would run a classic <script>, with only browser globals around. */
function loadIife(): typeof client & { evaluate(code: string): unknown } {
  class FakeWebSocket {}
  const window: Record<string, unknown> = {
    WebSocket: FakeWebSocket,
    TextEncoder,
    TextDecoder,
    URL,
    crypto: globalThis.crypto,
    console,
    queueMicrotask,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
  }
  window['globalThis'] = window
  window['self'] = window
  runInNewContext(built(iifePath), window)
  // Values made inside the page's realm: `instanceof Date` there is false for this realm's dates.
  return Object.assign(Object.create(window['WSMP'] as object), { evaluate: (code: string) => runInNewContext(code, window) })
}

describe('the script-tag bundle (wsmp.min.js)', () => {
  it(`starts with a licence banner naming the version and every bundled package's licence, at most ${BANNER_LIMIT} bytes`, () => {
    const banner = BANNER.exec(built(iifePath))?.[0] ?? ''
    const { version } = JSON.parse(readFileSync(`${root}packages/client/package.json`, 'utf8'))
    expect(banner).toContain(`@wsmp/client v${version} | MIT`)
    expect(banner).toMatch(/nanoevents [\d.]+ \(MIT, Andrey Sitnik\)/)
    expect(banner.length).toBeLessThanOrEqual(BANNER_LIMIT)
  })

  it(`is at most ${LIMIT} bytes gzipped, its licence banner included`, () => {
    const gz = gzipSync(built(iifePath), { level: 9 }).length
    expect(gz, `wsmp.min.js is ${gz} bytes gzipped`).toBeLessThanOrEqual(LIMIT)
  })

  it('holds no Node code: no require, no node: modules, no ws, no Buffer', () => {
    const code = built(iifePath).replace(BANNER, '')
    expect(code.startsWith('var WSMP=function')).toBe(true)
    for (const node of [/\brequire\(/, /["']node:/, /\bprocess\./, /\bBuffer\b/, /perMessageDeflate/, /MozWebSocket/]) {
      expect(node.test(code), String(node)).toBe(false)
    }
  })

  it('exposes the global WSMP with every export of @wsmp/client but the wire plumbing, enums intact', () => {
    const WSMP = loadIife()
    const api = Object.keys(client).filter((name) => !WIRE_PLUMBING.has(name))
    expect(Object.keys(Object.getPrototypeOf(WSMP)).sort()).toEqual(api.sort())
    expect({ ...WSMP.ErrorCode }).toEqual({ ...client.ErrorCode })
    expect({ ...WSMP.VarExtType }).toEqual({ ...client.VarExtType })
    expect({ ...WSMP.CloseCode }).toEqual({ ...client.CloseCode })
    expect(WSMP.errorName(22)).toBe('ERR_ALREADY_IN_USE')
    expect(WSMP.WebSocketPeer.State).toEqual(client.WebSocketPeer.State)
  })

  it('works as loaded: MessagePack bytes equal the package’s, peers and limits behave', () => {
    const WSMP = loadIife()
    const source = "({ id: 7, name: 'ann', pos: new Float32Array([1.5, -2]), when: new Date(1700000000123), tags: new Set(['a']), big: 2n ** 70n })"
    const value = { id: 7, name: 'ann', pos: new Float32Array([1.5, -2]), when: new Date(1700000000123), tags: new Set(['a']), big: 2n ** 70n }
    const fromIife = WSMP.encodeVar(WSMP.evaluate(source))
    const fromPackage = client.encodeVar(value)
    expect(fromIife.ok && fromPackage.ok).toBe(true)
    if (fromIife.ok && fromPackage.ok) {
      expect([...fromIife.bytes]).toEqual([...fromPackage.bytes])
      const back = WSMP.decodeVar(fromPackage.bytes)
      expect(back.ok).toBe(true)
      const again = back.ok ? WSMP.encodeVar(back.value) : null
      expect(again?.ok && [...again.bytes]).toEqual([...fromPackage.bytes])
    }
    const peer = new WSMP.WebSocketMultiplayerPeer({ handshakeTimeout: 5, logger: null })
    expect(peer.handshakeTimeout).toBe(5)
    expect(peer.maxQueuedPackets).toBe(4096)
    expect(peer.getConnectionStatus()).toBe(WSMP.ConnectionStatus.DISCONNECTED)
    expect(peer.putPacket(new Uint8Array([1]))).toBe(WSMP.ErrorCode.ERR_UNCONFIGURED)
    expect(peer.getLastError()).toMatch(/not connected/)
    expect(peer.createClient('http://example.com')).toBe(WSMP.ErrorCode.ERR_INVALID_PARAMETER)
    const options = WSMP.TLSOptions.client('PEM', 'example.com')
    expect([options.getTrustedCaChain(), options.getCommonNameOverride(), options.isUnsafeClient()]).toEqual(['PEM', 'example.com', false])
  })
})

describe('every package’s dist', () => {
  for (const name of ['core', 'client', 'server', 'godot']) {
    it(`@wsmp/${name} holds ESM, CJS and one bundled .d.ts (and its .d.cts twin), with an exports map that lists types first`, () => {
      const dir = `${root}packages/${name}`
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'))
      expect(pkg.sideEffects).toBe(false)
      expect(pkg.type).toBe('module')
      // ESM and CJS each with their own declarations (.d.ts is ESM in a "type": "module" package).
      expect(pkg.exports['.']).toMatchObject({
        import: { types: './dist/index.d.ts', default: './dist/index.mjs' },
        require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
      })
      for (const condition of ['import', 'require']) expect(Object.keys(pkg.exports['.'][condition])[0]).toBe('types')
      expect([pkg.main, pkg.module, pkg.types]).toEqual(['./dist/index.cjs', './dist/index.mjs', './dist/index.d.cts'])
      // The same declarations for the CJS build (they name no type of an ESM-only dependency).
      const cts = built(`${dir}/dist/index.d.cts`)
      expect(cts).toBe(built(`${dir}/dist/index.d.ts`))
      // One file: no relative imports left of tsc's per-file lib/ output.
      expect(built(`${dir}/dist/index.d.ts`)).not.toMatch(/from '\.\.?\//)
      // Loaded by plain Node, as a user's project would (vitest itself resolves to src).
      const script = `
        const esm = await import(${JSON.stringify(`${dir}/dist/index.mjs`)})
        const cjs = (await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(`${dir}/dist/index.cjs`)})
        console.log(JSON.stringify([Object.keys(esm).sort(), Object.keys(cjs).sort(), typeof cjs.WebSocketMultiplayerPeer, cjs.ErrorCode?.ERR_BUG ?? typeof cjs.encodeVariant]))`
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' })
      const [esmKeys, cjsKeys, peerType, probe] = JSON.parse(out) as [string[], string[], string, number | string]
      expect(cjsKeys).toEqual(esmKeys)
      // @wsmp/godot holds the Godot codecs; the others re-export core's ErrorCode.
      expect(esmKeys).toContain(name === 'godot' ? 'encodeVariant' : 'ErrorCode')
      expect(probe).toBe(name === 'godot' ? 'function' : 47)
      expect(peerType).toBe(name === 'core' || name === 'godot' ? 'undefined' : 'function')
    })
  }
})
