import * as crypto from 'node:crypto'
import * as net from 'node:net'
import * as v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { expect } from 'vitest'
import { WebSocket } from 'ws'
import { ConnectionStatus, ErrorCode, WebSocketMultiplayerPeer, type ServerPeerOptions, type WebSocketPeer } from '@wsmp/server'
import { startServer, track, waitFor } from './helpers.js'

/**
 * Helpers of the hostile-input suite: well-behaved wsmp clients that keep exchanging reliable,
 * sequence-numbered packets (broadcast, unicast relay, server broadcast) while an attack runs,
 * plain `ws` and raw TCP attackers, and views of the server's internal tables.
 */

// ---- the server's tables ----------------------------------------------------------------------

/** The server's private tables the suite checks for leaks (read only). */
export interface ServerInternals {
  _peers: Map<number, WebSocketPeer>
  _pending: Map<number, WebSocketPeer>
  _retiring: Set<number>
  _handshaking: Map<net.Socket, () => void>
  _inbox: unknown[]
  _queue: { length: number }
}

/** The tables of the server's role (empty ones when it is not serving) and its queues. */
export function internals(server: WebSocketMultiplayerPeer): ServerInternals {
  const role = (server as unknown as { _role: (Partial<ServerInternals> & { _acceptor?: { _handshaking: ServerInternals['_handshaking'] } | null }) | null })._role ?? {}
  const queues = server as unknown as { _inbox: unknown[]; _queue: { length: number } }
  return {
    _peers: role._peers ?? new Map(),
    _pending: role._pending ?? new Map(),
    _retiring: role._retiring ?? new Set(),
    _handshaking: role._acceptor?._handshaking ?? new Map(),
    _inbox: queues._inbox,
    _queue: queues._queue,
  }
}

/** The internal backpressure state of one server-side connection. */
export function backpressure(peer: WebSocketPeer): { paused: boolean; unread: number } {
  const p = peer as unknown as { _paused: boolean; _unread: number }
  return { paused: p._paused, unread: p._unread }
}

// ---- memory -----------------------------------------------------------------------------------

let gcFn: (() => void) | null = null

/** `heapUsed` after a full collection (`gc` exposed at run time through V8's flags). */
export function heapUsedAfterGc(): number {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc
    if (typeof g === 'function') gcFn = g
    else {
      v8.setFlagsFromString('--expose-gc')
      gcFn = runInNewContext('gc') as () => void
    }
  }
  gcFn()
  gcFn()
  return process.memoryUsage().heapUsed
}

/** A generous bound for "memory returned near its baseline" after an attack. */
export const HEAP_SLACK = 8 * 1024 * 1024

// ---- waiting ----------------------------------------------------------------------------------

/** Waits (without polling anything) until `condition` holds; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, what: string | (() => string), timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

// ---- well-behaved traffic ---------------------------------------------------------------------

/** Packet kinds of the well-behaved traffic. */
const KIND_BROADCAST = 0x62 // 'b': client → everyone (relay target 0), the server included
const KIND_UNICAST = 0x75 // 'u': client → next client (relay target n)
const KIND_SERVER = 0x73 // 's': server → every client
const MAGIC = 0x57
const PACKET_SIZE = 14

function encodeSeq(kind: number, from: number, to: number, seq: number): Uint8Array {
  const out = new Uint8Array(PACKET_SIZE)
  const view = new DataView(out.buffer)
  out[0] = MAGIC
  out[1] = kind
  view.setUint32(2, from, true)
  view.setInt32(6, to, true)
  view.setUint32(10, seq, true)
  return out
}

/** A packet some receiver got from someone that is not part of the well-behaved traffic. */
export interface ForeignPacket {
  from: number
  data: Uint8Array
  wasString: boolean
}

/** One receiver of the traffic: a client or the server. */
export class Receiver {
  /** Next expected sequence number per `kind:from`. */
  readonly next = new Map<string, number>()
  /** Packets from anyone else (attackers), in arrival order. */
  readonly foreign: ForeignPacket[] = []
  /** Signals as they fired: `+id` connected, `-id` disconnected. */
  readonly events: string[] = []
  /** Peers this receiver currently believes connected. */
  readonly peers = new Set<number>()
  serverDisconnected = false

