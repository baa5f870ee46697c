import type { IncomingMessage } from 'node:http'
import { createServer as createTcpServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net'
import { WebSocket as WsClient, WebSocketServer as WsServer } from 'ws'
import { WebSocketMultiplayerPeer, ConnectionStatus, ErrorCode, type ServerPeerOptions, type WebSocketMultiplayerPeerOptions } from '@wsmp/server'

/** Anything with a `poll()`: polled on every turn of {@link waitFor}. */
export interface Pollable {
  poll(): void
}

/**
 * Polls `peers` and checks `condition` every few milliseconds until it holds; rejects with
 * `what` after `timeoutMs`. Waits on the condition, never on a fixed delay.
 */
export async function waitFor(condition: () => boolean, peers: Pollable[] = [], what = 'condition', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    for (const peer of peers) peer.poll()
    if (condition()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/** Every peer made by these helpers, closed by {@link closeAll}. */
const open = new Set<WebSocketMultiplayerPeer>()

/** Starts a wsmp server on 127.0.0.1, port 0. */
export async function startServer(options: ServerPeerOptions = {}): Promise<{ server: WebSocketMultiplayerPeer; url: string; port: number }> {
  const server = new WebSocketMultiplayerPeer({ logger: null, ...options })
  open.add(server)
  const err = await server.createServer(0, '127.0.0.1')
  if (err !== ErrorCode.OK) throw new Error(`createServer failed: ${err} ${server.getLastError()}`)
  const port = server.getLocalPort()
  return { server, url: `ws://127.0.0.1:${port}`, port }
}

/** A client peer connected to `url`, polled (with `alsoPoll`) until CONNECTED. */
export async function connectClient(url: string, options: WebSocketMultiplayerPeerOptions = {}, alsoPoll: Pollable[] = []): Promise<WebSocketMultiplayerPeer> {
  const client = new WebSocketMultiplayerPeer({ logger: null, ...options })
  open.add(client)
  const err = client.createClient(url)
  if (err !== ErrorCode.OK) throw new Error(`createClient failed: ${err} ${client.getLastError()}`)
  await waitFor(() => client.getConnectionStatus() !== ConnectionStatus.CONNECTING, [client, ...alsoPoll], 'the client to connect')
  if (client.getConnectionStatus() !== ConnectionStatus.CONNECTED) throw new Error(`client failed to connect: ${client.getLastError()}`)
  return client
}

/** A new, unconnected peer that {@link closeAll} will close. */
export function track<T extends WebSocketMultiplayerPeer>(peer: T): T {
  open.add(peer)
  return peer
}

/** Closes every peer the helpers made (call in afterEach). */
export function closeAll(): void {
  for (const peer of open) peer.close()
  open.clear()
}

/** Reads every queued packet as [from, bytes as a string]. */
export function drain(peer: WebSocketMultiplayerPeer): [number, string][] {
  const out: [number, string][] = []
  while (peer.getAvailablePacketCount() > 0) {
    const from = peer.getPacketPeer()
    out.push([from, new TextDecoder().decode(peer.getPacket())])
  }
  return out
}

/** UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}

// ---- additions for the API and wire tests ---------------------------------------------------

/** Records a peer's signals and client events, in order, as strings ('peer_connected 5', 'connected_to_server', …). */
export function record(peer: WebSocketMultiplayerPeer): string[] {
  const log: string[] = []
  peer.on('peer_connected', (id) => log.push(`peer_connected ${id}`))
  peer.on('peer_disconnected', (id) => log.push(`peer_disconnected ${id}`))
  peer.on('connected_to_server', () => log.push('connected_to_server'))
  peer.on('connection_failed', () => log.push('connection_failed'))
  peer.on('server_disconnected', () => log.push('server_disconnected'))
  peer.on('peer_authenticating', (id) => log.push(`peer_authenticating ${id}`))
  peer.on('peer_authentication_failed', (id) => log.push(`peer_authentication_failed ${id}`))
  return log
}

/** Bytes from hex text ('07 03 ff'). */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((b) => parseInt(b, 16)),
  )
}

/** Hex text of bytes ('07 03 ff'). */
export function toHex(data: Uint8Array): string {
  return [...data].map((b) => b.toString(16).padStart(2, '0')).join(' ')
}

/** int32 little-endian hex of a number ('78 56 34 12'). */
export function int32Hex(value: number): string {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setInt32(0, value, true)
  return toHex(out)
}

/** Things to undo after each test (plain sockets and servers); run by {@link closeAll}. */
const cleanups: (() => void)[] = []

/** Registers something to undo in {@link closeAll}. */
export function onCleanup(cleanup: () => void): void {
  cleanups.push(cleanup)
}

/** Undoes everything registered with {@link onCleanup} (closeAll calls it too). */
export function runCleanups(): void {
  for (const cleanup of cleanups.splice(0)) {
    try {
      cleanup()
    } catch {
      // best effort
    }
  }
}

const originalCloseAll = closeAll
/** {@link closeAll} plus every plain socket and server made by these helpers. */
export function closeEverything(): void {
  originalCloseAll()
  runCleanups()
}

/** A message a plain `ws` socket received. */
export interface RawMessage {
  data: Uint8Array
  isBinary: boolean
}

/** A plain `ws` client, standing in for a Godot peer: records every message it receives. */
export interface RawClient {
  ws: WsClient
  messages: RawMessage[]
  closed: { code: number; reason: string } | null
  /** Waits until `count` messages have arrived. */
  waitMessages(count: number, what?: string): Promise<void>
  /** The id from the first message (int32 LE). */
  id(): number
  send(data: Uint8Array, binary?: boolean): void
}

/** Connects a plain `ws` client to `url` and waits for the open (or rejects with the failure). */
export async function rawClient(url: string, protocols: string[] = [], options: ConstructorParameters<typeof WsClient>[2] = {}): Promise<RawClient> {
  const ws = new WsClient(url, protocols, { perMessageDeflate: false, ...options })
  const client: RawClient = {
    ws,
    messages: [],
    closed: null,
    waitMessages: (count, what = `${count} messages`) => waitFor(() => client.messages.length >= count, [], what),
    id: () => {
      const first = client.messages[0]
      if (!first || first.data.length !== 4) throw new Error('no id message')
      return new DataView(first.data.buffer, first.data.byteOffset, 4).getInt32(0, true)
    },
    send: (data, binary = true) => ws.send(data, { binary }),
  }
  ws.on('message', (data: Buffer, isBinary: boolean) => client.messages.push({ data: new Uint8Array(data), isBinary }))
  ws.on('close', (code: number, reason: Buffer) => {
    client.closed = { code, reason: reason.toString() }
  })
  onCleanup(() => ws.terminate())
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return client
}

/** A plain `ws` server on 127.0.0.1, port 0, standing in for a Godot server. */
export async function plainServer(options: ConstructorParameters<typeof WsServer>[0] = {}): Promise<{
  wss: WsServer
  port: number
  url: string
  sockets: WsClient[]
  requests: IncomingMessage[]
  messages: RawMessage[]
}> {
  const wss = new WsServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, ...options })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const sockets: WsClient[] = []
  const requests: IncomingMessage[] = []
  const messages: RawMessage[] = []
  wss.on('connection', (ws, req) => {
    sockets.push(ws)
    requests.push(req)
    ws.on('message', (data: Buffer, isBinary: boolean) => messages.push({ data: new Uint8Array(data), isBinary }))
  })
  onCleanup(() => {
    for (const ws of sockets) ws.terminate()
    wss.close()
  })
  const port = (wss.address() as AddressInfo).port
  return { wss, port, url: `ws://127.0.0.1:${port}`, sockets, requests, messages }
}

