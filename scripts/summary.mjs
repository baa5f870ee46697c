// Sums the suites' JSON reports into one closing line: "N passed, N failed, N skipped", after a
// line per suite. Arguments: NAME:EXIT_CODE for each suite that ran (scripts/test-all.sh); each
// wrote test-results/NAME.json in vitest's or Playwright's JSON format, or {passed, failed, skipped}.
// Exits 1 when a test failed, a runner exited non-zero, or a report is missing.
import { existsSync, readFileSync } from 'node:fs'

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

/** The counts of one report, whatever runner wrote it; null when the shape is unknown. */
function counts(report) {
  if (typeof report?.numPassedTests === 'number') {
    return { passed: report.numPassedTests, failed: report.numFailedTests, skipped: report.numPendingTests + report.numTodoTests }
  }
  if (report?.stats && typeof report.stats.expected === 'number') {
    return { passed: report.stats.expected + report.stats.flaky, failed: report.stats.unexpected, skipped: report.stats.skipped }
  }
  if (typeof report?.passed === 'number') return { passed: report.passed, failed: report.failed ?? 0, skipped: report.skipped ?? 0 }
  return null
}

for (const arg of process.argv.slice(2)) {
  const at = arg.lastIndexOf(':')
  const name = arg.slice(0, at)
  const rc = arg.slice(at + 1)
  const suite = counts(read(`test-results/${name}.json`))
  if (!suite) {
    console.error(`summary: test-results/${name}.json is missing or unreadable: the ${name} suite did not report`)
    broken = true
    continue
  }
  if (rc !== '0' && suite.failed === 0) {
    console.error(`summary: the ${name} suite exited with ${rc} although no test failed`)
    broken = true
  }
  console.log(`${name}: ${suite.passed} passed, ${suite.failed} failed${suite.skipped ? `, ${suite.skipped} skipped` : ''}`)
  passed += suite.passed
  failed += suite.failed
  skipped += suite.skipped
}

if (broken && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || broken ? 1 : 0)
