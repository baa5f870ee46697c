// The consumer test: installs the packages as a stranger would and uses them.
//
// 1. `pnpm pack` every publishable package under packages/* (new packages are picked up on their own).
// 2. An empty project in a temp dir; one `npm install` of the tarballs (as `file:` dependencies, and
//    as `overrides` so every @wsmp/* dependency between them resolves to the local tarball, never
//    the registry) plus typescript 5.9.3, esbuild, Vite and playwright-core from npm.
// 3. Checks, one test each in the report:
//    install   every @wsmp/* in package-lock.json comes from a local tarball;
//    esm       a Node ESM script: a @wsmp/server server on 127.0.0.1 port 0 and a @wsmp/client
//              client: ids, a packet each way;
//    cjs       `require()` of each package, checking a few exports;
//    tsc       the ```ts blocks of the root README and the packages' READMEs, type-checked under
//              module/moduleResolution node16 and bundler, with skipLibCheck off (so the
//              packages' .d.ts are checked too). Every ```ts
//              block is taken unless its info string says `no-check` (```ts no-check). Blocks that
//              import only @wsmp/client or @wsmp/core are browser code: lib DOM and no Node types
//              (`types: []`), which proves the client's types need none; the others get Node's
//              types and no DOM. Under node16 a .cts file also requires every package (the .d.cts);
//    browser   a page bundled by esbuild and by Vite, importing @wsmp/client, served on 127.0.0.1,
//              opened in Chromium through playwright-core, connects to a Node @wsmp/server and
//              exchanges a packet each way;
//    no-node   each browser bundle holds no Node code. Markers, on the minified bundles as an
//              application ships them (so comments are gone), matching code forms that survive
//              minification (string literals, global names, property names):
//                ws        the `ws` package's code: the handshake GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11
//                          (any JS implementation of the WebSocket protocol carries it; a browser's
//                          WebSocket does that itself), or an import/require of "ws" left in;
//                ws-options  code for `ws` alone: its `perMessageDeflate` option or reading its
//                          `permessage-deflate` extension state;
//                node:     an import or require of a "node:…" module;
//                require   a `require(` call (a bundler's CJS shim for Node modules);
//                nextTick  `process.nextTick`;
//                Buffer    `Buffer.from/alloc/allocUnsafe/concat/isBuffer/byteLength(`.
// The report, test-results/consumer.json with --report FILE, is {"passed","failed","skipped"}.
// Chromium: CHROMIUM_PATH or /usr/bin/chromium; without one the browser checks are skipped with a
// message (failed under CI=true, where a green run must not hide a missing browser).
// The temp dir and every process started here are removed/ended at the end (--keep keeps the dir).
// Needs the build (pnpm run build). Usage: node scripts/consumer-test.mjs [--report FILE] [--keep]
import { spawn } from 'node:child_process'
import { accessSync, constants, cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { packAll, root } from './workspace-packages.mjs'

const args = process.argv.slice(2)
const reportFile = args.includes('--report') ? args[args.indexOf('--report') + 1] : null
const keep = args.includes('--keep')
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const versions = { typescript: '5.9.3', esbuild: '0.28.2', vite: '8.3.8', 'playwright-core': '1.65.1' }

const results = []
const started = Date.now()
function record(name, ok, detail = '') {
  results.push({ name, status: ok === null ? 'skipped' : ok ? 'passed' : 'failed' })
  const tag = ok === null ? 'skip' : ok ? 'ok  ' : 'FAIL'
  console.log(`${tag} ${name}${detail ? `\n       ${String(detail).trim().replace(/\n/g, '\n       ')}` : ''}`)
}

/** Processes started here and still running: ended by pid (their process group) when we stop. */
const running = new Set()
function endAll() {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // it ended on its own meanwhile
    }
  }
}
process.on('exit', endAll)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

/** Runs a command to its end (or `timeout` ms, then ends its process group); resolves with code and output. */
function run(command, argv, { cwd, timeout = 120_000, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env } })
    running.add(child)
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      out += `\n(ended after ${timeout} ms)`
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // it ended on its own meanwhile
      }
    }, timeout)
    child.on('error', (err) => (out += String(err)))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ code: code ?? signal, out })
    })
  })
}

/**
 * The ```ts blocks of the root README and of each package's README, each with whether it is
 * browser code (imports only @wsmp/client or @wsmp/core).
 */
