#!/usr/bin/env bash
# Runs every unit, integration and browser test, then prints one line "N passed, N failed, N skipped"
# summing all runners; exits non-zero when anything failed. Expects scripts/setup.sh to have run.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1
export PATH="$PWD/.tools/node_modules/.bin:$PATH"   # pnpm, when scripts/setup.sh installed it locally
rm -rf test-results/vitest.json test-results/e2e.json
mkdir -p test-results

pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
vitest_rc=$?
e2e_rc=0
if [ -f e2e/package.json ]; then
  pnpm run --silent e2e
  e2e_rc=$?
fi
node scripts/summary.mjs "$vitest_rc" "$e2e_rc"
