// The hostile suite (issue 8): a wsmp server in a child process (e2e/hostile/server-child.mjs, the
// build of @wsmp/server) attacked from raw `ws` clients and raw TCP in the test process and in
// attacker processes; every scenario prints its figures (`hostile: …` lines) and asserts bounds.
// Run alone: pnpm run build && pnpm exec vitest run -c vitest.hostile.config.ts   (see e2e/hostile/README.md)
import { defineConfig } from 'vitest/config'

const conditions = ['source', 'module', 'node', 'development|production']

export default defineConfig({
  ssr: { resolve: { conditions } },
  resolve: { conditions },
  test: {
    include: ['e2e/hostile/**/*.test.ts'],
    environment: 'node',
    // Refuses a build older than the sources (the server child runs packages/server/dist).
    globalSetup: ['e2e/hostile/global-setup.ts'],
    // Child processes and thousands of sockets: one file at a time on the shared cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
})
