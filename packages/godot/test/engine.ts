// Finding and running the real Godot 4 engine for the interop tests. The engine is looked for in
// GODOT4_BIN, else at <repo root>/../shared/godot/godot4 (where CI has it); without it the live
// tests skip with NO_GODOT as their message.

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const REPO_ROOT = resolve(here, '../../..')
/** The Godot project the test scripts run in. */
export const PROJECT_DIR = resolve(here, 'godot')
export const FIXTURES_DIR = resolve(here, 'fixtures')
export const GODOT_BIN = process.env['GODOT4_BIN'] || resolve(REPO_ROOT, '../shared/godot/godot4')
export const HAS_GODOT = existsSync(GODOT_BIN)
export const NO_GODOT = `no Godot 4 engine at ${GODOT_BIN}: set GODOT4_BIN to the engine's path to run the live interop tests`
/** Set to 1 to rewrite the committed fixtures from the engine instead of comparing with them. */
export const UPDATE_FIXTURES = process.env['UPDATE_GODOT_FIXTURES'] === '1'

export interface GodotRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `res://<script>` headless with `args`; kills it (our own child) after `timeoutMs`. */
export function runGodot(script: string, args: readonly string[], timeoutMs = 20_000): Promise<GodotRun> {
  return new Promise((done, failed) => {
    const child = spawn(GODOT_BIN, ['--headless', '--path', PROJECT_DIR, '-s', `res://${script}`, '--', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      failed(err)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      done({ code, stdout, stderr })
    })
  })
}

/** Writes `data` as JSON to a fresh file under the OS temp dir and returns its path. */
export function tempJson(name: string, data: unknown): string {
  const dir = resolve(process.env['TMPDIR'] ?? '/tmp', `wsmp-godot-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  const path = resolve(dir, name)
  writeFileSync(path, JSON.stringify(data))
  return path
}

/** The lines of `text` that start with `prefix`, without it. */
export function linesWith(text: string, prefix: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length).trimEnd())
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
export const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'))
