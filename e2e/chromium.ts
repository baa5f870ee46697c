// Which Chromium the browser tests drive: CHROMIUM_PATH, else Debian's /usr/bin/chromium
// (`apt-get install chromium`; scripts/setup.sh installs it when it can). Playwright downloads no
// browser of its own here. Without one, the browser tests are skipped with `missingChromium`
// (and fail under CI=true, where a green run must not hide a missing browser).
import { accessSync, constants, statSync } from 'node:fs'

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Why the browser tests cannot run, or null when the Chromium is there. */
export const missingChromium = executable(chromiumPath)
  ? null
  : `No Chromium at ${chromiumPath}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH)' : ''}: the browser tests are skipped. ` +
    "Install Debian's chromium (sudo apt-get install chromium; scripts/setup.sh does it as root or with sudo), " +
    'or point the tests at a Chromium or Chrome you have: CHROMIUM_PATH=/path/to/chrome npm test'
