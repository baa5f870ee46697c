// Before the cluster suite: says in one line why it is skipped when there is no redis-server
// (an error under CI=true, where a green run must not hide a missing install), and checks that
// the build the child processes import exists.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { REDIS_MISSING } from './redis-server.js'

export default function setup(): void {
  if (REDIS_MISSING) {
    if (process.env.CI) throw new Error(`cluster tests: ${REDIS_MISSING}`)
    console.warn(`cluster tests skipped: ${REDIS_MISSING}`)
    return
  }
  const built = fileURLToPath(new URL('../../dist/index.mjs', import.meta.url))
  if (!existsSync(built)) throw new Error('cluster tests: packages/cluster/dist is missing; run `pnpm run build` first (the child processes import the build)')
}
