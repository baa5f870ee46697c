// pnpm run docs: the API reference in docs/api (TypeDoc, typedoc.json), one module per package
// (scripts/typedoc-packages.mjs names them). First each publishable package alone (no output), so
// TypeDoc's validation sees every package's API complete on its own (nothing it refers to left
// unexported or undocumented), then all together. The entry points are every packages/*/src/index.ts
// in dependency order: TypeDoc documents a re-exported symbol (client re-exports core) under the
// first entry point that exports it, which must be the package that defines it.
import { execFileSync } from 'node:child_process'
import { join, relative } from 'node:path'
import { dependencyOrder, publishablePackages, root } from './workspace-packages.mjs'

const typedoc = join(root, 'node_modules', '.bin', 'typedoc')
const run = (args) => execFileSync(typedoc, args, { cwd: root, stdio: 'inherit' })
const entries = dependencyOrder(publishablePackages()).map((pkg) => join(relative(root, pkg.dir), 'src', 'index.ts'))
try {
  for (const entry of entries) run(['--emit', 'none', '--entryPoints', entry])
  run(entries.flatMap((entry) => ['--entryPoints', entry]))
} catch (err) {
  process.exit(err.status ?? 1)
}