  constructor(
    readonly name: string,
    readonly peer: WebSocketMultiplayerPeer,
    private readonly traffic: Traffic,
  ) {
    peer.on('peer_connected', (id) => {
      this.events.push(`+${id}`)
      if (this.peers.has(id)) traffic.violations.push(`${name}: peer_connected(${id}) twice`)
      this.peers.add(id)
    })
    peer.on('peer_disconnected', (id) => {
      this.events.push(`-${id}`)
      if (!this.peers.delete(id)) traffic.violations.push(`${name}: peer_disconnected(${id}) without peer_connected`)
    })
    peer.on('server_disconnected', () => {
      this.serverDisconnected = true
    })
  }

  received(kind: number, from: number): number {
    return this.next.get(`${String.fromCharCode(kind)}:${from}`) ?? 0
  }

  drain(): void {
    const peer = this.peer
    while (peer.getAvailablePacketCount() > 0) {
      const from = peer.getPacketPeer()
      const data = peer.getPacket()
      const wasString = peer.wasStringPacket()
      if (!this.traffic.isWellBehaved(from) || data.length !== PACKET_SIZE || data[0] !== MAGIC) {
        if (this.traffic.isWellBehaved(from)) this.traffic.violations.push(`${this.name}: unexpected packet from well-behaved ${from}`)
        this.foreign.push({ from, data, wasString })
        continue
      }
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
      const kind = data[1] as number
      const claimed = view.getUint32(2, true)
      const to = view.getInt32(6, true)
      const seq = view.getUint32(10, true)
      if (claimed !== from) this.traffic.violations.push(`${this.name}: packet claims ${claimed} but came from ${from}`)
      if (kind === KIND_UNICAST && to !== peer.getUniqueId()) this.traffic.violations.push(`${this.name}: got a unicast meant for ${to}`)
      const key = `${String.fromCharCode(kind)}:${from}`
      const expected = this.next.get(key) ?? 0
      if (seq !== expected) this.traffic.violations.push(`${this.name}: ${key} got #${seq}, expected #${expected}`)
      this.next.set(key, seq + 1)
    }
  }
}

export interface TrafficOptions {
  /** Well-behaved clients (default 3). */
  clients?: number
  /** Whether the harness polls the server (default true; off to test a non-polling application). */
  pollServer?: boolean
  /** Broadcasts each client sends at most (their server share queues up while the server does not poll). */
  maxBroadcasts?: number
}

/**
 * Well-behaved wsmp clients exchanging reliable, sequence-numbered packets through the server on
 * a timer: each tick every client broadcasts one packet and unicasts one to the next client (both
 * relayed by the server), and the server broadcasts one. Every receiver checks that each stream
 * arrives complete and in order.
 */
export class Traffic {
  readonly clients: WebSocketMultiplayerPeer[] = []
  readonly receivers: Receiver[] = []
  readonly violations: string[] = []
  serverReceiver!: Receiver
  pollServer: boolean
  ticks = 0
  private sending = true
  private timer: ReturnType<typeof setInterval> | null = null
  private ids: number[] = []
  private readonly sentBroadcast: number[] = []
  private readonly sentUnicast: number[] = []
  private sentServer = 0
  private readonly maxBroadcasts: number

  private constructor(
    readonly server: WebSocketMultiplayerPeer,
    options: TrafficOptions,
  ) {
    this.pollServer = true
    this.maxBroadcasts = options.maxBroadcasts ?? Infinity
  }

  /** Connects the clients, waits until everyone knows everyone, and starts the traffic. */
  static async start(server: WebSocketMultiplayerPeer, url: string, options: TrafficOptions = {}): Promise<Traffic> {
    const traffic = new Traffic(server, options)
    traffic.serverReceiver = new Receiver('server', server, traffic)
    const count = options.clients ?? 3
    for (let i = 0; i < count; i++) {
      const client = track(new WebSocketMultiplayerPeer({ logger: null }))
      traffic.clients.push(client)
      traffic.receivers.push(new Receiver(`client ${i}`, client, traffic))
      traffic.sentBroadcast.push(0)
      traffic.sentUnicast.push(0)
      if (client.createClient(url) !== ErrorCode.OK) throw new Error(`createClient failed: ${client.getLastError()}`)
      await waitFor(() => client.getConnectionStatus() === ConnectionStatus.CONNECTED, [client, server], 'a well-behaved client to connect')
    }
    traffic.ids = traffic.clients.map((c) => c.getUniqueId())
    await until(() => {
      traffic.pollAll()
      return traffic.problems().length === 0
    }, 'every well-behaved peer to know every other')
    traffic.pollServer = options.pollServer ?? true
    traffic.timer = setInterval(() => traffic.tick(), 2)
    return traffic
  }

