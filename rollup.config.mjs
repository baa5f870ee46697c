// Builds every package: ESM (.mjs) + CJS (.cjs) from src, one bundled .d.ts from tsc's lib/ output,
// and the script-tag IIFE of core + client (packages/client/dist/wsmp.min.js, global WSMP).
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import typescript from '@rollup/plugin-typescript'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { dts } from 'rollup-plugin-dts'

const packages = ['core', 'client', 'server']

/** The script-tag bundle must stay under this many bytes gzipped (packages/server/test/bundle-size.test.ts checks it too). */
export const IIFE_GZIP_LIMIT = 10 * 1024

function externals(name) {
  const pkg = JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8'))
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })
  return (id) => id.startsWith('node:') || deps.some((d) => id === d || id.startsWith(`${d}/`))
}

function ts(name) {
  return typescript({
    tsconfig: `packages/${name}/tsconfig.json`,
    compilerOptions: {
      composite: false,
      declaration: false,
      declarationMap: false,
      emitDeclarationOnly: false,
      noEmit: false,
      incremental: false,
      tsBuildInfoFile: undefined,
      outDir: `packages/${name}/dist`,
    },
  })
}

/** Prints the gzipped size of the script-tag bundle once it is written, and warns over the limit. */
function reportSize() {
  return {
    name: 'report-size',
    writeBundle(options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'chunk') continue
        // The limit is on the code: the licence banner (a leading `/*! … */`, see licenseBanner) is
        // measured apart, by packages/server/test/bundle-size.test.ts.
        const code = file.code.replace(/^\/\*![^]*?\*\/\n?/, '')
        const gz = gzipSync(code, { level: 9 }).length
        console.log(`${options.file}: ${(code.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(2)} KB gzip without the licence banner (limit ${IIFE_GZIP_LIMIT / 1024} KB)`)
        // Over the limit the build still succeeds (so the other tests run); the bundle-size test fails.
        if (gz > IIFE_GZIP_LIMIT) this.warn(`${options.file} is ${gz} bytes gzipped, over the ${IIFE_GZIP_LIMIT}-byte limit`)
      }
    },
  }
}

/** Walks an ESTree AST, calling `visit(node, parent)` on every node. */
function walk(node, visit, parent = null) {
  if (!node || typeof node.type !== 'string') return
  visit(node, parent)
  for (const key of Object.keys(node)) {
    const child = node[key]
    if (Array.isArray(child)) for (const c of child) walk(c, visit, node)
    else if (child && typeof child.type === 'string') walk(child, visit, node)
  }
}

/** Applies `[start, end, text]` replacements to `code`. */
function splice(code, edits) {
  edits.sort((a, b) => b[0] - a[0])
  for (const [start, end, text] of edits) code = code.slice(0, start) + text + code.slice(end)
  return code
}

/**
 * `{ A: n, B: n + 1, … }` (consecutive numbers) or `{ A_B: 'a_b', … }` (lower-cased names), 8 members
 * or more, written as a list of names: what keeps `ErrorCode`'s 49 members small; null otherwise.
 */
function consecutive(object) {
  const props = object.properties
  if (props.length < 8) return null
  const first = props[0].value?.value
  const lower = props.every((p) => p.value?.value === p.key?.name?.toLowerCase())
  const names = []
  for (const [i, p] of props.entries()) {
    if (p.type !== 'Property' || p.computed || p.key.type !== 'Identifier' || p.value.type !== 'Literal') return null
    if (!lower && p.value.value !== first + i) return null
    names.push(p.key.name)
  }
  const value = lower ? 'name.toLowerCase()' : `i + ${first}`
  return `/* @__PURE__ */ Object.fromEntries(${JSON.stringify(names.join(' '))}.split(' ').map((name, i) => [name, ${value}]))`
}

