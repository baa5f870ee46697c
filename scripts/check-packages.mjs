// Packs every publishable package (packages/*) as a release would and checks each tarball:
//   publint   `publint --strict` on the tarball (package.json fields, exports, files);
//   attw      `@arethetypeswrong/cli` (types resolve for ESM and CJS under node10, node16 and
//             bundler, no "Masquerading as ESM"); subpaths that map to a script-tag bundle
//             (`*.min.js`, e.g. @wsmp/client/wsmp.min.js) are assets, not modules, and are left out,
//             as is @wsmp/client/node (internal: @wsmp/server's socket driver, node16+ only);
//   manifest  what neither checks: LICENSE (the root's text) and README.md in the tarball, no
//             `workspace:` range and no `source` condition left, engines.node, repository.directory,
//             publishConfig.access public, every file the exports map names present.
// One test per package per check. Prints a line each; with --report FILE also writes
// {"passed","failed","skipped"} (scripts/test-all.sh reads test-results/packages.json).
// Needs the build (pnpm run build). Usage: node scripts/check-packages.mjs [--report FILE]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { packAll, root } from './workspace-packages.mjs'

const reportAt = process.argv.indexOf('--report')
const reportFile = reportAt > 0 ? process.argv[reportAt + 1] : null
const bin = (name) => join(root, 'node_modules', '.bin', name)
const results = []

function record(pkg, check, problems) {
  results.push({ pkg, check, ok: problems.length === 0 })
  console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${check.padEnd(8)} ${pkg}`)
  for (const line of problems) console.log(`       ${line.replace(/\n/g, '\n       ')}`)
}

/** Runs a checker; its problems are its output when it exits non-zero. */
function run(command, args) {
  try {
    execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
    return []
  } catch (err) {
    return [`${relative(root, command)} ${args.join(' ')} exited ${err.status}:`, `${err.stdout ?? ''}${err.stderr ?? ''}`.trim()]
  }
}

/** Every file an exports map (or main/module/types) names, and the subpaths that are script-tag bundles. */
function exportTargets(manifest) {
  const files = new Set([manifest.main, manifest.module, manifest.types].filter(Boolean))
  const assets = []
  const walk = (value, subpath) => {
    if (typeof value === 'string') {
      files.add(value)
      if (value.endsWith('.min.js') && subpath) assets.push(subpath)
    } else if (value && typeof value === 'object') for (const v of Object.values(value)) walk(v, subpath)
  }
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) walk(target, subpath)
  return { files: [...files].map((f) => f.replace(/^\.\//, '')), assets }
}

function checkManifest(pkg, packed) {
  const problems = []
  const licence = readFileSync(join(root, 'LICENSE'), 'utf8')
  const inTar = (path) => execFileSync('tar', ['-xOzf', pkg.tarball, `package/${path}`], { encoding: 'utf8' })
  if (!pkg.files.includes('LICENSE')) problems.push('no LICENSE in the tarball')
  else if (inTar('LICENSE') !== licence) problems.push("LICENSE differs from the root's")
  if (!pkg.files.includes('README.md')) problems.push('no README.md in the tarball')
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(packed[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${dep} is still "${range}"`)
    }
  }
  if (JSON.stringify(packed.exports ?? {}).includes('"source"')) problems.push('the exports map still has the workspace-only "source" condition')
  if (!packed.engines?.node) problems.push('no engines.node')
  if (packed.repository?.directory !== relative(root, pkg.dir)) problems.push(`repository.directory is not "${relative(root, pkg.dir)}"`)
  if (packed.publishConfig?.access !== 'public') problems.push('publishConfig.access is not "public"')
  if (packed.license !== 'MIT') problems.push('license is not MIT')
  for (const file of exportTargets(packed).files) if (!pkg.files.includes(file)) problems.push(`${file} (named by package.json) is not in the tarball`)
  return problems
}

const dest = mkdtempSync(join(tmpdir(), 'wsmp-packs-'))
try {
  for (const pkg of packAll(dest)) {
    const packed = JSON.parse(execFileSync('tar', ['-xOzf', pkg.tarball, 'package/package.json'], { encoding: 'utf8' }))
    record(pkg.name, 'publint', run(bin('publint'), ['run', pkg.tarball, '--strict']))
    const { assets } = exportTargets(packed)
    // @wsmp/client/node is @wsmp/server's building block (the ws socket driver), not an entry point
    // for applications; it resolves under node16, nodenext and bundler, not under node10.
    const internal = pkg.name === '@wsmp/client' ? ['./node'] : []
    const exclude = assets.length + internal.length > 0 ? ['--exclude-entrypoints', ...assets, ...internal] : []
    record(pkg.name, 'attw', run(bin('attw'), [pkg.tarball, '--profile', 'strict', '--format', 'ascii', '--no-emoji', '--no-color', ...exclude]))
    record(pkg.name, 'manifest', checkManifest(pkg, packed))
  }
} finally {
  rmSync(dest, { recursive: true, force: true })
}

const passed = results.filter((r) => r.ok).length
const failed = results.length - passed
console.log(`check-packages: ${passed} passed, ${failed} failed`)
if (reportFile) writeFileSync(reportFile, JSON.stringify({ passed, failed, skipped: 0 }) + '\n')
process.exit(failed > 0 || results.length === 0 ? 1 : 0)
