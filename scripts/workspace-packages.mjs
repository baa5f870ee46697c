// The publishable packages of the workspace (every non-private packages/*/package.json, so a new
// package is picked up without a list to edit) and `pnpm pack` of them.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../', import.meta.url))

/** pnpm 12.4.2: the one scripts/setup.sh put in .tools/ when the global one is another version. */
const localPnpm = join(root, '.tools', 'node_modules', '.bin', 'pnpm')
export const pnpm = existsSync(localPnpm) ? localPnpm : 'pnpm'

/** `{ dir, name, version, manifest }` of each publishable package under packages/, by folder name. */
export function publishablePackages() {
  const base = join(root, 'packages')
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(base, entry.name, 'package.json')))
    .map((entry) => {
      const dir = join(base, entry.name)
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      return { dir, name: manifest.name, version: manifest.version, manifest }
    })
    .filter((p) => !p.manifest.private)
    .sort((a, b) => a.dir.localeCompare(b.dir))
}

/**
 * Packs every publishable package into `dest` with `pnpm pack` (which writes workspace: ranges as
 * real versions and applies publishConfig), as a release would. Returns the packages with
 * `tarball` (absolute path) and `files` (the paths inside the tarball, without `package/`).
 */
export function packAll(dest) {
  return publishablePackages().map((p) => {
    const out = execFileSync(pnpm, ['pack', '--pack-destination', dest, '--json'], { cwd: p.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const report = JSON.parse(out)
    return { ...p, tarball: report.filename, files: report.files.map((f) => f.path) }
  })
}

/** `packages` ordered so that each comes after the workspace packages it depends on. */
export function dependencyOrder(packages) {
  const byName = new Map(packages.map((p) => [p.name, p]))
  const done = new Set()
  const order = []
  const visit = (p) => {
    if (done.has(p.name)) return
    done.add(p.name)
    for (const dep of Object.keys({ ...p.manifest.dependencies, ...p.manifest.peerDependencies })) if (byName.has(dep)) visit(byName.get(dep))
    order.push(p)
  }
  for (const p of packages) visit(p)
  return order
}
