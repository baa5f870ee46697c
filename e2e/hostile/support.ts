// Support of the hostile suite: the server under attack in a child process (server-child.mjs),
// extra attacker processes (storm-child.mjs), figures, and raw TCP clients beyond the ones of
// packages/server/test/hostile-helpers.ts (imported from there: clientFrame, RawTcp, until, …).
import { fork, type ChildProcess } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as net from 'node:net'
import * as os from 'node:os'
import { fileURLToPath } from 'node:url'
import { ConnectionStatus, ErrorCode, WebSocketMultiplayerPeer } from '@wsmp/server'
import { until } from '../../packages/server/test/hostile-helpers.js'

export { clientFrame, upgradeRequest, until, RawTcp, RawWs } from '../../packages/server/test/hostile-helpers.js'

/** Prints one figure line of a scenario: `hostile: <scenario>: <text>`. */
export function figure(scenario: string, text: string): void {
  console.log(`hostile: ${scenario}: ${text}`)
}

export const MiB = 1024 * 1024
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`
export const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`

/** The figures the server child reports (see server-child.mjs). */
export interface ServerStats {
  type: 'stats'
  t: number
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
  peers: number
  available: number
  maxAvailable: number
  received: number
  orderErrors: number
  logLines: number
  lagMs: number
  reply?: number
  /** Packets and bytes the game read per sender (when asked for). */
  perPeer?: Record<string, { packets: number; bytes: number }>
  /** The server's getPeerStats(id) of the connections asked for (null once gone). */
  peerStats?: Record<string, { packetsIn: number; bytesIn: number; packetsOut: number; bytesOut: number } | null>
}

/** What the server child is started with (see server-child.mjs). */
export interface ServerConfig {
  mode?: 'server' | 'attach'
  path?: string
  options?: Record<string, unknown>
  hook?: null | 'sync' | 'async'
  read?: boolean
  pollMs?: number
  statsMs?: number
  events?: boolean
  seq?: boolean
}

type ChildMessage = { type: string } & Record<string, unknown>

/** Every child process this suite started, ended by its pid in {@link endChildren}. */
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL')
})

/** A process this suite started: its IPC messages and what it printed. */
export class Child {
  readonly messages: ChildMessage[] = []
  /** Lines it wrote to stderr and stdout. */
  readonly lines: string[] = []
  private readonly exited: Promise<void>
  private partial = ''

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    children.add(child)
    child.on('message', (msg) => this.messages.push(msg as ChildMessage))
    const collect = (chunk: Buffer): void => {
      const text = this.partial + chunk.toString('utf8')
      const parts = text.split('\n')
      this.partial = parts.pop() ?? ''
      this.lines.push(...parts)
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  get pid(): number {
    return this.child.pid as number
  }

  /** Whether the process is still running. */
  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  send(msg: Record<string, unknown>): void {
    if (this.child.connected) this.child.send(msg)
  }

  /** Waits for a message matching `match` (one that arrived already counts). */
  async message<T = ChildMessage>(match: (msg: ChildMessage) => boolean, what: string, timeoutMs = 15_000, from = 0): Promise<T> {
    let found: ChildMessage | undefined
    await until(
      () => {
        for (let i = from; i < this.messages.length && !found; i++) if (match(this.messages[i] as ChildMessage)) found = this.messages[i]
        return found !== undefined || !this.alive()
      },
      `${this.name}: ${what}`,
      timeoutMs,
    )
    if (!found)
      throw new Error(`${this.name} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}) before ${what}; it printed:\n${this.lines.slice(-20).join('\n')}`)
    return found as T
  }

  /** Ends the process by its pid (SIGKILL) and waits for its exit. */
  async kill(): Promise<void> {
    if (this.alive()) process.kill(this.pid, 'SIGKILL')
    await this.exited
    children.delete(this.child)
  }
}

let replies = 0

/** The server under attack, in its own process. */
export class ServerChild extends Child {
  port = 0

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  /** Its figures now (after two full collections with `gc`). */
  async stats(gc = false, resetLag = false, perPeer = false, peerStats: number[] = []): Promise<ServerStats> {
    const reply = ++replies
    const from = this.messages.length
    this.send({ cmd: 'stats', gc, reply, resetLag, perPeer, peerStats })
    return this.message<ServerStats>((m) => m.type === 'stats' && m.reply === reply, 'its figures', 15_000, from)
  }

  /** The latest periodic figures. */
  latest(): ServerStats | null {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i]?.type === 'stats') return this.messages[i] as unknown as ServerStats
    return null
  }

  /** Every periodic figure so far (from message index `from`). */
  allStats(from = 0): ServerStats[] {
    return this.messages.slice(from).filter((m) => m.type === 'stats') as unknown as ServerStats[]
  }
}

