// Builds every package: ESM (.mjs) + CJS (.cjs) from src, one bundled .d.ts from tsc's lib/ output,
// and the script-tag IIFE of core + client (packages/client/dist/wsmp.min.js, global WSMP).
//
// Code that only one environment runs lives in modules of its own, picked by package export
// conditions: @wsmp/client's `#socket` import is src/socket.browser.ts for browsers and
// src/socket.node.ts for Node (package.json "imports"). Each such module is an entry of its own
// here, and `#socket` stays an import in the built index, for the consumer's resolver to pick.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import typescript from '@rollup/plugin-typescript'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { dts } from 'rollup-plugin-dts'

/** The entry points of each package: src/NAME.ts → dist/NAME.mjs, .cjs and .d.ts. */
const entries = {
  core: ['index'],
  client: ['index', 'socket.node', 'socket.browser'],
  server: ['index'],
  godot: ['index'],
}
const packages = Object.keys(entries)

/** The script-tag bundle must stay under this many bytes gzipped (packages/server/test/bundle-size.test.ts checks it too). */
export const IIFE_GZIP_LIMIT = 16 * 1024

/** What a package's build leaves to the consumer's resolver: its dependencies, Node's modules and its own `#` imports. */
function externals(name) {
  const pkg = JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8'))
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })
  return (id) => id.startsWith('node:') || id.startsWith('#') || deps.some((d) => id === d || id.startsWith(`${d}/`))
}

/** TypeScript for package `name`; `conditions` are the export conditions its imports resolve with. */
function ts(name, conditions = ['source']) {
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
      customConditions: conditions,
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
        const gz = gzipSync(file.code, { level: 9 }).length
        console.log(`${options.file}: ${(file.code.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(2)} KB gzip (limit ${IIFE_GZIP_LIMIT / 1024} KB)`)
        // Over the limit the build still succeeds (so the other tests run); the bundle-size test fails.
        if (gz > IIFE_GZIP_LIMIT) this.warn(`${options.file} is ${gz} bytes gzipped, over the ${IIFE_GZIP_LIMIT}-byte limit`)
      }
    },
  }
}

export default [
  ...packages.flatMap((name) =>
    entries[name].map((entry) => ({
      input: `packages/${name}/src/${entry}.ts`,
      external: externals(name),
      plugins: [ts(name)],
      output: [
        { file: `packages/${name}/dist/${entry}.mjs`, format: 'es', sourcemap: true },
        { file: `packages/${name}/dist/${entry}.cjs`, format: 'cjs', exports: 'named', sourcemap: true },
      ],
    })),
  ),
  ...packages.flatMap((name) =>
    entries[name].map((entry) => ({
      input: `packages/${name}/lib/${entry}.d.ts`,
      external: externals(name),
      plugins: [dts()],
      output: { file: `packages/${name}/dist/${entry}.d.ts`, format: 'es' },
    })),
  ),
  {
    // The script tag: core + client + their dependencies in one file. nodeResolve's `browser`
    // condition picks the browser's socket and the browser builds of the dependencies.
    input: 'packages/client/src/index.ts',
    plugins: [nodeResolve({ browser: true }), ts('client', ['browser', 'source'])],
    output: {
      file: 'packages/client/dist/wsmp.min.js',
      format: 'iife',
      name: 'WSMP',
      plugins: [
        terser({
          ecma: 2020,
          compress: { passes: 3, unsafe_arrows: true, pure_getters: true, unsafe: true, unsafe_methods: true, unsafe_math: true, keep_fargs: false, unsafe_comps: true, hoist_funs: true },
          // Members whose names start with `_` are wsmp's internals: nothing outside the bundle reads them.
          mangle: { properties: { regex: /^_[a-z]/ } },
        }),
        reportSize(),
      ],
    },
  },
]
