// Sums the vitest and Playwright JSON reports into one closing line: "N passed, N failed, N skipped".
// Exits 1 when a test failed, a runner exited non-zero, or a report that should exist is missing.
import { existsSync, readFileSync } from 'node:fs'

const [vitestRc = '0', e2eRc = '0'] = process.argv.slice(2)
let passed = 0
let failed = 0
let skipped = 0
let broken = false

function read(file) {
  if (!existsSync(file)) return null
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

const vitest = read('test-results/vitest.json')
if (vitest) {
  passed += vitest.numPassedTests
  failed += vitest.numFailedTests
  skipped += vitest.numPendingTests + vitest.numTodoTests
} else {
  console.error('summary: test-results/vitest.json is missing: vitest did not report')
  broken = true
}

if (existsSync('e2e/package.json')) {
  const e2e = read('test-results/e2e.json')
  if (e2e) {
    passed += e2e.stats.expected + e2e.stats.flaky
    failed += e2e.stats.unexpected
    skipped += e2e.stats.skipped
  } else {
    console.error('summary: test-results/e2e.json is missing: Playwright did not report')
    broken = true
  }
}

if (vitestRc !== '0' || e2eRc !== '0') broken = true
if (broken && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || broken ? 1 : 0)