/** Starts the server under attack (server-child.mjs) with `config` and waits until it listens. */
export async function startServer(config: ServerConfig = {}): Promise<ServerChild> {
  const file = fileURLToPath(new URL('./server-child.mjs', import.meta.url))
  // Plain Node with gc exposed; not vitest's exec arguments (its conditions would pick the TypeScript sources).
  const child = fork(file, [JSON.stringify(config)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const server = new ServerChild('server child', child)
  const ready = await server.message<{ port: number }>((m) => m.type === 'ready', 'listening')
  server.port = ready.port
  return server
}

/**
 * Starts an attacker process (storm-child.mjs) with `config`; resolves once it has started. With
 * `nice`, at that scheduling priority (19 = lowest): an attacker runs on machines of its own, and
 * here it shares the server's two cores, so it yields them to the server and the honest clients
 * when they have work (it still gets every cycle they leave).
 */
export async function startStorm(config: Record<string, unknown>, nice = 0): Promise<Child> {
  const file = fileURLToPath(new URL('./storm-child.mjs', import.meta.url))
  const child = fork(file, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  if (nice !== 0) os.setPriority(child.pid as number, nice)
  const storm = new Child('storm child', child)
  await storm.message((m) => m.type === 'started', 'starting')
  return storm
}

/** Ends every child process this suite started and that still runs (afterEach / afterAll). */
export async function endChildren(): Promise<void> {
  const running = [...children]
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          children.delete(child)
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          process.kill(child.pid as number, 'SIGKILL')
        }),
    ),
  )
}

/** Sockets and servers of the test process, closed in {@link closeSockets}. */
const sockets = new Set<{ destroy(): void } | { close(): void }>()

/** Registers a socket (or server) to close after the test. */
export function track<T extends { destroy(): void } | { close(): void }>(thing: T): T {
  sockets.add(thing)
  return thing
}

/** Closes every socket and server registered with {@link track}. */
export function closeSockets(): void {
  for (const s of sockets) {
    try {
      if ('destroy' in s) s.destroy()
      else s.close()
    } catch {
      // best effort
    }
  }
  sockets.clear()
}

