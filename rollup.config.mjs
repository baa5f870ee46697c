// Builds every package: ESM (.mjs) + CJS (.cjs) from src, one bundled .d.ts from tsc's lib/ output,
// and the script-tag IIFE of core + client (packages/client/dist/wsmp.min.js, global WSMP).
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import typescript from '@rollup/plugin-typescript'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { dts } from 'rollup-plugin-dts'

const packages = ['core', 'client', 'server']

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

/** Prints the gzipped size of the script-tag bundle once it is written. */
function reportSize() {
  return {
    name: 'report-size',
    writeBundle(options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'chunk') continue
        const gz = gzipSync(file.code, { level: 9 }).length
        console.log(`${options.file}: ${(file.code.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(2)} KB gzip`)
      }
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
    output: { file: `packages/${name}/dist/index.d.ts`, format: 'es' },
  })),
  {
    input: 'packages/client/src/index.ts',
    plugins: [nodeResolve({ browser: true }), ts('client')],
    output: [
      { file: 'packages/client/dist/wsmp.min.js', format: 'iife', name: 'WSMP', plugins: [terser(), reportSize()] },
    ],
  },
]
