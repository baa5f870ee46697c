// The API reference (`pnpm run docs`, TypeDoc) documents every public member: TypeDoc's
// notDocumented / notExported / invalidLink validation, with warnings as errors (typedoc.json),
// passes for each package's entry point.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const typedoc = join(root, 'node_modules/typedoc/bin/typedoc')

describe('the API reference', () => {
  for (const name of ['core', 'client', 'server']) {
    it(`documents every public member of @wsmp/${name}`, () => {
      let output: string
      try {
        output = execFileSync(process.execPath, [typedoc, '--emit', 'none', '--entryPoints', `packages/${name}/src/index.ts`], { cwd: root, encoding: 'utf8', stdio: 'pipe' })
      } catch (err) {
        const { stdout, stderr } = err as { stdout?: string; stderr?: string }
        throw new Error(`typedoc validation failed for @wsmp/${name}:\n${stdout ?? ''}${stderr ?? ''}`, { cause: err })
      }
      expect(output).not.toMatch(/warning|error/i)
    }, 60_000)
  }
})