  /** The well-behaved clients' ids. */
  get clientIds(): number[] {
    return [...this.ids]
  }

  isWellBehaved(id: number): boolean {
    return id === 1 || this.ids.includes(id)
  }

  /** Polls and drains every receiver (the server only when `pollServer`). */
  pollAll(): void {
    if (this.pollServer) {
      this.server.poll()
      this.serverReceiver.drain()
    }
    for (const r of this.receivers) {
      r.peer.poll()
      r.drain()
    }
  }

  private tick(): void {
    this.pollAll()
    if (!this.sending) return
    this.ticks++
    const n = this.clients.length
    for (let i = 0; i < n; i++) {
      const client = this.clients[i] as WebSocketMultiplayerPeer
      const id = this.ids[i] as number
      if (this.sentBroadcast[i]! < this.maxBroadcasts) {
        client.setTargetPeer(0)
        this.check(client.putPacket(encodeSeq(KIND_BROADCAST, id, 0, this.sentBroadcast[i]!)), `client ${i} broadcast`)
        this.sentBroadcast[i]!++
      }
      if (n > 1) {
        const to = this.ids[(i + 1) % n] as number
        client.setTargetPeer(to)
        this.check(client.putPacket(encodeSeq(KIND_UNICAST, id, to, this.sentUnicast[i]!)), `client ${i} unicast`)
        this.sentUnicast[i]!++
      }
    }
    this.server.setTargetPeer(0)
    this.check(this.server.putPacket(encodeSeq(KIND_SERVER, 1, 0, this.sentServer)), 'server broadcast')
    this.sentServer++
  }

  private check(err: ErrorCode, what: string): void {
    if (err !== ErrorCode.OK) this.violations.push(`${what}: putPacket returned ${err}`)
  }

  /** Resolves after `count` more ticks of traffic (a condition, not a delay). */
  async runTicks(count: number): Promise<void> {
    const target = this.ticks + count
    await until(() => this.ticks >= target, `${count} ticks of traffic`)
  }

  /** Whether every receiver has every packet sent so far. */
  complete(): boolean {
    const n = this.clients.length
    for (let j = 0; j < n; j++) {
      const r = this.receivers[j] as Receiver
      if (r.received(KIND_SERVER, 1) !== this.sentServer) return false
      for (let i = 0; i < n; i++) {
        if (i === j) continue
        const from = this.ids[i] as number
        if (r.received(KIND_BROADCAST, from) !== this.sentBroadcast[i]) return false
        if ((i + 1) % n === j && r.received(KIND_UNICAST, from) !== this.sentUnicast[i]) return false
      }
    }
    for (let i = 0; i < n; i++) {
      if (this.serverReceiver.received(KIND_BROADCAST, this.ids[i] as number) !== this.sentBroadcast[i]) return false
    }
    return true
  }

  /** Stops sending and waits until everything sent has arrived. Returns the number of packets sent. */
  async settle(timeoutMs = 20_000): Promise<number> {
    this.sending = false
    const wasPolling = this.pollServer
    this.pollServer = true
    await until(
      () => this.complete(),
      () => `every well-behaved packet to arrive (${this.violations.slice(0, 3).join('; ')})`,
      timeoutMs,
    )
    this.pollServer = wasPolling
    const n = this.clients.length
    return this.sentServer + this.sentBroadcast.reduce((a, b) => a + b, 0) * n + this.sentUnicast.reduce((a, b) => a + b, 0)
  }

  /** Resumes sending after {@link settle}. */
  resume(): void {
    this.sending = true
  }

