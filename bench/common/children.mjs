// The bench's child processes (servers, load generators), shared by run.mjs, cluster.mjs and the
// probes: each runs a file of bench/ with an IPC channel, says `{ type: 'ready', … }` once it
// listens, and answers `{ id, cmd, … }` commands with `{ id, … }` (or `{ id, error }`). Every
// child is ended by its pid; Ctrl-C ends them all.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const benchDir = fileURLToPath(new URL('..', import.meta.url))
const children = new Set()
let nextCall = 1

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Starts `bench/<file>` and resolves with `{ child, ...its ready message }`. `execPath` runs it
 * through another program (e.g. taskset, valgrind) that is handed `execArgv` and inherits the IPC
 * channel; `startMs` bounds the wait for it to be ready.
 */
export function spawnChild(file, argv = [], { execArgv = [], execPath, startMs = 30_000 } = {}) {
  const child = fork(benchDir + file, argv, { execArgv, ...(execPath ? { execPath } : {}), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.add(child)
  child.pending = new Map()
  child.on('message', (msg) => {
    if (msg.type === 'ready') return child.onReady?.(msg)
    const waiter = child.pending.get(msg.id)
    if (!waiter) return
    child.pending.delete(msg.id)
    if (msg.error) waiter.reject(new Error(`${file}: ${msg.error}`))
    else waiter.resolve(msg)
  })
  child.on('exit', (code) => {
    children.delete(child)
    for (const waiter of child.pending.values()) waiter.reject(new Error(`${file} exited (${code})`))
    child.pending.clear()
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start`)), startMs)
    child.onReady = (msg) => {
      clearTimeout(timer)
      resolve({ child, ...msg })
    }
    child.once('exit', (code) => reject(new Error(`${file} exited early (${code})`)))
  })
}

/** Counts a child started otherwise (no IPC commands) among those Ctrl-C and endAll() end. */
export function track(child) {
  children.add(child)
  child.on('exit', () => children.delete(child))
  return child
}

/** Sends `cmd` to a child and resolves with its answer (rejects on its error, its exit or the timeout). */
export function call(child, cmd, body = {}, timeoutMs = 120_000) {
  const id = nextCall++
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.pending.delete(id)
      reject(new Error(`${cmd} timed out`))
    }, timeoutMs)
    child.pending.set(id, {
      resolve: (msg) => (clearTimeout(timer), resolve(msg)),
      reject: (err) => (clearTimeout(timer), reject(err)),
    })
    child.send({ id, cmd, ...body })
  })
}

/** Ends a child by its pid (after `graceMs` for it to exit by itself; SIGKILL after 3 s) and waits for it to go. */
export async function end(child, graceMs = 0) {
  if (!children.has(child)) return
  const gone = new Promise((resolve) => child.once('exit', resolve))
  if (graceMs > 0) await Promise.race([gone, sleep(graceMs)])
  if (!children.has(child)) return
  const signal = (name) => {
    try {
      process.kill(child.pid, name)
    } catch {
      // already gone
    }
  }
  signal('SIGTERM')
  const timer = setTimeout(() => signal('SIGKILL'), 3000)
  await gone
  clearTimeout(timer)
}

/** Ends every child still running. */
export const endAll = () => Promise.all([...children].map((child) => end(child)))

/** Ctrl-C: every child is killed (and `alsoKill()` run) before the process exits. */
export function killOnInterrupt(alsoKill = () => {}) {
  process.on('SIGINT', () => {
    for (const child of children) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    alsoKill()
    process.exit(130)
  })
}
