// The API reference documents every public member of @wsmp/cluster (TypeDoc's validation, as
// packages/server/test/api-docs.test.ts checks the other packages).
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const typedoc = join(root, 'node_modules/typedoc/bin/typedoc')

describe('the API reference', () => {
  it('documents every public member of @wsmp/cluster', () => {
    let output: string
    try {
      output = execFileSync(process.execPath, [typedoc, '--emit', 'none', '--entryPoints', 'packages/cluster/src/index.ts'], { cwd: root, encoding: 'utf8', stdio: 'pipe' })
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string }
      throw new Error(`typedoc validation failed for @wsmp/cluster:\n${stdout ?? ''}${stderr ?? ''}`, { cause: err })
    }
    expect(output).not.toMatch(/warning|error/i)
  }, 60_000)
})