  /** Stops the timer (call in afterEach; the peers are closed by the helpers' closeAll). */
  stop(): void {
    this.sending = false
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /**
   * Checks the well-behaved side after an attack: no violation, everyone still connected, and
   * every client's view of the peers equal to the well-behaved set (no ghosts, no fakes).
   */
  problems(): string[] {
    const out = [...this.violations]
    for (const r of this.receivers) {
      if (r.peer.getConnectionStatus() !== ConnectionStatus.CONNECTED) out.push(`${r.name}: no longer connected (${r.peer.getLastError()})`)
      if (r.serverDisconnected) out.push(`${r.name}: server_disconnected`)
      const expected = new Set([1, ...this.ids.filter((id) => id !== r.peer.getUniqueId())])
      const seen = [...r.peers].sort()
      if (seen.join() !== [...expected].sort().join()) out.push(`${r.name}: believes ${seen.join()} connected, expected ${[...expected].sort().join()}`)
    }
    for (const id of this.ids) if (!this.serverReceiver.peers.has(id)) out.push(`server: lost well-behaved peer ${id}`)
    return out
  }
}

/**
 * The server's tables hold the well-behaved peers only, nothing waits in its queues, and no
 * closed socket is still tracked.
 */
export function tableProblems(server: WebSocketMultiplayerPeer, traffic: Traffic): string[] {
  const t = internals(server)
  const out: string[] = []
  const ids = [...t._peers.keys()].sort()
  if (ids.join() !== traffic.clientIds.sort().join()) out.push(`peer table holds ${ids.join()}, expected ${traffic.clientIds.sort().join()}`)
  if (t._retiring.size !== 0) out.push(`${t._retiring.size} ids still retiring`)
  if (t._inbox.length !== 0) out.push(`${t._inbox.length} inbox entries left`)
  if (t._queue.length !== 0) out.push(`${t._queue.length} packets left in the queue`)
  const dead = [...t._handshaking.keys()].filter((s) => s.destroyed).length
  if (dead !== 0) out.push(`${dead} closed sockets still tracked as handshaking`)
  if (t._handshaking.size > traffic.clientIds.length) out.push(`${t._handshaking.size} sockets tracked as handshaking`)
  return out
}

// ---- plain ws attackers -----------------------------------------------------------------------

/** A plain `ws` client that speaks no wsmp: it records what it gets and how it was closed. */
export class RawWs {
  readonly ws: WebSocket
  id = 0
  readonly messages: { data: Buffer; isBinary: boolean }[] = []
  close: { code: number; reason: string } | null = null
  error: Error | null = null
  opened = false

  constructor(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...options })
    this.ws.on('open', () => {
      this.opened = true
    })
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.id === 0 && isBinary && data.length === 4) {
        this.id = data.readInt32LE(0)
        return
      }
      this.messages.push({ data, isBinary })
    })
    this.ws.on('close', (code, reason) => {
      this.close = { code, reason: reason.toString() }
    })
    this.ws.on('error', (err) => {
      this.error = err
    })
  }

  /** Connects and waits for the id message. */
  static async connect(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<RawWs> {
    const raw = new RawWs(url, options)
    await until(() => raw.id !== 0 || raw.close !== null, 'a raw ws client to get its id')
    if (raw.id === 0) throw new Error(`raw ws client closed before its id: ${JSON.stringify(raw.close)} ${raw.error?.message ?? ''}`)
    return raw
  }

  send(data: Uint8Array | string, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary })
  }

  /** Waits until every byte sent has left this process. */
  async flushed(): Promise<void> {
    await until(() => this.ws.bufferedAmount === 0, 'the raw client to flush')
  }

  async closed(timeoutMs = 15_000): Promise<{ code: number; reason: string }> {
    await until(() => this.close !== null, 'the raw client to be closed', timeoutMs)
    return this.close as { code: number; reason: string }
  }
}

// ---- raw TCP attackers ------------------------------------------------------------------------

/** A client→server WebSocket frame (masked, as RFC 6455 requires), optionally lying about its length. */
export function clientFrame(opcode: number, payload: Uint8Array, options: { fin?: boolean; claimedLength?: number } = {}): Buffer {
  const fin = options.fin ?? true
  const length = options.claimedLength ?? payload.length
  let header: Buffer
  if (length < 126) {
    header = Buffer.alloc(2)
    header[1] = 0x80 | length
  } else if (length < 65536) {
    header = Buffer.alloc(4)
    header[1] = 0x80 | 126
    header.writeUInt16BE(length, 2)
  } else {
    header = Buffer.alloc(10)
    header[1] = 0x80 | 127
    header.writeBigUInt64BE(BigInt(length), 2)
  }
  header[0] = (fin ? 0x80 : 0) | opcode
  const mask = crypto.randomBytes(4)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i & 3] as number)
  return Buffer.concat([header, mask, body])
}

/** The upgrade request a browser would send. */
export function upgradeRequest(port: number, path = '/'): string {
  return (
    `GET ${path} HTTP/1.1\r\n` +
    `Host: 127.0.0.1:${port}\r\n` +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
    'Sec-WebSocket-Version: 13\r\n\r\n'
  )
}

