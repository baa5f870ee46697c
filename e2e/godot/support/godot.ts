// The driver of the real Godot 4 engine: spawns `project/peer.gd` (a scriptable multiplayer peer),
// reads the JSON line it prints per event, sends it commands on stdin, and ends it by its pid.
// Every process it starts is tracked and ended by `stopGodots()` (afterEach).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { dirname, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { it, type TestContext } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
/** The repository (or worktree) root. */
export const repoRoot = resolve(here, '../../..')
/** The Godot project holding peer.gd. */
export const projectDir = resolve(here, '../project')
/** The engine: `GODOT4_BIN`, else `<repo root>/../shared/godot/godot4`. */
export const godotBin = process.env['GODOT4_BIN'] || resolve(repoRoot, '../shared/godot/godot4')
/** Empty when the engine is there; else the reason every godot-live test is skipped. */
export const godotMissing = existsSync(godotBin)
  ? ''
  : `no Godot 4 engine at ${godotBin}: set GODOT4_BIN to a Godot 4 binary (with the websocket and multiplayer modules) to run the godot-live suite`

/** The multiplayer signals the tests record, Godot's and wsmp's alike. */
export const SIGNALS = [
  'peer_connected',
  'peer_disconnected',
  'connected_to_server',
  'connection_failed',
  'server_disconnected',
  'peer_authenticating',
  'peer_authentication_failed',
] as const

/** Generous default for waiting on the engine (two shared cores, ~0.3 s start-up per process). */
export const WAIT_MS = 15_000

/** A test that needs the engine: skipped, with the reason, where it is absent. */
export function godotIt(name: string, fn: (ctx: TestContext) => Promise<void>, timeoutMs = 60_000): void {
  it(
    name,
    async (ctx) => {
      if (godotMissing) ctx.skip(godotMissing)
      await fn(ctx)
    },
    timeoutMs,
  )
}

/** One JSON line printed by peer.gd. */
export interface GodotEvent {
  ev: string
  /** The engine's `Time.get_ticks_msec()` when it printed the line. */
  t: number
  id?: number
  from?: number
  hex?: string
  err?: number
  code?: number
  reason?: string
  seq?: number
  [key: string]: unknown
}

export type GodotOptions = Record<string, string | number | boolean | undefined>

interface Waiter {
  match: (event: GodotEvent) => boolean
  resolve: (event: GodotEvent) => void
}

const live = new Set<GodotPeer>()

/** A Godot 4 process running peer.gd. */
export class GodotPeer {
  /** Every event, in the order printed. */
  readonly events: GodotEvent[] = []
  /** The engine's stderr lines (errors it printed), for diagnostics. */
  readonly stderr: string[] = []
  /** Resolves with the exit code (or the signal's name) once the process ended. */
  readonly exited: Promise<number | string>
  exitCode: number | string | null = null
  /** The port a server listens on (0 for a client). */
  port = 0
  /** This peer's id: 1 for a server; a client's once `connected()` saw it connect (else 0). */
  id = 0
  private readonly proc: ChildProcessWithoutNullStreams
  private waiters = new Set<Waiter>()
  private seq = 0

