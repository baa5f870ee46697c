// Edges and authorities in child processes (test/fixtures/*.mjs, which import the build), for the
// tests about a process dying. Each is ended by its pid after the test.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { waitFor } from './helpers.js'

/** An IPC message from a fixture. */
export type FixtureMessage = { type: string } & Record<string, unknown>

/** A fixture process. */
export interface Fixture {
  child: ChildProcess
  /** Every IPC message it sent, in order. */
  messages: FixtureMessage[]
  /** Its 'ready' message. */
  ready: FixtureMessage
  /** Waits for a message matching `match`. */
  waitMessage(match: (msg: FixtureMessage) => boolean, what: string, timeoutMs?: number): Promise<FixtureMessage>
  /** Sends it a command. */
  send(msg: Record<string, unknown>): void
  /** Kills it with `signal` and waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
}

const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Starts fixture `name` ('edge' or 'authority') with `options` (JSON) and waits for its 'ready'. */
export async function startFixture(name: 'edge' | 'authority', options: Record<string, unknown>): Promise<Fixture> {
  const file = fileURLToPath(new URL(`../fixtures/${name}.mjs`, import.meta.url))
  // Plain Node: not vitest's exec arguments (its resolve conditions would pick the TypeScript sources).
  const child = fork(file, [JSON.stringify(options)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.add(child)
  const messages: FixtureMessage[] = []
  child.on('message', (msg) => messages.push(msg as FixtureMessage))
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child)
      resolve()
    }),
  )
  const fixture: Fixture = {
    child,
    messages,
    ready: { type: 'ready' },
    async waitMessage(match, what, timeoutMs = 10_000) {
      await waitFor(() => messages.some(match) || child.exitCode !== null, what, timeoutMs)
      const found = messages.find(match)
      if (!found) throw new Error(`${name} exited (${child.exitCode}) before ${what}`)
      return found
    },
    send(msg) {
      if (child.connected) child.send(msg)
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    },
  }
  fixture.ready = await fixture.waitMessage((m) => m.type === 'ready', `the ${name} process to start`, 15_000)
  return fixture
}

/** Ends every fixture process still running (afterEach). */
export async function endFixtures(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGKILL')
        }),
    ),
  )
}