/**
 * A raw TCP client. It parses what the server sends (the HTTP response, then unmasked frames) and
 * never answers anything: no pong, no close frame.
 */
export class RawTcp {
  readonly socket: net.Socket
  private buffer = Buffer.alloc(0)
  response = ''
  id = 0
  readonly frames: { opcode: number; payload: Buffer }[] = []
  closeFrame: { code: number; reason: string } | null = null
  ended = false
  connected = false

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.on('connect', () => {
      this.connected = true
    })
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.socket.on('close', () => {
      this.ended = true
    })
    this.socket.on('error', () => {})
  }

  /** Completes the upgrade at once and waits for the id. */
  static async upgraded(port: number): Promise<RawTcp> {
    const raw = new RawTcp(port)
    raw.socket.write(upgradeRequest(port))
    await until(() => raw.id !== 0 || raw.ended, 'a raw TCP client to get its id')
    if (raw.id === 0) throw new Error(`raw TCP client closed before its id; response: ${raw.response}`)
    return raw
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    if (!this.response) {
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      this.response = this.buffer.subarray(0, end).toString()
      this.buffer = this.buffer.subarray(end + 4)
    }
    for (;;) {
      if (this.buffer.length < 2) return
      const b1 = this.buffer[1] as number
      let length = b1 & 0x7f
      let at = 2
      if (length === 126) {
        if (this.buffer.length < 4) return
        length = this.buffer.readUInt16BE(2)
        at = 4
      } else if (length === 127) {
        if (this.buffer.length < 10) return
        length = Number(this.buffer.readBigUInt64BE(2))
        at = 10
      }
      if (this.buffer.length < at + length) return
      const opcode = (this.buffer[0] as number) & 0x0f
      const payload = this.buffer.subarray(at, at + length)
      this.buffer = this.buffer.subarray(at + length)
      if (this.id === 0 && opcode === 2 && payload.length === 4) this.id = payload.readInt32LE(0)
      else this.frames.push({ opcode, payload })
      if (opcode === 8) this.closeFrame = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString() }
    }
  }

  write(data: Uint8Array | string): void {
    this.socket.write(data)
  }

  async closed(timeoutMs = 15_000): Promise<void> {
    await until(() => this.ended, 'the raw TCP connection to close', timeoutMs)
  }
}

/** Runs `count` async jobs with at most `concurrency` at a time. */
export async function bounded(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++
      await job(i)
    }
  })
  await Promise.all(workers)
}

// ---- a scene: a server, well-behaved traffic, a memory baseline ------------------------------

export interface Scene {
  server: WebSocketMultiplayerPeer
  url: string
  port: number
  traffic: Traffic
  baseline: number
}

let current: Traffic | null = null

/** Stops the running traffic (call in afterEach, before the helpers' closeAll). */
export function stopTraffic(): void {
  current?.stop()
  current = null
}

/** Starts a server on 127.0.0.1 with well-behaved traffic running, and takes the heap baseline. */
export async function scene(options: ServerPeerOptions = {}, trafficOptions: TrafficOptions = {}): Promise<Scene> {
  const { server, url, port } = await startServer(options)
  const traffic = await Traffic.start(server, url, trafficOptions)
  current = traffic
  const baseline = heapUsedAfterGc()
  return { server, url, port, traffic, baseline }
}

/**
 * After an attack: more well-behaved traffic, then every packet sent must arrive, in order; the
 * offenders are cut, and the server's tables must hold only the well-behaved peers, every
 * client's view must match, and the heap must be back near its baseline.
 */
export async function finish(s: Scene, offenders: { ws: WebSocket }[] = [], sockets: net.Socket[] = []): Promise<void> {
  await s.traffic.runTicks(20)
  await s.traffic.settle()
  expect(s.traffic.violations).toEqual([])
  for (const o of offenders) o.ws.terminate()
  for (const socket of sockets) socket.destroy()
  const all = () => [...tableProblems(s.server, s.traffic), ...s.traffic.problems()]
  await until(
    () => {
      s.traffic.pollAll()
      return all().length === 0
    },
    () => `only the well-behaved peers to be left (${all().join('; ')})`,
  )
  const grown = heapUsedAfterGc() - s.baseline
  if (process.env.HOSTILE_HEAP_LOG) console.log(`heap: ${(grown / 1048576).toFixed(2)} MiB over the baseline`)
  expect(grown).toBeLessThan(HEAP_SLACK)
}
