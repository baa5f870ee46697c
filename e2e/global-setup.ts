// Bundles @wsmp/client's ESM build for the bundler page, as an application's bundler would:
// rollup + node-resolve (browser field, package exports' `import` condition), nothing else.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import { rollup } from 'rollup'

export const pagesDir = fileURLToPath(new URL('./pages/', import.meta.url))
export const pageBundle = fileURLToPath(new URL('./dist/bundle.mjs', import.meta.url))
export const scriptBundle = fileURLToPath(new URL('../packages/client/dist/wsmp.min.js', import.meta.url))

export default async function globalSetup(): Promise<void> {
  for (const name of ['core', 'client', 'server']) {
    const built = fileURLToPath(new URL(`../packages/${name}/dist/index.mjs`, import.meta.url))
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm run build\` before the browser tests`)
  }
  if (!existsSync(scriptBundle)) throw new Error(`${scriptBundle} is missing: run \`pnpm run build\` first`)
  const bundle = await rollup({ input: `${pagesDir}bundler-entry.mjs`, plugins: [nodeResolve({ browser: true })] })
  await bundle.write({ file: pageBundle, format: 'es' })
  await bundle.close()
}
