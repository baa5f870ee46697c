// A TypeScript consumer with `strict` on, compiled against the built .d.ts files (dist/, not src/):
// every ```ts example in README.md type-checks, and misuse is a type error. Reads the build.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const tsc = join(root, 'node_modules/typescript/bin/tsc')
const dirs: string[] = []

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Compiles `files` as a strict consumer of the built packages; returns tsc's diagnostics ('' when clean). */
function typeCheck(files: Record<string, string>): string {
  for (const name of ['core', 'client', 'server']) {
    if (!existsSync(join(root, `packages/${name}/dist/index.d.ts`))) throw new Error(`packages/${name}/dist/index.d.ts is missing: run \`pnpm run build\` first`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'wsmp-consumer-'))
  dirs.push(dir)
  const tsconfig = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2022', 'DOM'],
      // The packages' own .d.ts files are checked too.
      skipLibCheck: false,
      typeRoots: [join(root, 'packages/server/node_modules/@types')],
      types: ['node'],
      // As if installed: `@wsmp/x` is the package directory, read through its package.json
      // (`types` → dist/index.d.ts; no `source` condition here).
      paths: { '@wsmp/*': [join(root, 'packages/*')] },
    },
    include: ['*.ts'],
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  try {
    execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' })
    return ''
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err)
  }
}

/** The ```ts blocks of README.md. */
function readmeExamples(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string)
}

describe('the built .d.ts files, used from a strict TypeScript project', () => {
  it('type-check every ```ts example of the README', { timeout: 60_000 }, () => {
    const examples = readmeExamples()
    expect(examples.length).toBeGreaterThanOrEqual(3)
    // Each example is its own module (`export {}` keeps top-level names apart).
    const files = Object.fromEntries(examples.map((code, i) => [`readme-${i + 1}.ts`, `${code}\nexport {}\n`]))
    expect(typeCheck(files)).toBe('')
  })

  it('type the API precisely: events, enums, results, options', { timeout: 60_000 }, () => {
    const code = `
import { WebSocketMultiplayerPeer, ErrorCode, ConnectionStatus, TransferMode, TLSOptions, WebSocketPeer, type PeerStats } from '@wsmp/server'
import * as client from '@wsmp/client'
import { decodeVar, encodeVar, type DecodeVarResult } from '@wsmp/core'
const server = new WebSocketMultiplayerPeer({ autoPoll: true, handshakeTimeout: 5, maxQueuedPackets: 100, framing: 'scene' })
server.on('packet', (data: Uint8Array, from: number, channel: number, mode: TransferMode) => void [data, from, channel, mode])
server.on('peer_connected', (id: number) => void id)
const listening: Promise<ErrorCode> = server.createServer(0, '127.0.0.1', TLSOptions.server('key', 'cert'))
const status: ConnectionStatus = server.getConnectionStatus()
const peer: WebSocketPeer | null = server.getPeer(2)
const stats: PeerStats | null = server.getPeerStats(2)
const c = new client.WebSocketMultiplayerPeer()
const err: client.ErrorCode = c.createClient('ws://127.0.0.1:1')
c.on('connection_failed', (reason: string) => void reason)
const state: 0 | 1 | 2 | 3 = client.WebSocketPeer.State.OPEN
const r: DecodeVarResult = decodeVar(new Uint8Array([0xc0]))
const e = encodeVar({ a: 1 })
if (e.ok) { const bytes: Uint8Array = e.bytes; void bytes } else { const why: string = e.reason; void why }
void [listening, status, peer, stats, err, state, r]
`
    expect(typeCheck({ 'api.ts': code })).toBe('')
  })

  it('reject misuse (so the checks above can fail)', { timeout: 60_000 }, () => {
    const code = `
import { WebSocketMultiplayerPeer } from '@wsmp/client'
const peer = new WebSocketMultiplayerPeer({ handshakeTimeout: '5' })
peer.createClient(9080)
peer.on('peer_connected', (id: string) => void id)
peer.on('no_such_event', () => {})
const n: string = peer.getUniqueId()
`
    const out = typeCheck({ 'misuse.ts': code })
    for (const line of [3, 4, 5, 6, 7]) expect(out, `line ${line}`).toContain(`misuse.ts(${line},`)
  })
})
