// The godot-live suite: the real Godot 4 engine against wsmp, both directions (e2e/godot/).
// Run alone: pnpm exec vitest run -c vitest.godot.config.ts  (engine: GODOT4_BIN, else ../shared/godot/godot4)
import { defineConfig } from 'vitest/config'

const conditions = ['source', 'module', 'node', 'development|production']

export default defineConfig({
  ssr: { resolve: { conditions } },
  resolve: { conditions },
  test: {
    include: ['e2e/godot/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['e2e/godot/support/global-setup.ts'],
    setupFiles: ['e2e/godot/support/setup.ts'],
    // The scenarios start engine processes and Chromium: one file at a time on the shared cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
})
