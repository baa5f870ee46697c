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
