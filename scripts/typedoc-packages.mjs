// TypeDoc plugin (typedoc.json "plugin"): each entry point's module is named after its package
// ("@wsmp/core" rather than "core/src") and shows that package's README.md, so the API reference
// is grouped by package, and a new packages/<name>/src/index.ts joins with its own name.
import { dirname, join } from 'node:path'
import { existsSync, readFileSync } from 'node:fs'
import { Converter, ReflectionKind } from 'typedoc'

/** The nearest package.json above `file`, with its folder. */
function packageOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }
  }
  return null
}

export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName
    const pkg = file ? packageOf(file) : null
    if (!pkg?.manifest.name) return
    reflection.name = pkg.manifest.name
    const readme = join(pkg.dir, 'README.md')
    if (existsSync(readme)) reflection.readme = [{ kind: 'text', text: readFileSync(readme, 'utf8') }]
  })
}