/**
 * Shapes the script-tag bundle for browsers, where it is the only thing that runs:
 * - `isomorphic-ws` is the browser's own `WebSocket` (its browser.js looks for it under five names);
 * - the `as const` enum objects wsmp reads internally (`ErrorCode.OK`, `ConnectionStatus.CONNECTED`
 *   …) are inlined as their values, as a TypeScript `const enum` would be (the objects stay exported;
 *   the long ones are written as a list of names);
 * - a `WebSocketPeer` in a browser never runs over Node's `ws`, so the fields only Node sets read
 *   as their initial values (`_node` and `_paused` false, `_host` '', the ping and drain state) and
 *   are not declared, `ws`'s own members (`terminate`, `pause`, `resume`, the TCP socket) as undefined,
 *   and the Node-only branches (pause/resume, pings, drain timers, TCP options) drop out, with the
 *   members only Node uses (`_accept`, for servers; `_nodeOptions`, `ws`'s options; `_heartbeat`,
 *   pings; `_watchDrain`, `_stopHeartbeat`, `_checkResume`: no-ops in a browser).
 */
function browserOnly() {
  // Methods that do nothing in a browser (drain timers, ping timers and resuming a paused socket all
  // need Node's `ws`): they go, and their calls read as `undefined`.
  const nodeOnlyCalls = ['_nodeOptions', '_watchDrain', '_stopHeartbeat', '_checkResume']
  // What `ws` has and a browser's WebSocket has not (`this._socket._socket`, the TCP socket under it;
  // `terminate`, `pause`, `resume`): read as `undefined`.
  const nodeOnlyProps = ['terminate', 'pause', 'resume']
  // Fields only Node sets (the remote host and port come from a server's accept, `_refused` from
  // an upgrade answered with an HTTP status): their reads
  // are these values; their declarations and the statements assigning them go.
  const nodeOnlyFields = { _node: 'false', _paused: 'false', _host: "''", _port: '0', _heartbeatTimer: 'null', _awaitingPong: 'false', _drainWatched: 'false', _recheckDelay: '5', _refused: 'false' }
  const enums = ['ErrorCode', 'ConnectionStatus', 'TransferMode', 'CloseCode', 'DropReason', 'FrameKind', 'SceneCommand', 'SysCommand', 'VarExtType', 'WebSocketState', 'WriteMode']
  // Members only Node runs (a server's accept, ws options, pings, a refused upgrade's body) and the
  // @internal getters only Node tests read.
  const nodeOnlyMembers = ['_accept', '_nodeOptions', '_heartbeat', '_refusedUpgrade', '_isPaused', '_unreadCount', '_isNode', '_heldCount', ...nodeOnlyCalls]
  let values = null
  // Node's write batching and shared frames, the lazy inbox/queue of accepted connections, and the
  // ws listeners (see websocket-peer.ts).
  nodeOnlyMembers.push('_cork', '_uncork', '_offerBatch', '_entries', '_packets', '_shareFrame', '_onSocketOpen', '_onSocketMessage', '_onSocketClose', '_onSocketError', '_onSocketPong', '_onSocketUnexpectedResponse')
  return {
    name: 'browser-only',
    async buildStart() {
      // The JS builds of core and client come first in this config, so their values are at hand.
      const core = await import(pathToFileURL('packages/core/dist/index.mjs').href)
      const client = await import(pathToFileURL('packages/client/dist/index.mjs').href)
      values = {}
      for (const name of enums) values[name] = core[name] ?? client[name]
    },
    resolveId(id) {
      return id === 'isomorphic-ws' ? '\0browser-websocket' : null
    },
    load(id) {
      return id === '\0browser-websocket' ? 'export default globalThis.WebSocket' : null
    },
    transform(code, id) {
      if (!/packages[\\/](core[\\/]dist[\\/]index\.mjs|client[\\/]src[\\/])/.test(id)) return null
      const ast = this.parse(code)
      const edits = []
      const browser = id.endsWith('websocket-peer.ts')
      const clientSrc = /client[\\/]src[\\/]/.test(id)
      walk(ast, (node, parent) => {
        if (browser && node.type === 'MethodDefinition' && nodeOnlyMembers.includes(node.key.name)) {
          edits.push([node.start, node.end, ''])
        } else if (browser && node.type === 'PropertyDefinition' && Object.hasOwn(nodeOnlyFields, node.key.name)) {
          edits.push([node.start, node.end, ''])
        } else if (browser && node.type === 'ExpressionStatement' && node.expression.type === 'AssignmentExpression' && node.expression.left.type === 'MemberExpression' && node.expression.left.object.type === 'ThisExpression' && Object.hasOwn(nodeOnlyFields, node.expression.left.property.name)) {
          edits.push([node.start, node.end, ';'])
        } else if (browser && node.type === 'CallExpression' && node.callee.type === 'MemberExpression' && nodeOnlyCalls.includes(node.callee.property.name)) {
          edits.push([node.start, node.end, 'undefined'])
        } else if (browser && node.type === 'BinaryExpression' && node.left.type === 'UnaryExpression' && node.left.operator === 'typeof' && node.left.argument.property?.name === 'on') {
          edits.push([node.start, node.end, 'false'])
        }
        if (node.type === 'VariableDeclarator' && node.init?.type === 'ObjectExpression' && enums.includes(node.id.name)) {
          const compact = consecutive(node.init)
          if (compact) edits.push([node.init.start, node.init.end, compact])
        }
        if (node.type !== 'MemberExpression' || node.computed || node.property.type !== 'Identifier') return
        const assigned = parent && parent.type === 'AssignmentExpression' && parent.left === node
        if (node.object.type === 'Identifier' && values[node.object.name] && !assigned) {
          const value = values[node.object.name][node.property.name]
          if (value !== undefined) edits.push([node.start, node.end, JSON.stringify(value)])
        } else if (browser && node.object.type === 'ThisExpression' && Object.hasOwn(nodeOnlyFields, node.property.name) && !assigned) {
          edits.push([node.start, node.end, nodeOnlyFields[node.property.name]])
        } else if (browser && !assigned && node.object.type !== 'ThisExpression' && (nodeOnlyProps.includes(node.property.name) || (node.property.name === '_socket' && node.object.property?.name === '_socket'))) {
          edits.push([node.start, node.end, 'undefined'])
        } else if (clientSrc && !assigned && node.property.name === 'unref') {
          // A browser's timers are numbers: nothing to unref (Node's keep the process alive).
          edits.push([node.start, node.end, 'undefined'])
        }
      })
      // An edit inside a removed or replaced range is moot.
      const outer = edits.filter(([start, end]) => !edits.some(([s, e]) => s <= start && end <= e && (s !== start || e !== end)))
      edits.length = 0
      edits.push(...outer)
      return edits.length > 0 ? { code: splice(code, edits), map: null } : null
    },
  }
}