  private constructor(
    readonly name: string,
    args: string[],
    engineArgs: string[] = ['--headless', '--path', projectDir, '-s', 'res://peer.gd'],
  ) {
    this.proc = spawn(godotBin, [...engineArgs, '--', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env },
    })
    live.add(this)
    this.exited = new Promise((resolveExit) => {
      this.proc.once('exit', (code, signal) => {
        this.exitCode = code ?? signal ?? -1
        live.delete(this)
        resolveExit(this.exitCode)
        for (const waiter of this.waiters) waiter.resolve({ ev: '__exit__', t: 0, code: typeof this.exitCode === 'number' ? this.exitCode : -1 })
      })
      this.proc.once('error', (err) => {
        this.stderr.push(`spawn error: ${err.message}`)
      })
    })
    this.proc.stdin.on('error', () => {
      // The process is gone; commands to it fail through their wait.
    })
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return
      let event: GodotEvent
      try {
        event = JSON.parse(line) as GodotEvent
      } catch {
        return
      }
      this.events.push(event)
      for (const waiter of [...this.waiters]) {
        if (waiter.match(event)) {
          this.waiters.delete(waiter)
          waiter.resolve(event)
        }
      }
    })
    createInterface({ input: this.proc.stderr }).on('line', (line) => {
      if (this.stderr.length < 400) this.stderr.push(line)
    })
  }

  /** The process id (ended by that id only). */
  get pid(): number | undefined {
    return this.proc.pid
  }

  /**
   * Starts a Godot server on a free port of 127.0.0.1 (retrying on another port if it was taken
   * in between) and waits until it is listening.
   */
  static async server(name: string, options: GodotOptions = {}): Promise<GodotPeer> {
    let last = ''
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort()
      const peer = new GodotPeer(name, toArgs({ mode: 'server', port, ...options }))
      const ready = await peer.waitFor((e) => e.ev === 'ready', `${name} to start`)
      if (ready.err === 0) {
        peer.port = port
        peer.id = 1
        return peer
      }
      last = JSON.stringify(ready)
      await peer.stop()
    }
    throw new Error(`${name}: the Godot server did not start: ${last}`)
  }

  /** Starts a Godot client towards `url` (create_client has returned OK when this resolves). */
  static async client(name: string, url: string, options: GodotOptions = {}): Promise<GodotPeer> {
    const peer = new GodotPeer(name, toArgs({ mode: 'client', url, ...options }))
    const ready = await peer.waitFor((e) => e.ev === 'ready', `${name} to start`)
    if (ready.err !== 0) throw new Error(`${name}: create_client failed: ${JSON.stringify(ready)}`)
    return peer
  }

  /** A Godot client that is connected (connected_to_server seen), with its `id` set. */
  static async connected(name: string, url: string, options: GodotOptions = {}): Promise<GodotPeer> {
    const godot = await GodotPeer.client(name, url, options)
    const event = await godot.waitFor((e) => e.ev === 'connected_to_server', `${name} to connect`)
    godot.id = event.id as number
    return godot
  }

  /**
   * Runs another Godot project's main scene headless (`--path dir`), with `args` after `--`; its
   * JSON lines are events as peer.gd's are. It takes no commands (stdin closing does not end it:
   * `stop()` kills it by pid after its grace time).
   */
  static project(name: string, dir: string, args: string[]): GodotPeer {
    return new GodotPeer(name, args, ['--headless', '--path', dir])
  }

  /** The ws:// (or wss://) URL of this server. */
  url(scheme = 'ws'): string {
    return `${scheme}://127.0.0.1:${this.port}`
  }

  /**
   * Resolves with the first event (past or future) that matches; rejects after `timeoutMs` (or
   * when the process ends) with the events seen so far.
   */
  waitFor(match: (event: GodotEvent) => boolean, what: string, timeoutMs = WAIT_MS): Promise<GodotEvent> {
    const seen = this.events.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolveWait, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (event) => {
          clearTimeout(timer)
          if (event.ev === '__exit__') reject(new Error(`${this.name} exited (${String(this.exitCode)}) while waiting for ${what}\n${this.describe()}`))
          else resolveWait(event)
        },
      }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.describe()}`))
      }, timeoutMs)
      if (this.exitCode !== null) {
        waiter.resolve({ ev: '__exit__', t: 0 })
        return
      }
      this.waiters.add(waiter)
    })
  }

  /** Waits for an event named `ev` whose fields include `fields`. */
  waitEvent(ev: string, fields: Partial<GodotEvent> = {}, timeoutMs = WAIT_MS): Promise<GodotEvent> {
    return this.waitFor((e) => e.ev === ev && Object.entries(fields).every(([k, v]) => e[k] === v), `${ev} ${JSON.stringify(fields)}`, timeoutMs)
  }

  /** Waits for `peer_packet` from `from` carrying `hex`. */
  waitPacket(from: number, hex: string, timeoutMs = WAIT_MS): Promise<GodotEvent> {
    return this.waitEvent('peer_packet', { from, hex }, timeoutMs)
  }

  /** The events named `ev` seen so far. */
  all(ev: string): GodotEvent[] {
    return this.events.filter((e) => e.ev === ev)
  }

  /** The multiplayer signals seen so far, with their ids ('peer_connected 1', 'connected_to_server', …). */
  signals(): string[] {
    const names = new Set<string>(SIGNALS)
    return this.events.filter((e) => names.has(e.ev)).map((e) => (e.id === undefined || e.ev === 'connected_to_server' ? e.ev : `${e.ev} ${e.id}`))
  }

  /** Sends a command to peer.gd and resolves with its result line. */
  async command(cmd: Record<string, unknown>, timeoutMs = WAIT_MS): Promise<GodotEvent> {
    const seq = ++this.seq
    const result = this.waitFor((e) => e.ev === 'result' && e.seq === seq, `the result of ${JSON.stringify(cmd)}`, timeoutMs)
    this.proc.stdin.write(`${JSON.stringify({ ...cmd, seq })}\n`)
    return result
  }

  /** `multiplayer.send_bytes(bytes, to, mode, channel)`; resolves with its Error. */
  async send(to: number, hex: string, mode = 2, channel = 0): Promise<number> {
    return (await this.command({ cmd: 'send', to, hex, mode, channel })).err as number
  }

  /** A raw transport packet (no SceneMultiplayer byte added): `set_target_peer(to)` + `put_packet`. */
  async put(to: number, hex: string): Promise<number> {
    return (await this.command({ cmd: 'put', to, hex })).err as number
  }

  /** The engine's status: connection status, unique id, SceneMultiplayer's peers. */
  async status(): Promise<{ status: number; id: number; peers: number[] }> {
    const result = await this.command({ cmd: 'status' })
    return { status: result['status'] as number, id: result.id as number, peers: (result['peers'] as number[]).slice().sort((a, b) => a - b) }
  }

  /** Asks the engine to quit and waits for the exit (killed by pid if it does not). */
  async quit(): Promise<void> {
    if (this.exitCode !== null) return
    this.proc.stdin.write(`${JSON.stringify({ cmd: 'quit' })}\n`)
    await this.stop(5_000)
  }

  /** Ends the process: stdin closed (peer.gd quits on EOF), then SIGKILL by pid after `graceMs`. */
  async stop(graceMs = 1_000): Promise<void> {
    if (this.exitCode !== null) return
    this.proc.stdin.end()
    const timer = setTimeout(() => {
      if (this.exitCode === null) this.proc.kill('SIGKILL')
    }, graceMs)
    await this.exited
    clearTimeout(timer)
  }

  /** Kills the process at once, by its pid. */
  async kill(): Promise<void> {
    if (this.exitCode !== null) return
    this.proc.kill('SIGKILL')
    await this.exited
  }

  /** The last events and stderr lines, for error messages. */
  describe(): string {
    const events = this.events.slice(-25).map((e) => `  ${JSON.stringify(e.hex && e.hex.length > 80 ? { ...e, hex: `${e.hex.slice(0, 80)}… (${e.hex.length / 2} bytes)` } : e)}`)
    const errors = this.stderr
      .filter((l) => !l.includes('global script cache') && !l.includes('get_global_class_list'))
      .slice(-12)
      .map((l) => `  ! ${l}`)
    return [`${this.name} events:`, ...events, ...(errors.length ? [`${this.name} stderr:`, ...errors] : [])].join('\n')
  }
}

/** Ends every engine process the driver started (afterEach). */
export async function stopGodots(): Promise<void> {
  await Promise.all([...live].map((peer) => peer.stop()))
}

function toArgs(options: GodotOptions): string[] {
  const args: string[] = []
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === false) continue
    args.push(`${key}=${value === true ? '1' : String(value)}`)
  }
  return args
}

/** A port free on 127.0.0.1 right now (bound, then released for the engine to take). */
export async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolveListen) => probe.listen(0, '127.0.0.1', () => resolveListen()))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolveClose) => probe.close(() => resolveClose()))
  return port
}

/** Hex of bytes (lower case, no separators: Godot's `hex_encode`). */
export function toHex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex')
}

/** Bytes of hex text. */
export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/** Hex of a UTF-8 string. */
export function textHex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex')
}

/** int32 little-endian hex of a number. */
export function int32Hex(value: number): string {
  const out = Buffer.alloc(4)
  out.writeInt32LE(value)
  return out.toString('hex')
}

/** Hex of `length` pattern bytes (for packets over a size limit). */
export function bigHex(length: number): string {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff)).toString('hex')
}

/** Waits until `check()` returns a value other than undefined/false; rejects after `timeoutMs`. */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = WAIT_MS): Promise<Exclude<T, false | undefined | null>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false && value !== null) return value as Exclude<T, false | undefined | null>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
