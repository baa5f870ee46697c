import { defineConfig } from '@playwright/test'

// Debian's Chromium (apt-get install chromium); Playwright downloads no browser of its own.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export default defineConfig({
  testDir: './tests',
  // One worker: the machine has two shared cores; every test starts its own servers on port 0.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  globalSetup: './global-setup.ts',
  outputDir: '../test-results/e2e-artifacts',
  // scripts/summary.mjs reads test-results/browser.json (stats.expected/unexpected/flaky/skipped).
  reporter: [['list'], ['json', { outputFile: '../test-results/browser.json' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
})