function readmeExamples(packs) {
  const blocks = []
  for (const file of [join(root, 'README.md'), ...packs.map((p) => join(p.dir, 'README.md'))]) {
    if (!existsSync(file)) continue
    const readme = readFileSync(file, 'utf8')
    const name = relative(root, file).replace(/[/\\.]/g, '-')
    for (const match of readme.matchAll(/^```(ts|typescript)([^\n]*)\n([^]*?)^```$/gm)) {
      if (/\bno-check\b/.test(match[2])) continue
      const code = match[3]
      const line = readme.slice(0, match.index).split('\n').length
      const modules = [...code.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g)].map((m) => m[1])
      const browser = modules.length > 0 && modules.every((m) => m === '@wsmp/client' || m === '@wsmp/core')
      blocks.push({ name: `${name}-line-${line}`, code, browser })
    }
  }
  return blocks
}

const ESM_SCRIPT = `
import { WebSocketMultiplayerPeer, ErrorCode, TARGET_PEER_SERVER } from '@wsmp/server'
import { WebSocketMultiplayerPeer as ClientPeer } from '@wsmp/client'
const text = (bytes) => new TextDecoder().decode(bytes)
const server = new WebSocketMultiplayerPeer({ autoPoll: true, logger: null })
const joined = []
const received = []
server.on('peer_connected', (id) => joined.push(id))
server.on('packet', (data, from) => {
  received.push({ from, text: text(data) })
  server.setTargetPeer(from)
  server.putPacket(new TextEncoder().encode('echo:' + text(data)))
})
if ((await server.createServer(0, '127.0.0.1')) !== ErrorCode.OK) throw new Error(server.getLastError())
const client = new ClientPeer({ autoPoll: true, logger: null })
const echo = await new Promise((resolve, reject) => {
  client.on('connected_to_server', () => {
    client.setTargetPeer(TARGET_PEER_SERVER)
    client.putPacket(new TextEncoder().encode('ping'))
  })
  client.on('connection_failed', (reason) => reject(new Error('connection_failed: ' + reason)))
  client.on('packet', (data, from) => resolve({ from, text: text(data) }))
  if (client.createClient('ws://127.0.0.1:' + server.getLocalPort()) !== ErrorCode.OK) reject(new Error(client.getLastError()))
})
const id = client.getUniqueId()
const problems = []
if (server.getUniqueId() !== 1) problems.push('server id ' + server.getUniqueId())
if (!(id > 1)) problems.push('client id ' + id)
if (!joined.includes(id)) problems.push('the server saw no peer_connected(' + id + '): ' + JSON.stringify(joined))
if (received[0]?.from !== id || received[0]?.text !== 'ping') problems.push('the server received ' + JSON.stringify(received))
if (echo.from !== 1 || echo.text !== 'echo:ping') problems.push('the client received ' + JSON.stringify(echo))
client.close()
server.close()
console.log(JSON.stringify({ id, port: server.getLocalPort(), problems }))
process.exitCode = problems.length ? 1 : 0
`

const CJS_SCRIPT = `
const core = require('@wsmp/core')
const client = require('@wsmp/client')
const server = require('@wsmp/server')
const godot = require('@wsmp/godot')
const cluster = require('@wsmp/cluster')
const checks = {
  '@wsmp/core': core.ErrorCode.OK === 0 && core.ErrorCode.ERR_BUG === 47 && typeof core.MultiplayerPeer === 'function' && core.TARGET_PEER_SERVER === 1 && typeof core.encodeVar === 'function',
  '@wsmp/client': typeof client.WebSocketMultiplayerPeer === 'function' && typeof client.WebSocketPeer === 'function' && client.ErrorCode === core.ErrorCode && typeof new client.WebSocketMultiplayerPeer().createClient === 'function',
  '@wsmp/server': typeof server.WebSocketMultiplayerPeer === 'function' && typeof server.WebSocketMultiplayerPeer.prototype.createServer === 'function' && typeof server.WebSocketMultiplayerPeer.prototype.attach === 'function' && server.ErrorCode === core.ErrorCode,
  '@wsmp/godot': typeof godot.encodeVariant === 'function' && typeof godot.Vector2 === 'function' && godot.decodeVariant(godot.encodeVariant(new godot.Vector2(1, 2)).bytes).value.y === 2,
  '@wsmp/cluster': typeof cluster.RedisCluster.authority === 'function' && typeof cluster.RedisCluster.edge === 'function' && typeof cluster.RedisEdge.prototype.getLocalPort === 'function' && cluster.DEFAULT_TIMEOUT_MS === 3000,
}
console.log(JSON.stringify(checks))
`

