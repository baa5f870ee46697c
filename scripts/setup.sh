#!/usr/bin/env bash
# Installs what the project needs on a machine that has only Node 20 and npm, then builds.
#   bash scripts/setup.sh            pnpm 12.4.2, dependencies, Chromium (for the browser tests),
#                                    redis-server (for the cluster tests), build
#   bash scripts/setup.sh --no-browser   the same without Chromium (enough for the demos)
#
# pnpm: the one on PATH when it is 12.4.2 (the version packageManager pins), else 12.4.2 is
# installed into .tools/ here; a global pnpm of another version is left alone.
# Chromium (browser tests): CHROMIUM_PATH if set, else Debian's /usr/bin/chromium, which this
# installs with apt-get as root or through sudo when sudo needs no password. Without one, setup
# goes on and the browser tests are skipped with a message saying how to point them at a Chromium
# (CHROMIUM_PATH=/path/to/chrome); under CI=true a missing Chromium is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs Debian packages (the arguments go to apt-get install) as root or through password-less
# sudo; where it cannot, or apt-get fails, it says so and setup goes on.
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo="none"; fi
  fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: cannot install $* here (needs apt-get and root or password-less sudo)" >&2
    return 0
  fi
  { $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >/dev/null; } ||
    echo "setup: apt-get install $* failed" >&2
}

export PATH="$PWD/.tools/node_modules/.bin:$PATH"
if [ "$(pnpm --version 2>/dev/null)" != "12.4.2" ]; then
  echo "setup: installing pnpm 12.4.2 into .tools/ (a global pnpm, if any, is not touched)" >&2
  npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error pnpm@12.4.2 >/dev/null
fi

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ "${1:-}" != "--no-browser" ] && [ ! -x "$chromium" ]; then
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    echo "setup: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
  else
    echo "setup: installing Debian's chromium for the browser tests" >&2
    apt_install chromium
  fi
  if [ ! -x "$chromium" ]; then
    found=$(command -v chromium chromium-browser google-chrome google-chrome-stable 2>/dev/null | head -n 1 || true)
    echo "setup: no Chromium at $chromium: the browser tests will be skipped." >&2
    if [ -n "$found" ] && [ "$found" != "$chromium" ]; then
      echo "setup: to run them with the one found on PATH: CHROMIUM_PATH=$found npm test" >&2
    else
      echo "setup: to run them, install chromium (sudo apt-get install chromium) or set CHROMIUM_PATH=/path/to/chrome" >&2
    fi
    [ -z "${CI:-}" ] || exit 1
  fi
fi

# redis-server (the @wsmp/cluster tests start their own): REDIS_SERVER_PATH if set, else one on
# PATH, else Debian's redis-server installed with apt-get as root or through password-less sudo.
# Without one the cluster tests are skipped with a line saying how to provide it; under CI=true a
# missing redis-server is an error.
if [ -z "${REDIS_SERVER_PATH:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: installing Debian's redis-server for the cluster tests" >&2
  apt_install --no-install-recommends redis-server
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "setup: no redis-server: the cluster tests will be skipped; install it (sudo apt-get install redis-server) or set REDIS_SERVER_PATH=/path/to/redis-server" >&2
    [ -z "${CI:-}" ] || exit 1
  fi
elif [ -n "${REDIS_SERVER_PATH:-}" ] && [ ! -x "$REDIS_SERVER_PATH" ]; then
  echo "setup: REDIS_SERVER_PATH=$REDIS_SERVER_PATH is not an executable file" >&2
  [ -z "${CI:-}" ] || exit 1
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm run --silent build
