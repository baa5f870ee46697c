// Helpers of the cluster tests: waiting on conditions, recording clients (wsmp and plain ws), and a
// cluster of an in-process authority and edges on a test's redis-server.
import { rawClient, runCleanups, type RawClient } from '../../../server/test/helpers.js'
import { ConnectionStatus, ErrorCode, WebSocketMultiplayerPeer, type ServerPeerOptions, type TLSOptions, type WebSocketMultiplayerPeerOptions } from '@wsmp/server'
import { RedisCluster, type EdgeOptions, type RedisAuthority, type RedisEdge } from '@wsmp/cluster'

/** Waits until `condition` holds, checking every few ms; rejects with `what` after `timeoutMs`. Never a fixed delay. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (condition()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** UTF-8 bytes / text. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
export const text = (data: Uint8Array): string => new TextDecoder().decode(data)

/** A packet as a recording client saw it. */
export interface Seen {
  from: number
  text: string
}

/** A wsmp client that records its signals and packets (autoPoll, 'packet' listener). */
export interface Recorder {
  peer: WebSocketMultiplayerPeer
  log: string[]
  packets: Seen[]
  /** The peers it knows (announced and not gone), the server included. */
  peers: Set<number>
  id(): number
  /** Sends text to `target` (1 the server, 0 everyone, −n all but n, n one peer). */
  send(target: number, message: string): ErrorCode
  /** The close code the server sent, once closed. */
  closeCode(): number
}

const open = new Set<{ close(): unknown }>()

/** Connects a recording wsmp client to `url` and waits for `connected_to_server`. */
export async function wsmpClient(url: string, options: WebSocketMultiplayerPeerOptions = {}, tls: TLSOptions | null = null): Promise<Recorder> {
  const peer = new WebSocketMultiplayerPeer({ logger: null, autoPoll: true, ...options })
  open.add(peer)
  const rec: Recorder = {
    peer,
    log: [],
    packets: [],
    peers: new Set(),
    id: () => peer.getUniqueId(),
    send: (target, message) => {
      peer.setTargetPeer(target)
      return peer.putPacket(bytes(message))
    },
    closeCode: () => lastCloseCode(peer),
  }
  peer.on('peer_connected', (id) => {
    rec.log.push(`peer_connected ${id}`)
    rec.peers.add(id)
  })
  peer.on('peer_disconnected', (id) => {
    rec.log.push(`peer_disconnected ${id}`)
    rec.peers.delete(id)
  })
  peer.on('connected_to_server', () => rec.log.push('connected_to_server'))
  peer.on('connection_failed', () => rec.log.push('connection_failed'))
  peer.on('server_disconnected', () => rec.log.push('server_disconnected'))
  peer.on('packet', (data, from) => rec.packets.push({ from, text: text(data) }))
  if (peer.createClient(url, tls) !== ErrorCode.OK) throw new Error(peer.getLastError())
  await waitFor(() => peer.getConnectionStatus() !== ConnectionStatus.CONNECTING, `a client of ${url} to connect`)
  if (peer.getConnectionStatus() !== ConnectionStatus.CONNECTED) throw new Error(`the client failed to connect to ${url}: ${peer.getLastError()}`)
  return rec
}

/** The close code of a client's connection to the server (kept on its WebSocketPeer). */
function lastCloseCode(peer: WebSocketMultiplayerPeer): number {
  const role = (peer as unknown as { _role: { _peer?: { getCloseCode(): number } } | null })._role
  return role?._peer?.getCloseCode() ?? -2
}

/** A plain `ws` client (standing in for a Godot peer), as in the server's tests. */
export { rawClient, type RawClient }

/** The ids announced to a plain client (ADD_PEER minus DEL_PEER), from `[0x07][cmd][int32 id]` messages. */
export function announced(client: RawClient): Set<number> {
  const ids = new Set<number>()
  for (const { data: m } of client.messages.slice(1)) {
    if (m.length !== 6 || m[0] !== 0x07) continue
    const id = new DataView(m.buffer, m.byteOffset + 2, 4).getInt32(0, true)
    if (m[1] === 1) ids.add(id)
    else if (m[1] === 2) ids.delete(id)
  }
  return ids
}

/** A cluster in this process: an authority game and edges, on 127.0.0.1. */
export interface TestCluster {
  game: WebSocketMultiplayerPeer
  authority: RedisAuthority
  edges: RedisEdge[]
  /** ws:// URL of edge i. */
  url(i: number): string
  /** The authority's signals, in order ('peer_connected 5' …). */
  log: string[]
  /** Packets the authority received. */
  packets: Seen[]
}

let sessionCounter = 0

/** A session name no other test uses. */
export function newSession(): string {
  return `t${process.pid}-${++sessionCounter}-${Date.now().toString(36)}`
}

/** Starts an authority (a fresh game, or `game`) and `edges` edges on `redisUrl`, all serving. */
export async function startCluster(
  redisUrl: string,
  edges: number,
  options: {
    session?: string
    game?: WebSocketMultiplayerPeer
    gameOptions?: ServerPeerOptions
    edgeOptions?: Partial<EdgeOptions>
    timeoutMs?: number
    heartbeatMs?: number
    /** Record the game's packets with a 'packet' listener (default true; false leaves them queued). */
    listen?: boolean
  } = {},
): Promise<TestCluster> {
  const session = options.session ?? newSession()
  const game = options.game ?? new WebSocketMultiplayerPeer({ logger: null, autoPoll: true, ...options.gameOptions })
  open.add(game)
  const log: string[] = []
  const packets: Seen[] = []
  game.on('peer_connected', (id) => log.push(`peer_connected ${id}`))
  game.on('peer_disconnected', (id) => log.push(`peer_disconnected ${id}`))
  if (options.listen !== false) game.on('packet', (data, from) => packets.push({ from, text: text(data) }))
  const timing = { heartbeatMs: options.heartbeatMs, timeoutMs: options.timeoutMs }
  const authority = await RedisCluster.authority(game, { url: redisUrl, session, logger: null, ...timing })
  open.add(authority)
  const list: RedisEdge[] = []
  for (let i = 0; i < edges; i++) {
    const edge = await RedisCluster.edge({ url: redisUrl, session, port: 0, bindAddress: '127.0.0.1', logger: null, ...timing, ...options.edgeOptions })
    open.add(edge)
    list.push(edge)
  }
  await Promise.all(list.map((edge) => edge.whenServing()))
  return { game, authority, edges: list, url: (i) => `ws://127.0.0.1:${(list[i] as RedisEdge).getLocalPort()}`, log, packets }
}

/** Closes everything the helpers made and waits for it (afterEach). */
export async function closeAll(): Promise<void> {
  const things = [...open]
  open.clear()
  await Promise.allSettled(things.map(async (thing) => thing.close()))
  runCleanups() // the plain clients
}
