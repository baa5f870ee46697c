// The cluster suite: @wsmp/cluster against a real redis-server (started by the tests on a free
// 127.0.0.1 port) with edges and authorities in this process and in child processes.
// Run alone: pnpm exec vitest run -c vitest.cluster.config.ts   (needs redis-server: scripts/setup.sh
// installs Debian's; or REDIS_SERVER_PATH=/path/to/redis-server; the child processes use the build)
import { defineConfig } from 'vitest/config'

const conditions = ['source', 'module', 'node', 'development|production']

export default defineConfig({
  ssr: { resolve: { conditions } },
  resolve: { conditions },
  test: {
    include: ['packages/cluster/test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['packages/cluster/test/support/global-setup.ts'],
    // Redis servers and processes: one file at a time on the shared cores.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
