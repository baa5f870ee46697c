// The lint suite: ESLint (eslint.config.mjs) and Prettier (--check, .prettierrc.json) over the
// repository. One test per tool; with --report FILE writes {"passed","failed","skipped"}.
// TODO(lead): packages/*/src is left out while it is being restructured (--ignore-pattern here,
// an entry in .prettierignore); `pnpm run lint:src` shows its findings. Drop both once it lands.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './workspace-packages.mjs'

const reportAt = process.argv.indexOf('--report')
const reportFile = reportAt > 0 ? process.argv[reportAt + 1] : null
const bin = (name) => join(root, 'node_modules', '.bin', name)
const checks = [
  ['eslint', bin('eslint'), ['.', '--ignore-pattern', 'packages/*/src/**', '--max-warnings', '0']],
  ['prettier', bin('prettier'), ['--check', '.']],
]
let passed = 0
let failed = 0
for (const [name, command, args] of checks) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  const ok = result.status === 0
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`)
  if (ok) passed++
  else failed++
}
if (reportFile) writeFileSync(reportFile, JSON.stringify({ passed, failed, skipped: 0 }) + '\n')
process.exit(failed > 0 ? 1 : 0)