/** An upgrade request with a fixed key (`dGhlIHNhbXBsZSBub25jZQ==`) and extra header lines. */
export function upgradeHead(target: string, extra = '', host = '127.0.0.1'): string {
  return (
    `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  )
}

/** A masked client frame's payload bytes: `[0x03][payload]` (a scene packet to the server). */
export function scenePacket(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1)
  out[0] = 0x03
  out.set(payload, 1)
  return out
}

/** `[0x07][0x03][int32 LE target][0x03][payload]`: a relay of a packet to `target`. */
export function relayPacket(target: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 7)
  out[0] = 0x07
  out[1] = 0x03
  new DataView(out.buffer).setInt32(2, target, true)
  out[6] = 0x03
  out.set(payload, 7)
  return out
}

/** A payload of `size` bytes starting with `seq` as uint32 LE. */
export function seqPayload(seq: number, size: number): Uint8Array {
  const out = new Uint8Array(Math.max(size, 4)).fill(0x5a)
  new DataView(out.buffer).setUint32(0, seq, true)
  return out
}

/** How a raw request ended: the status line ('' when none came), whether the server closed, and when. */
export interface RawAnswer {
  status: string
  closed: boolean
  ms: number
}

/**
 * Sends one request head (or its parts, `gapMs` apart) over raw TCP; resolves with the status line
 * once the server answers, or when it closes the connection, or after `timeoutMs` (status '' and
 * closed false: the server neither answered nor closed). With `end` the client half-closes after
 * writing, as a client that sends an incomplete head and gives up would.
 */
export function rawRequest(port: number, head: string | Buffer | (string | Buffer)[], options: { timeoutMs?: number; end?: boolean; gapMs?: number } = {}): Promise<RawAnswer> {
  const { timeoutMs = 10_000, end = false, gapMs = 0 } = options
  return new Promise((resolve) => {
    const started = performance.now()
    const socket = track(net.connect(port, '127.0.0.1'))
    let response = ''
    let settled = false
    const done = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ status: response.split('\r\n')[0] ?? '', closed, ms: performance.now() - started })
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.on('data', (chunk) => {
      response += chunk.toString('latin1')
      if (response.includes('\r\n')) done(false)
    })
    socket.on('error', () => done(true))
    socket.on('close', () => done(true))
    socket.on('connect', async () => {
      const parts = Array.isArray(head) ? head : [head]
      for (let i = 0; i < parts.length && !settled; i++) {
        if (i > 0 && gapMs > 0) await new Promise((r) => setTimeout(r, gapMs))
        if (!socket.destroyed) socket.write(parts[i] as string | Buffer)
      }
      if (end && !socket.destroyed) socket.end()
    })
  })
}

/**
 * A raw TCP WebSocket client that reads at a metered pace: it stops reading its socket (pause)
 * whenever it has read more than `bytesPerSecond` × the time since it started metering, and
 * resumes when the budget allows, so the server sees a receiver draining at that rate (TCP
 * backpressure through the kernel buffers). It parses the server's unmasked frames.
 */
export class MeteredReader {
  readonly socket: net.Socket
  id = 0
  readonly messages: Buffer[] = []
  closeCode = 0
  ended = false
  bytesRead = 0
  private buffer = Buffer.alloc(0)
  private response = ''
  private meterStart = 0
  private resumeTimer: ReturnType<typeof setTimeout> | null = null

  constructor(
    port: number,
    private bytesPerSecond: number,
  ) {
    this.socket = track(net.connect(port, '127.0.0.1'))
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.socket.on('close', () => {
      this.ended = true
      if (this.resumeTimer) clearTimeout(this.resumeTimer)
    })
    this.socket.on('error', () => {})
    this.socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
  }

  /** Starts metering now at `bytesPerSecond` (0: stop reading altogether). */
  meter(bytesPerSecond: number): void {
    this.bytesPerSecond = bytesPerSecond
    this.meterStart = performance.now()
    this.bytesRead = 0
    this.check()
  }

  /** Reads at full speed again. */
  unmeter(): void {
    this.bytesPerSecond = Infinity
    if (this.resumeTimer) clearTimeout(this.resumeTimer)
    this.resumeTimer = null
    this.socket.resume()
  }

  async opened(): Promise<void> {
    await until(() => this.id !== 0 || this.ended, 'the metered reader to get its id')
    if (this.id === 0) throw new Error(`metered reader closed before its id: ${this.response}`)
  }

  send(payload: Uint8Array): void {
    this.socket.write(maskedFrame(payload))
  }

  private check(): void {
    if (this.bytesPerSecond === Infinity || this.ended) return
    const allowed = (this.bytesPerSecond * (performance.now() - this.meterStart)) / 1000
    if (this.bytesRead <= allowed) {
      this.socket.resume()
      return
    }
    this.socket.pause()
    if (this.bytesPerSecond === 0 || this.resumeTimer) return
    const wait = ((this.bytesRead - allowed) / this.bytesPerSecond) * 1000
    this.resumeTimer = setTimeout(
      () => {
        this.resumeTimer = null
        this.check()
      },
      Math.max(1, Math.ceil(wait)),
    )
  }

  private onData(chunk: Buffer): void {
    this.bytesRead += chunk.length
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    if (!this.response) {
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      this.response = this.buffer.subarray(0, end).toString('latin1')
      this.buffer = this.buffer.subarray(end + 4)
    }
    let at = 0
    for (;;) {
      const buf = this.buffer
      if (buf.length - at < 2) break
      let length = (buf[at + 1] as number) & 0x7f
      let header = 2
      if (length === 126) {
        if (buf.length - at < 4) break
        length = buf.readUInt16BE(at + 2)
        header = 4
      } else if (length === 127) {
        if (buf.length - at < 10) break
        length = Number(buf.readBigUInt64BE(at + 2))
        header = 10
      }
      if (buf.length - at < header + length) break
      const opcode = (buf[at] as number) & 0x0f
      const payload = buf.subarray(at + header, at + header + length)
      at += header + length
      if (opcode === 8) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
      else if (opcode === 2 && this.id === 0 && payload.length === 4) this.id = payload.readInt32LE(0)
      else if (opcode === 2) this.messages.push(Buffer.from(payload))
    }
    this.buffer = this.buffer.subarray(at)
    this.check()
  }
}

/** A masked, final, binary client frame carrying `payload`. */
export function maskedFrame(payload: Uint8Array, opcode = 2, fin = true): Buffer {
  const length = payload.length
  const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10
  const out = Buffer.allocUnsafe(header + 4 + length)
  out[0] = (fin ? 0x80 : 0) | opcode
  if (header === 2) out[1] = 0x80 | length
  else if (header === 4) {
    out[1] = 0x80 | 126
    out.writeUInt16BE(length, 2)
  } else {
    out[1] = 0x80 | 127
    out.writeBigUInt64BE(BigInt(length), 2)
  }
  // A zero mask: legal (RFC 6455 asks for an unpredictable one from browsers), and the payload stays as it is.
  out.writeUInt32BE(0, header)
  out.set(payload, header + 4)
  return out
}

/** An honest wsmp client (the library's own, from its sources) and how long it waited for its id. */
export async function honestClient(url: string, timeoutMs = 15_000): Promise<{ client: WebSocketMultiplayerPeer; ms: number }> {
  const client = new WebSocketMultiplayerPeer({ logger: null })
  honest.add(client)
  const started = performance.now()
  if (client.createClient(url) !== ErrorCode.OK) throw new Error(`createClient failed: ${client.getLastError()}`)
  let ms = 0
  await until(
    () => {
      client.poll()
      if (client.getConnectionStatus() === ConnectionStatus.CONNECTING) return false
      ms = performance.now() - started
      return true
    },
    'an honest client to get its id',
    timeoutMs,
  )
  if (client.getConnectionStatus() !== ConnectionStatus.CONNECTED) throw new Error(`the honest client failed to connect: ${client.getLastError()}`)
  return { client, ms }
}

const honest = new Set<WebSocketMultiplayerPeer>()

/** Closes every honest client. */
export function closeHonest(): void {
  for (const client of honest) client.close()
  honest.clear()
}