/**
 * In the CJS declarations (index.d.cts), imports from ESM-only packages (nanoevents) get
 * `with { 'resolution-mode': 'import' }`: without it TypeScript under node16 rejects them (TS1479:
 * a CommonJS file cannot require an ES module), though at run time Node ≥ 20.19 can. Type-only, so
 * nothing changes in the JS.
 */
function esmTypesFromCjs(name) {
  const esmOnly = (dep) => {
    const manifest = `packages/${name}/node_modules/${dep}/package.json`
    let pkg
    try {
      pkg = JSON.parse(readFileSync(manifest, 'utf8'))
    } catch {
      return false
    }
    return pkg.type === 'module' && !JSON.stringify(pkg.exports ?? null).includes('"require"')
  }
  return {
    name: 'esm-types-from-cjs',
    renderChunk(code) {
      return code.replace(/^(import|export) (\{[^}]*\}|\* as [\w$]+) from '([^']+)';$/gm, (line, kind, names, dep) =>
        esmOnly(dep) ? `${kind} type ${names} from '${dep}' with { 'resolution-mode': 'import' };` : line,
      )
    },
  }
}

/**
 * The script-tag bundle's licence/version banner, made from what the chunk really contains: every
 * package bundled from node_modules is named with its version, licence and author, as their licences
 * ask (a `/*!` comment, which terser keeps).
 */
