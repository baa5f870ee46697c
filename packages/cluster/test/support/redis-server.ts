// A real redis-server for the cluster tests: Debian's package (scripts/setup.sh installs it), or
// the binary REDIS_SERVER_PATH names. Each one listens on 127.0.0.1 only, on a free port, without
// persistence, in a temporary directory, and is ended by its pid.
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/** The redis-server binary: REDIS_SERVER_PATH, else the first on PATH, else null. */
export function redisServerPath(): string | null {
  const candidates = process.env.REDIS_SERVER_PATH
    ? [process.env.REDIS_SERVER_PATH]
    : [...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'redis-server')), '/usr/bin/redis-server']
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // next
    }
  }
  return null
}

/** Why the cluster tests cannot run here, or null when they can. */
export const REDIS_MISSING: string | null = redisServerPath()
  ? null
  : process.env.REDIS_SERVER_PATH
    ? `REDIS_SERVER_PATH=${process.env.REDIS_SERVER_PATH} is not an executable file`
    : 'no redis-server on PATH: install Debian\u2019s redis-server (apt-get install redis-server; scripts/setup.sh does as root) or set REDIS_SERVER_PATH=/path/to/redis-server'

/** A port nothing listens on right now (bound on 127.0.0.1, then released). */
export async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()))
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** A running redis-server of a test. */
export interface RedisServer {
  port: number
  url: string
  /** Its working directory (removed by stopRedis). */
  dir: string
  /** The pid of the current process. */
  pid(): number
  /** Ends it (SIGTERM, then SIGKILL after 3 s) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port (empty: there is no persistence). */
  start(): Promise<void>
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) if (child.pid) child.kill('SIGKILL')
})

/** Starts a redis-server on 127.0.0.1 on a free port. */
export async function startRedis(): Promise<RedisServer> {
  const binary = redisServerPath()
  if (!binary) throw new Error(REDIS_MISSING ?? 'no redis-server')
  const dir = mkdtempSync(join(tmpdir(), 'wsmp-redis-'))
  let child: ChildProcess | null = null
  let port = 0
  const launch = async (): Promise<void> => {
    const proc = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no', '--loglevel', 'warning'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    running.add(proc)
    child = proc
    proc.on('exit', () => running.delete(proc))
    let output = ''
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    // Ready once it accepts a PING on its port.
    const deadline = Date.now() + 10_000
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}): ${output.trim()}`)
      if (await ping(port)) return
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}: ${output.trim()}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  for (let attempt = 0; ; attempt++) {
    port = await freePort()
    try {
      await launch()
      break
    } catch (err) {
      if (attempt >= 3) throw err
    }
  }
  const stop = async (): Promise<void> => {
    const proc = child as ChildProcess | null
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000)
    await gone
    clearTimeout(timer)
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => (child as ChildProcess | null)?.pid ?? 0,
    stop,
    start: launch,
    dir,
  }
}

/** Stops a test's redis-server and removes its directory. */
export async function stopRedis(redis: RedisServer | null): Promise<void> {
  if (!redis) return
  await redis.stop()
  rmSync(redis.dir, { recursive: true, force: true })
}

/** Whether a Redis on `port` answers PING (a raw RESP exchange, no client library). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const timer = setTimeout(() => done(false), 500)
    const done = (ok: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk: Buffer) => done(chunk.toString().startsWith('+PONG')))
  })
}
