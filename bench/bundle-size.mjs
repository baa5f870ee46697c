// What a browser downloads for each implementation: the script-tag file, and what a bundler makes
// of an app that imports the client and opens a connection (rollup with the browser condition,
// terser), gzip level 9. Part of `pnpm bench` (--only bundle).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { rollup } from 'rollup'

const gz = (code) => gzipSync(code, { level: 9 }).length

/** The entry of a bundled app: the client's import and one connection, as a game would open it. */
const APPS = {
  wsmp: "import { WebSocketMultiplayerPeer } from '@wsmp/client'\nconst peer = new WebSocketMultiplayerPeer()\npeer.createClient('ws://localhost:9080')\nglobalThis.peer = peer\n",
  'socket.io': "import { io } from 'socket.io-client'\nglobalThis.socket = io('ws://localhost:9080', { transports: ['websocket'] })\n",
}

async function bundled(name, from) {
  // A module that does not exist on disk, in `from`: its imports resolve from there.
  const id = join(from, '__bench-app.js')
  const bundle = await rollup({
    input: id,
    onwarn: (warning) => {
      if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(`bench bundle: ${warning.message}`)
    },
    plugins: [{ name: 'app', resolveId: (source) => (source === id ? id : null), load: (source) => (source === id ? APPS[name] : null) }, nodeResolve({ browser: true })],
  })
  const { output } = await bundle.generate({ format: 'esm', plugins: [terser({ ecma: 2020, compress: { passes: 2 } })] })
  await bundle.close()
  return output[0].code
}

/** Sizes in bytes: `{ [impl]: { file, bytes, gzip, bundled, bundledGzip } }`. */
export async function bundleSizes(root, benchDir) {
  const require = createRequire(join(benchDir, 'package.json'))
  const wsmpFile = join(root, 'packages/client/dist/wsmp.min.js')
  const sioFile = join(dirname(require.resolve('socket.io-client/package.json')), 'dist/socket.io.min.js')
  const wsmpApp = await bundled('wsmp', join(root, 'packages/server'))
  const sioApp = await bundled('socket.io', benchDir)
  const file = (path) => readFileSync(path)
  return {
    wsmp: { file: 'packages/client/dist/wsmp.min.js', bytes: file(wsmpFile).length, gzip: gz(file(wsmpFile)), bundledGzip: gz(wsmpApp) },
    ws: { file: '(the browser’s native WebSocket)', bytes: 0, gzip: 0, bundledGzip: 0 },
    'socket.io': { file: 'socket.io-client/dist/socket.io.min.js', bytes: file(sioFile).length, gzip: gz(file(sioFile)), bundledGzip: gz(sioApp) },
  }
}