function licenseBanner(chunk) {
  const client = JSON.parse(readFileSync('packages/client/package.json', 'utf8'))
  const bundled = new Map()
  for (const id of chunk.moduleIds) {
    const at = id.lastIndexOf('node_modules/')
    if (at < 0) continue
    const parts = id.slice(at + 'node_modules/'.length).split('/')
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
    if (bundled.has(name)) continue
    const pkg = JSON.parse(readFileSync(`${id.slice(0, at)}node_modules/${name}/package.json`, 'utf8'))
    const author = typeof pkg.author === 'string' ? pkg.author.replace(/\s*[<(].*$/, '') : (pkg.author?.name ?? '')
    bundled.set(name, `${name} ${pkg.version} (${[pkg.license, author].filter(Boolean).join(', ')})`)
  }
  const includes = bundled.size > 0 ? ` | includes ${[...bundled.values()].sort().join(', ')}` : ''
  return `/*! wsmp ${client.name} v${client.version} | ${client.license} | https://github.com/wsmp/wsmp${includes} */`
}

/** Prints the written bundle's Subresource Integrity hash, for `<script integrity="…">` (README "Install"). */
function reportIntegrity() {
  return {
    name: 'report-integrity',
    writeBundle(options) {
      const hash = createHash('sha384').update(readFileSync(options.file)).digest('base64')
      console.log(`${options.file}: integrity sha384-${hash}`)
    },
  }
}

export default [
  ...packages.map((name) => ({
    input: `packages/${name}/src/index.ts`,
    external: externals(name),
    plugins: [ts(name)],
    output: [
      { file: `packages/${name}/dist/index.mjs`, format: 'es', sourcemap: true },
      { file: `packages/${name}/dist/index.cjs`, format: 'cjs', exports: 'named', sourcemap: true },
    ],
  })),
  ...packages.map((name) => ({
    input: `packages/${name}/lib/index.d.ts`,
    external: externals(name),
    plugins: [dts()],
    // The same declarations twice: index.d.ts types the ESM build (the package is "type": "module")
    // and index.d.cts the CJS build, so TypeScript under node16/nodenext sees each build's own format.
    output: [
      { file: `packages/${name}/dist/index.d.ts`, format: 'es' },
      { file: `packages/${name}/dist/index.d.cts`, format: 'es', plugins: [esmTypesFromCjs(name)] },
    ],
  })),
  {
    input: 'packages/client/src/index.ts',
    plugins: [nodeResolve({ browser: true }), ts('client'), browserOnly()],
    output: [
      {
        file: 'packages/client/dist/wsmp.min.js',
        format: 'iife',
        name: 'WSMP',
        banner: licenseBanner,
        // No "use strict" prologue: the classes, most of the code, are strict anyway, and the rest
        // (the codec, the framing helpers) neither uses `this` nor writes undeclared names.
        strict: false,
        plugins: [
          terser({
            ecma: 2020,
            compress: { passes: 3, unsafe_arrows: true, pure_getters: true, unsafe: true, unsafe_methods: true, unsafe_math: true, keep_fargs: false, unsafe_comps: true, hoist_funs: true, inline: 0 },
            // Members whose names start with `_` are wsmp's internals: nothing outside the bundle
            // reads them in a browser (`ws` internals like `_socket` exist only in Node). The named
            // ones are TypeScript `private` fields (Queue's) that no public member shares,
            // the @internal PeerSink calls (`onOpen`, `onMessage`, `onClose`) and the private event
            // emitter's `events` and `emit` (its public `on` keeps its name); `builtins` lets `items` and `head` be mangled although the DOM has properties so named.
            mangle: { properties: { regex: /^_[a-z]|^(items|head|onOpen|onMessage|onClose|events|emit)$/, builtins: true } },
          }),
          reportSize(),
          reportIntegrity(),
        ],
      },
    ],
  },
]