/** A port nothing listens on (bound on 127.0.0.1, then released). */
export async function deadPort(): Promise<number> {
  const probe = createTcpServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()))
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** Polls the server until it has admitted (and signalled) the peers with these ids. */
export async function admitted(server: WebSocketMultiplayerPeer, ids: number[]): Promise<void> {
  await waitFor(() => ids.every((id) => server.getPeer(id) !== null), [server], `admission of ${ids.join(', ')}`)
  server.poll()
}

/**
 * A TCP relay between a client and the server that can go silent: `cut()` stops carrying bytes
 * both ways without closing either side, as a pulled cable or a frozen process does.
 */
export async function silentableRelay(port: number): Promise<{ port: number; cut(): void; close(): void }> {
  let carrying = true
  const sockets: Socket[] = []
  const relay = createTcpServer((inbound: Socket) => {
    const outbound = tcpConnect(port, '127.0.0.1')
    sockets.push(inbound, outbound)
    inbound.on('data', (chunk) => carrying && outbound.write(chunk))
    outbound.on('data', (chunk) => carrying && inbound.write(chunk))
    inbound.on('error', () => {})
    outbound.on('error', () => {})
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()))
  const close = (): void => {
    for (const socket of sockets) socket.destroy()
    relay.close()
  }
  onCleanup(close)
  return {
    port: (relay.address() as AddressInfo).port,
    cut: () => {
      carrying = false
    },
    close,
  }
}