const CJS_TYPES = `
import core = require('@wsmp/core')
import client = require('@wsmp/client')
import server = require('@wsmp/server')
import godot = require('@wsmp/godot')
import cluster = require('@wsmp/cluster')
const ok: 0 = core.ErrorCode.OK
export const edgeOptions: cluster.EdgeOptions = { session: 'cjs', port: 0 }
export const vector: godot.Vector2 = new godot.Vector2(1, 2)
const peer: client.WebSocketMultiplayerPeer = new server.WebSocketMultiplayerPeer()
export const checked: [number, boolean] = [ok, peer.isServer()]
`

/** The page's code: connect, send one packet to the server, resolve with the echo. */
const ENTRY = `
import { WebSocketMultiplayerPeer, ErrorCode, TARGET_PEER_SERVER } from '@wsmp/client'
window.wsmpTest = (url, label) => new Promise((resolve, reject) => {
  const peer = new WebSocketMultiplayerPeer({ logger: null })
  const fail = (why) => { clearInterval(loop); clearTimeout(guard); peer.close(); reject(new Error(why)) }
  // A guard against a hang, not a wait: the promise settles as soon as the echo arrives.
  const guard = setTimeout(() => fail('no echo within 15 s: ' + peer.getLastError()), 15000)
  peer.on('connected_to_server', () => {
    peer.setTargetPeer(TARGET_PEER_SERVER)
    peer.putPacket(new TextEncoder().encode('hello from ' + label))
  })
  peer.on('connection_failed', (reason) => fail('connection_failed: ' + reason))
  if (peer.createClient(url) !== ErrorCode.OK) return fail(peer.getLastError())
  const loop = setInterval(() => {
    peer.poll()
    if (peer.getAvailablePacketCount() === 0) return
    const from = peer.getPacketPeer()
    const text = new TextDecoder().decode(peer.getPacket())
    const id = peer.getUniqueId()
    clearInterval(loop)
    clearTimeout(guard)
    peer.close()
    resolve({ id, from, text })
  }, 10)
})
`

