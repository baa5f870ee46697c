// The server under attack runs the build (packages/server/dist, with core's and client's): refuse
// to measure a build older than the sources, which would report figures of code that is gone.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

function newest(dir: string): number {
  let out = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    out = Math.max(out, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return out
}

export default function setup(): void {
  for (const pkg of ['core', 'client', 'server']) {
    const built = join(root, 'packages', pkg, 'dist', 'index.mjs')
    let builtAt: number
    try {
      builtAt = statSync(built).mtimeMs
    } catch {
      throw new Error(`the hostile suite runs the build: ${built} is missing; run pnpm run build first`)
    }
    if (newest(join(root, 'packages', pkg, 'src')) > builtAt)
      throw new Error(`the hostile suite runs the build: packages/${pkg}/src is newer than its dist; run pnpm run build first`)
  }
}
