import { defineConfig } from 'vitest/config'

const conditions = ['source', 'module', 'node', 'development|production']

export default defineConfig({
  ssr: { resolve: { conditions } },
  resolve: { conditions },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // A suite of its own (vitest.cluster.config.ts): it starts redis-server and processes.
    exclude: ['packages/cluster/**', '**/node_modules/**'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