const NODE_MARKERS = {
  ws: [/258EAFA5-E914-47DA-95CA-C5AB0DC85B11/, /\bfrom\s*["']ws["']|\brequire\(\s*["']ws["']\s*\)|\bimport\(\s*["']ws["']\s*\)/],
  'ws-options': [/\bperMessageDeflate\b/, /["']permessage-deflate["']/],
  'node:': [/["']node:[a-z_/]+["']/],
  require: [/(?<![.\w$])require\s*\(/],
  nextTick: [/\bprocess\.nextTick\b/],
  Buffer: [/\bBuffer\.(from|alloc|allocUnsafe|concat|isBuffer|byteLength)\s*\(/],
}

/** Files under `dir` ending in .js/.mjs, concatenated. */
function bundleCode(dir) {
  let code = ''
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /\.m?js$/.test(entry.name)) code += readFileSync(join(entry.parentPath ?? entry.path, entry.name), 'utf8')
  }
  return code
}

function nodeCodeChecks(bundler, dir) {
  const code = existsSync(dir) ? bundleCode(dir) : ''
  for (const [name, patterns] of Object.entries(NODE_MARKERS)) {
    if (!code) {
      record(`no-node ${bundler}: no ${name} in the bundle`, false, 'no bundle was built')
      continue
    }
    const hits = []
    for (const pattern of patterns) {
      const m = pattern.exec(code)
      if (m) hits.push(`${pattern}: …${code.slice(Math.max(0, m.index - 60), m.index + 60).replace(/\s+/g, ' ')}…`)
    }
    record(`no-node ${bundler}: no ${name} in the bundle`, hits.length === 0, hits.join('\n'))
  }
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** A static server for `dir` on 127.0.0.1 port 0. */
async function serve(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' }
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path)
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end()
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' })
    createReadStream(file).pipe(res)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'wsmp-consumer-'))
  const app = join(tmp, 'app')
  mkdirSync(app)
  const cleanups = []
  try {
    // 1. Pack.
    const packs = packAll(join(tmp, 'packs'))
    const deps = Object.fromEntries(packs.map((p) => [p.name, `file:${relative(app, p.tarball)}`]))
    console.log(`consumer: packed ${packs.map((p) => `${p.name}@${p.version}`).join(', ')} into ${tmp}`)

    // 2. Install: the tarballs (also as overrides, so @wsmp/* inter-dependencies are the tarballs) and the tools.
    const manifest = {
      name: 'wsmp-consumer',
      private: true,
      type: 'module',
      dependencies: deps,
      devDependencies: versions,
      overrides: Object.fromEntries(packs.map((p) => [p.name, `$${p.name}`])),
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2))
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, timeout: 150_000 })
    if (install.code !== 0) {
      record('install: npm install of the tarballs', false, install.out)
      return
    }
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'))
    const remote = Object.entries(lock.packages)
      .filter(([path]) => /(^|\/)node_modules\/@wsmp\/[^/]+$/.test(path))
      .filter(([, entry]) => !String(entry.resolved ?? '').startsWith('file:') && !entry.link)
    const installed = Object.keys(lock.packages).filter((path) => /node_modules\/@wsmp\//.test(path))
    record(
      'install: every @wsmp/* package comes from a local tarball',
      remote.length === 0 && installed.length >= packs.length,
      remote.map(([path, e]) => `${path}: ${e.resolved}`).join('\n'),
    )

    // a. ESM in Node: a server and a client exchanging packets.
    writeFileSync(join(app, 'esm.mjs'), ESM_SCRIPT)
    const esm = await run(process.execPath, ['esm.mjs'], { cwd: app, timeout: 30_000 })
    record('esm: a @wsmp/server server and a @wsmp/client client on 127.0.0.1 exchange ids and a packet each way', esm.code === 0, esm.code === 0 ? '' : esm.out)

    // b. CJS require() of each package.
    writeFileSync(join(app, 'cjs.cjs'), CJS_SCRIPT)
    const cjs = await run(process.execPath, ['cjs.cjs'], { cwd: app, timeout: 30_000 })
    let cjsChecks = {}
    try {
      cjsChecks = JSON.parse(cjs.out.trim().split('\n').pop())
    } catch {
      // no JSON line: each package's test fails below with the output
    }
    for (const p of packs) {
      const known = p.name in cjsChecks
      record(
        `cjs: require('${p.name}') gives its exports`,
        cjs.code === 0 && (!known || cjsChecks[p.name] === true) && known,
        cjs.code === 0 && known ? (cjsChecks[p.name] ? '' : 'an export is missing or wrong') : cjs.out || `no check for ${p.name} in this test yet`,
      )
    }

    // c. tsc on the README's TypeScript examples.
    const examples = readmeExamples(packs)
    mkdirSync(join(app, 'readme'))
    const files = { browser: [], node: [] }
    for (const example of examples) {
      const file = `readme/${example.name}.ts`
      writeFileSync(join(app, file), example.code)
      files[example.browser ? 'browser' : 'node'].push(file)
    }
    writeFileSync(join(app, 'readme/cjs-types.cts'), CJS_TYPES)
    const tsc = join(app, 'node_modules/typescript/bin/tsc')
    for (const mode of ['node16', 'bundler']) {
      for (const env of ['node', 'browser']) {
        const list = [...files[env], ...(mode === 'node16' && env === 'node' ? ['readme/cjs-types.cts'] : [])]
        const name = `tsc ${mode}: READMEs' ${env === 'browser' ? 'browser examples (DOM, no Node types)' : 'Node examples (Node types, no DOM)'}${list.includes('readme/cjs-types.cts') ? ' + a CJS require of each package' : ''}`
        if (list.length === 0) {
          record(name, null, 'no such example in README.md')
          continue
        }
        const config = {
          compilerOptions: {
            target: 'ES2022',
            module: mode === 'node16' ? 'Node16' : 'ESNext',
            moduleResolution: mode === 'node16' ? 'Node16' : 'Bundler',
            lib: env === 'browser' ? ['ES2022', 'DOM'] : ['ES2022'],
            types: env === 'browser' ? [] : ['node'],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
          },
          files: list,
        }
        const tsconfig = `tsconfig.${mode}.${env}.json`
        writeFileSync(join(app, tsconfig), JSON.stringify(config, null, 2))
        const result = await run(process.execPath, [tsc, '-p', tsconfig], { cwd: app, timeout: 60_000 })
        record(name, result.code === 0, result.code === 0 ? '' : result.out)
      }
    }

    // d. Browser bundles: esbuild and Vite.
    const web = join(app, 'web')
    mkdirSync(join(web, 'esbuild'), { recursive: true })
    writeFileSync(join(app, 'entry.js'), ENTRY)
    const page = (script) =>
      `<!doctype html><html><head><meta charset="utf-8"><title>wsmp consumer</title><link rel="icon" href="data:,"></head><body><script type="module" src="${script}"></script></body></html>`
    writeFileSync(join(web, 'esbuild/index.html'), page('./app.js'))
    const esbuild = await run(
      join(app, 'node_modules/.bin/esbuild'),
      ['entry.js', '--bundle', '--minify', '--platform=browser', '--format=esm', '--outfile=web/esbuild/app.js', '--log-level=warning'],
      { cwd: app, timeout: 60_000 },
    )
    record('bundle esbuild: builds a page importing @wsmp/client', esbuild.code === 0, esbuild.code === 0 ? '' : esbuild.out)

    mkdirSync(join(app, 'vite-src'))
    cpSync(join(app, 'entry.js'), join(app, 'vite-src/entry.js'))
    writeFileSync(join(app, 'vite-src/index.html'), page('./entry.js'))
    writeFileSync(join(app, 'vite.config.mjs'), `export default { root: 'vite-src', base: './', logLevel: 'warn', build: { outDir: '../web/vite', emptyOutDir: true } }\n`)
    const vite = await run(join(app, 'node_modules/.bin/vite'), ['build', '--config', 'vite.config.mjs'], { cwd: app, timeout: 90_000 })
    record(`bundle vite ${versions.vite}: builds a page importing @wsmp/client`, vite.code === 0, vite.code === 0 ? '' : vite.out)

    nodeCodeChecks('esbuild', join(web, 'esbuild'))
    nodeCodeChecks('vite', join(web, 'vite'))

    const bundlers = [
      ['esbuild', esbuild.code === 0],
      ['vite', vite.code === 0],
    ]
    const browserTest = (bundler) => `browser ${bundler}: the page connects to a Node @wsmp/server in Chromium and exchanges a packet each way`
    if (!executable(chromiumPath)) {
      const message = `no Chromium at ${chromiumPath}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary`
      for (const [bundler] of bundlers) record(browserTest(bundler), process.env.CI ? false : null, message)
      return
    }
    // The server and the browser driver come from the installed tarballs and npm, not the workspace.
    writeFileSync(join(app, 'harness.mjs'), "export { WebSocketMultiplayerPeer, ErrorCode } from '@wsmp/server'\nexport { chromium } from 'playwright-core'\n")
    const { WebSocketMultiplayerPeer, ErrorCode, chromium } = await import(pathToFileURL(join(app, 'harness.mjs')).href)
    const server = new WebSocketMultiplayerPeer({ autoPoll: true, logger: null })
    const received = []
    server.on('packet', (data, from) => {
      const text = new TextDecoder().decode(data)
      received.push({ from, text })
      server.setTargetPeer(from)
      server.putPacket(new TextEncoder().encode(`echo:${text}`))
    })
    if ((await server.createServer(0, '127.0.0.1')) !== ErrorCode.OK) throw new Error(`createServer: ${server.getLastError()}`)
    cleanups.push(() => server.close())
    const site = await serve(web)
    cleanups.push(() => new Promise((resolve) => site.close(resolve)))
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs })
    cleanups.push(() => browser.close())
    const siteUrl = `http://127.0.0.1:${site.address().port}`
    const wsUrl = `ws://127.0.0.1:${server.getLocalPort()}`
    for (const [bundler, built] of bundlers) {
      if (!built) {
        record(browserTest(bundler), false, 'no bundle was built')
        continue
      }
      const tab = await browser.newPage()
      const errors = []
      tab.on('pageerror', (err) => errors.push(String(err)))
      try {
        await tab.goto(`${siteUrl}/${bundler}/index.html`)
        await tab.waitForFunction(() => typeof globalThis.wsmpTest === 'function', null, { timeout: 15_000 })
        const echo = await tab.evaluate(([url, label]) => globalThis.wsmpTest(url, label), [wsUrl, bundler])
        const heard = received.find((r) => r.from === echo.id)
        const ok = echo.id > 1 && echo.from === 1 && echo.text === `echo:hello from ${bundler}` && heard?.text === `hello from ${bundler}` && errors.length === 0
        record(browserTest(bundler), ok, ok ? '' : JSON.stringify({ echo, received, errors }))
      } catch (err) {
        record(browserTest(bundler), false, `${err.message}\n${errors.join('\n')}`)
      } finally {
        await tab.close()
      }
    }
  } catch (err) {
    record('consumer: the test itself ran to its end', false, err.stack)
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup()
      } catch {
        // already closed; go on with the rest
      }
    }
    endAll()
    if (keep) console.log(`consumer: kept ${tmp}`)
    else rmSync(tmp, { recursive: true, force: true })
  }
}

await main()
const count = (status) => results.filter((r) => r.status === status).length
const summary = { passed: count('passed'), failed: count('failed'), skipped: count('skipped') }
console.log(`consumer: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped (${((Date.now() - started) / 1000).toFixed(0)} s)`)
if (reportFile) writeFileSync(reportFile, JSON.stringify(summary) + '\n')
process.exit(summary.failed > 0 || results.length === 0 ? 1 : 0)
