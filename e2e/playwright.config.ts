import { defineConfig } from '@playwright/test'
import { chromiumPath as executablePath, missingChromium } from './chromium'

// Debian's Chromium (apt-get install chromium) or CHROMIUM_PATH; Playwright downloads no browser of
// its own. Without one every test is skipped with this message (tests/fixtures.ts); under CI it fails.
if (missingChromium) {
  if (process.env.CI) throw new Error(missingChromium.replace('the browser tests are skipped', 'the browser tests cannot run'))
  if (!process.env.TEST_WORKER_INDEX) console.warn(`\n${missingChromium}\n`)
}

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
