#!/usr/bin/env bash
# Installs what the project needs on a machine that has only Node 20 and npm, then builds.
#   bash scripts/setup.sh            pnpm 12.4.2, dependencies, Chromium (for the browser tests), build
#   bash scripts/setup.sh --no-browser   the same without Chromium (enough for the demo)
set -euo pipefail
cd "$(dirname "$0")/.."

# pnpm 12.4.2: globally when npm may (root, or a user-owned prefix), else into .tools/ here.
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
if [ "$(pnpm --version 2>/dev/null)" != "12.4.2" ]; then
  echo "setup: installing pnpm 12.4.2" >&2
  if [ -n "${WSMP_LOCAL_PNPM:-}" ] || ! npm install -g pnpm@12.4.2 >/dev/null 2>&1; then
    npm install --prefix .tools --no-save --no-audit --no-fund pnpm@12.4.2 >/dev/null
  fi
fi

if [ "${1:-}" != "--no-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium for the browser tests" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  else
    sudo apt-get update -q >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  fi
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm run --silent build
