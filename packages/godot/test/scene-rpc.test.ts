import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionStatus, ErrorCode, TransferMode, WebSocketMultiplayerPeer, type Logger } from '@wsmp/server'
import {
  MAX_CACHE_IDS_PER_PEER,
  NODE_RPC_FLAG,
  SceneRpc,
  Vector2,
  decodeConfirmPath,
  decodeRemoteCall,
  decodeSimplifyPath,
  encodeRemoteCall,
  encodeSimplifyPath,
  godotVarCodec,
  rpcChecksum,
  type RpcMethodConfig,
} from '../src/index.js'

/**
 * The RPC layer between wsmp peers over real sockets (127.0.0.1, port 0): a wsmp server and wsmp
 * clients, each with a SceneRpc, polled like game loops. What goes on the wire is read by wrapping
 * each peer's sendCommand (the packets still go out through the real transport).
 */

const peers = new Set<WebSocketMultiplayerPeer>()
afterEach(() => {
  for (const peer of peers) peer.close()
  peers.clear()
})

/** Polls every peer until `check()` holds; fails after `timeoutMs`. Never a fixed sleep. */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    for (const peer of peers) peer.poll()
    if (check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/** Every scene packet a peer sends, as [target, hex]. */
function tap(peer: WebSocketMultiplayerPeer): [number, string][] {
  const sent: [number, string][] = []
  const send = peer.sendCommand.bind(peer)
  peer.sendCommand = (target, packet, mode, channel) => {
    sent.push([target, Buffer.from(packet).toString('hex')])
    return send(target, packet, mode, channel)
  }
  return sent
}

/** Whether a packet (hex) is a REMOTE_CALL. */
const isCall = (hex: string): boolean => (parseInt(hex.slice(0, 2), 16) & 7) === 0

/** A logger that keeps its lines. */
function lines(): Logger & { lines: string[] } {
  const kept: string[] = []
  return { lines: kept, warn: (message) => kept.push(message) }
}

async function server(logger: Logger | null = null): Promise<{ peer: WebSocketMultiplayerPeer; rpc: SceneRpc; url: string }> {
  const peer = new WebSocketMultiplayerPeer({ logger })
  peers.add(peer)
  const rpc = new SceneRpc(peer)
  expect(await peer.createServer(0, '127.0.0.1')).toBe(ErrorCode.OK)
  return { peer, rpc, url: `ws://127.0.0.1:${peer.getLocalPort()}` }
}

async function client(url: string, logger: Logger | null = null): Promise<{ peer: WebSocketMultiplayerPeer; rpc: SceneRpc; id: number }> {
  const peer = new WebSocketMultiplayerPeer({ logger })
  peers.add(peer)
  const rpc = new SceneRpc(peer)
  expect(peer.createClient(url)).toBe(ErrorCode.OK)
  await until(() => peer.getConnectionStatus() === ConnectionStatus.CONNECTED && rpc.getPeers().includes(1), 'the client to connect')
  return { peer, rpc, id: peer.getUniqueId() }
}

/** Calls recorded by handlers: `${method} from ${sender}: ${JSON of args}`. */
function calls(): { log: string[]; on: (rpc: SceneRpc, method: string) => (...args: unknown[]) => void } {
  const log: string[] = []
  return {
    log,
    on:
      (rpc, method) =>
      (...args) => {
        log.push(`${method} from ${rpc.remoteSenderId}: ${JSON.stringify(args, (_k, v: unknown) => (v instanceof Vector2 ? `V2(${v.x},${v.y})` : v))}`)
      },
  }
}

/** The Game node of these tests, the same on every peer (each with its own handlers). */
function game(rpc: SceneRpc, seen: ReturnType<typeof calls>, extra: Record<string, RpcMethodConfig> = {}) {
  return rpc.node('/root/Game', {
    move: { mode: 'any_peer', handler: seen.on(rpc, 'move') },
    state: { mode: 'authority', transferMode: 'unreliable_ordered', channel: 1, handler: seen.on(rpc, 'state') },
    chat: { mode: 'any_peer', callLocal: true, handler: seen.on(rpc, 'chat') },
    ...extra,
  })
}

describe('SceneRpc between wsmp peers', () => {
  it('a client calls rpcId(1): by path after SIMPLIFY_PATH, compact once the server confirmed; the handler sees the sender and the arguments', async () => {
    const s = await server()
    const seen = calls()
    game(s.rpc, seen)
    const c = await client(s.url)
    const wire = tap(c.peer)
    const serverWire = tap(s.peer)
    const g = game(c.rpc, calls())

    expect(g.rpcId(1, 'move', new Vector2(1, 0))).toBe(ErrorCode.OK)
    await until(() => seen.log.length === 1, 'the first call')
    expect(seen.log).toEqual([`move from ${c.id}: ["V2(1,0)"]`])
    // SIMPLIFY_PATH first, then the call by path (no confirmation yet).
    expect(wire.map(([to]) => to)).toEqual([1, 1])
    const offer = decodeSimplifyPath(Buffer.from(wire[0]![1], 'hex'))
    expect(offer.ok && offer.message).toEqual({ checksum: rpcChecksum(['move', 'state', 'chat']), cacheId: 1, path: 'Game' })
    const first = decodeRemoteCall(Buffer.from(wire[1]![1], 'hex'))
    expect(first.ok && [first.call.node, first.call.nodeIdBytes, g.methods.name(first.call.method)]).toEqual(['Game', 4, 'move'])
    // The server answered CONFIRM_PATH (valid).
    await until(() => serverWire.length === 1, 'CONFIRM_PATH')
    expect(serverWire).toEqual([[c.id, '020101000000']])

    await until(() => {
      g.rpcId(1, 'move', new Vector2(0, -1))
      return seen.log.length >= 2 && wire.length >= 3
    }, 'a call after the confirmation')
    // Once confirmed: the one-byte cache id.
    const last = decodeRemoteCall(Buffer.from(wire.at(-1)![1], 'hex'))
    expect(last.ok && [last.call.node, last.call.nodeIdBytes]).toEqual([1, 1])
    expect(wire.filter(([, hex]) => hex.startsWith('01'))).toHaveLength(1) // SIMPLIFY_PATH once
    expect(s.rpc.getStats()).toMatchObject({ received: seen.log.length, checksumMismatches: 0 })
    expect(Object.values(s.rpc.getStats().rejected).every((n) => n === 0)).toBe(true)
  })

  it('the server calls rpc() (everyone), rpcId(n) and rpcId(-n); transfer mode and channel are the method’s', async () => {
    const s = await server()
    const g = game(s.rpc, calls())
    const seenA = calls()
    const seenB = calls()
    const a = await client(s.url)
    game(a.rpc, seenA)
    const b = await client(s.url)
    game(b.rpc, seenB)
    await until(() => s.rpc.getPeers().length === 2, 'both clients at the server')
    const sent: [number, number, number][] = []
    const send = s.peer.sendCommand.bind(s.peer)
    s.peer.sendCommand = (target, packet, mode, channel) => {
      if ((packet[0]! & 7) === 0) sent.push([target, mode ?? -1, channel ?? -1])
      return send(target, packet, mode, channel)
    }

    expect(g.rpc('state', 1, 'all')).toBe(ErrorCode.OK)
    expect(g.rpcId(a.id, 'state', 2, 'a')).toBe(ErrorCode.OK)
    expect(g.rpcId(-a.id, 'state', 3, 'not a')).toBe(ErrorCode.OK)
    await until(() => seenA.log.length === 2 && seenB.log.length === 2, 'the calls')
    expect(seenA.log).toEqual(['state from 1: [1,"all"]', 'state from 1: [2,"a"]'])
    expect(seenB.log).toEqual(['state from 1: [1,"all"]', 'state from 1: [3,"not a"]'])
    expect(sent.every(([, mode, channel]) => mode === TransferMode.UNRELIABLE_ORDERED && channel === 1)).toBe(true)
    expect(sent.map(([to]) => to).sort()).toEqual([a.id, a.id, b.id, b.id].sort())
  })

  it('client ↔ client through the wsmp server’s relay, with the path cache kept per peer', async () => {
    const s = await server()
    game(s.rpc, calls())
    const seenA = calls()
    const seenB = calls()
    const a = await client(s.url)
    const ga = game(a.rpc, seenA)
    const b = await client(s.url)
    const gb = game(b.rpc, seenB)
    await until(() => a.rpc.getPeers().includes(b.id) && b.rpc.getPeers().includes(a.id), 'the clients to know each other')
    const wireA = tap(a.peer)

    expect(ga.rpcId(b.id, 'move', 5)).toBe(ErrorCode.OK)
    await until(() => seenB.log.length === 1, 'b to run it')
    expect(seenB.log).toEqual([`move from ${a.id}: [5]`])
    // b's CONFIRM_PATH came back through the relay: a's next call to b is compact.
    await until(() => {
      ga.rpcId(b.id, 'move', 6)
      return seenB.log.length >= 2 && wireA.at(-1)![1].startsWith('0001')
    }, 'a compact call')
    const compact = decodeRemoteCall(Buffer.from(wireA.at(-1)![1], 'hex'))
    expect(compact.ok && compact.call.node).toBe(1)

    // rpc() from a client goes to every peer it knows: the server and b (and runs here: callLocal).
    const serverSeen = calls()
    s.rpc.getNode('Game')!.remove()
    game(s.rpc, serverSeen)
    expect(gb.rpc('chat', 'hi')).toBe(ErrorCode.OK)
    await until(() => seenA.log.some((l) => l.startsWith('chat')) && serverSeen.log.length === 1, 'the chat everywhere')
    expect(seenA.log.filter((l) => l.startsWith('chat'))).toEqual([`chat from ${b.id}: ["hi"]`])
    expect(seenB.log.filter((l) => l.startsWith('chat'))).toEqual([`chat from ${b.id}: ["hi"]`]) // the local call
    expect(serverSeen.log).toEqual([`chat from ${b.id}: ["hi"]`])
  })

  it('permission: an authority method called by a non-authority is rejected, counted and logged once; setMultiplayerAuthority lets that peer in', async () => {
    const log = lines()
    const s = await server(log)
    const seen = calls()
    const g = game(s.rpc, seen)
    const c = await client(s.url)
    const gc = game(c.rpc, calls())

    for (let i = 0; i < 3; i++) expect(gc.rpcId(1, 'state', i)).toBe(ErrorCode.OK)
    await until(() => s.rpc.getStats().rejected.permission === 3, 'three rejections')
    expect(seen.log).toEqual([])
    expect(s.rpc.lastRejection).toEqual({
      kind: 'permission',
      from: c.id,
      reason: `RPC 'state' is not allowed on node Game from: ${c.id}. Mode is "authority", authority is 1.`,
    })
    expect(log.lines.filter((l) => l.includes('permission'))).toHaveLength(1)

    expect(g.getMultiplayerAuthority()).toBe(1)
    expect(g.isMultiplayerAuthority()).toBe(true)
    g.setMultiplayerAuthority(c.id)
    expect(g.isMultiplayerAuthority()).toBe(false)
    expect(gc.rpcId(1, 'state', 9)).toBe(ErrorCode.OK)
    await until(() => seen.log.length === 1, 'the allowed call')
    expect(seen.log).toEqual([`state from ${c.id}: [9]`])
    // The client's Game still has authority 1: it takes 'state' from the server.
    expect(g.rpcId(c.id, 'state', 10)).toBe(ErrorCode.OK)
    await until(() => c.rpc.getStats().received === 1, 'the client to run it')
  })

  it('setMultiplayerAuthority is recursive over declared child nodes by default; disabled methods take no one', async () => {
    const s = await server()
    const parent = s.rpc.node('Level', { a: {} })
    const child = s.rpc.node('/root/Level/Player', { b: {} })
    const other = s.rpc.node('LevelTwo', { c: { mode: 'disabled', handler: () => undefined } })
    parent.setMultiplayerAuthority(7)
    expect([parent.getMultiplayerAuthority(), child.getMultiplayerAuthority(), other.getMultiplayerAuthority()]).toEqual([7, 7, 1])
    parent.setMultiplayerAuthority(8, false)
    expect([parent.getMultiplayerAuthority(), child.getMultiplayerAuthority()]).toEqual([8, 7])
    const c = await client(s.url)
    c.rpc.node('LevelTwo', { c: { mode: 'disabled' } })
    expect(c.rpc.getNode('/root/LevelTwo')!.rpcId(1, 'c')).toBe(ErrorCode.OK)
    await until(() => s.rpc.getStats().rejected.permission === 1, 'the disabled method refused')
  })

  it('callLocal: rpc() runs here too with this peer as the sender; rpcId(own id) runs only here; without callLocal it is refused', async () => {
    const s = await server()
    const seen = calls()
    const g = game(s.rpc, seen)
    expect(s.rpc.remoteSenderId).toBe(0)
    expect(g.rpc('chat', 'nobody here')).toBe(ErrorCode.OK) // no peers: only the local call
    expect(g.rpcId(1, 'chat', 'me')).toBe(ErrorCode.OK)
    expect(seen.log).toEqual(['chat from 1: ["nobody here"]', 'chat from 1: ["me"]'])
    expect(s.rpc.remoteSenderId).toBe(0)
    expect(g.rpcId(1, 'move', 1)).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(g.rpcId(-1, 'chat', 'x')).toBe(ErrorCode.ERR_INVALID_PARAMETER) // "everyone but me" names me: Godot refuses
    expect(seen.log).toHaveLength(2)
  })

  it('calls that cannot go return an ErrorCode and send nothing', async () => {
    const lone = new WebSocketMultiplayerPeer({ logger: null })
    peers.add(lone)
    const rpc = new SceneRpc(lone, { logger: null })
    const g = rpc.node('Game', { move: { mode: 'any_peer' } })
    expect(g.rpc('move')).toBe(ErrorCode.ERR_CONNECTION_ERROR)
    const s = await server()
    const gs = game(s.rpc, calls())
    const c = await client(s.url)
    game(c.rpc, calls())
    const wire = tap(s.peer)
    expect(gs.rpcId(c.id + 1, 'move')).toBe(ErrorCode.ERR_INVALID_PARAMETER) // not connected
    expect(gs.rpc('nope' as 'move')).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(gs.rpc('move', ...new Array(256).fill(0))).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(gs.rpc('move', new Date())).toBe(ErrorCode.ERR_INVALID_PARAMETER) // no Godot type
    expect(s.rpc.getLastError()).toMatch(/^rpc move on Game: .*Date/)
    expect(wire.filter(([, hex]) => isCall(hex))).toEqual([])
    expect(gs.rpc('move', 'x'.repeat(70_000))).toBe(ErrorCode.ERR_OUT_OF_MEMORY) // over outboundBufferSize: the transport's error
    expect(() => gs.rpcId(1.5, 'move')).toThrow(TypeError)
  })

  it('bad input is counted by kind, never thrown: unknown node, cache id, method, no handler, malformed, unsupported commands', async () => {
    const log = lines()
    const s = await server(log)
    s.rpc.node('Game', { move: { mode: 'any_peer' }, jump: { mode: 'any_peer', handler: () => undefined } })
    const c = await client(s.url)
    const send = (hex: string): void => void c.peer.sendCommand(1, Buffer.from(hex, 'hex'))
    const call = (node: number | string, method: number, args: unknown[] = []): string => {
      const encoded = encodeRemoteCall({ node, method, args })
      if (!encoded.ok) throw new Error(encoded.reason)
      return Buffer.from(encoded.bytes).toString('hex')
    }
    send(call('Nowhere', 0)) // unknown path
    send(call(9, 0)) // a cache id never offered
    send(call('Game', 5)) // no method 5
    send(call('Game', 1)) // move: no handler here
    send('00') // truncated
    send(call('Game', 0, [1]).replace('01020147', '01c20147')) // an int64 argument with one byte
    send('0100') // SIMPLIFY_PATH too short
    send('02010100') // CONFIRM_PATH too short
    send('0401') // SPAWN
    send('06') // SYNC
    const simplify = encodeSimplifyPath({ checksum: rpcChecksum(['x']), cacheId: 3, path: 'Elsewhere' })
    send(Buffer.from(simplify.ok ? simplify.bytes : []).toString('hex')) // a path not declared: no answer
    send(call('Game', 0)) // jump: fine
    await until(() => s.rpc.getStats().received === 1, 'the good call after the bad ones')
    expect(s.rpc.getStats().rejected).toEqual({ unknownNode: 3, unknownMethod: 1, permission: 0, noHandler: 1, malformed: 4, cache: 0, unsupported: 2 })
    expect(s.rpc.lastRejection?.kind).toBe('unknownNode')
    // One message per kind; the peer's own counters saw nothing wrong (the packets were well framed).
    expect(log.lines.filter((l) => l.includes('(malformed)'))).toHaveLength(1)
    expect(log.lines.filter((l) => l.includes('SceneRpc'))).toHaveLength(5) // five kinds
    expect(s.peer.getPeerStats(c.id)?.protocolErrors).toBe(0)
  })

  it('the path cache: a duplicate cache id and an unrequested CONFIRM_PATH are refused; a checksum mismatch is confirmed invalid and counted, calls still go', async () => {
    const s = await server()
    const seen = calls()
    s.rpc.node('Game', { move: { mode: 'any_peer', handler: seen.on(s.rpc, 'move') } })
    const c = await client(s.url)
    // The client's Game has one more method: another checksum (and the same id for move: 0 < 1).
    const gc = c.rpc.node('Game', { move: { mode: 'any_peer' }, zzz: {} })
    const wire = tap(s.peer)
    expect(gc.rpcId(1, 'move', 1)).toBe(ErrorCode.OK)
    await until(() => seen.log.length === 1 && c.rpc.getStats().checksumMismatches === 1, 'the call and the invalid confirmation')
    const confirm = decodeConfirmPath(Buffer.from(wire[0]![1], 'hex'))
    expect(confirm.ok && confirm.message).toEqual({ valid: false, cacheId: 1 })
    expect(s.rpc.getStats().checksumMismatches).toBe(1)
    // As in Godot the path counts as confirmed anyway.
    const clientWire = tap(c.peer)
    expect(gc.rpcId(1, 'move', 2)).toBe(ErrorCode.OK)
    expect(decodeRemoteCall(Buffer.from(clientWire[0]![1], 'hex')).ok && clientWire[0]![1].slice(0, 4)).toBe('0001')

    const again = encodeSimplifyPath({ checksum: rpcChecksum(['move']), cacheId: 1, path: 'Game' })
    c.peer.sendCommand(1, again.ok ? again.bytes : new Uint8Array(0))
    s.peer.sendCommand(c.id, Buffer.from('020105000000', 'hex')) // a cache id the client never assigned: ignored
    const sNode = s.rpc.getNode('Game')!
    expect(sNode.rpcId(c.id, 'move', 0)).toBe(ErrorCode.OK) // the server offers its own path (cache id 1)
    s.peer.sendCommand(c.id, Buffer.from('020101000000', 'hex')) // no: the client confirms, not the server
    await until(() => s.rpc.getStats().rejected.cache === 1, 'the duplicate refused')
    expect(s.rpc.lastRejection?.reason).toBe(`Duplicate remote cache ID 1 for peer ${c.id}`)
    c.peer.sendCommand(1, Buffer.from('020102000000', 'hex')) // the server's id 2 was never assigned: ignored
    expect(s.rpc.getStats().rejected.cache).toBe(1)
  })

  it(`a peer may assign at most MAX_CACHE_IDS_PER_PEER (${MAX_CACHE_IDS_PER_PEER}) cache ids; past that its SIMPLIFY_PATHs are refused`, async () => {
    const s = await server()
    s.rpc.node('Game', { move: { mode: 'any_peer' } })
    const c = await client(s.url)
    const checksum = rpcChecksum(['move'])
    const handler = s.peer.sceneHandler!
    // Straight into the server's scene handler (the transport's hook), as if they had arrived.
    for (let id = 1; id <= MAX_CACHE_IDS_PER_PEER + 1; id++) {
      const packet = encodeSimplifyPath({ checksum, cacheId: id, path: 'Game' })
      if (packet.ok) handler.onScenePacket(c.id, packet.bytes)
    }
    expect(s.rpc.getStats().rejected.cache).toBe(1)
    expect(s.rpc.lastRejection?.reason).toBe(`peer ${c.id} offered more than ${MAX_CACHE_IDS_PER_PEER} paths`)
  })

  it('a peer that leaves is forgotten (its cache ids and confirmations); a newcomer is offered the path again', async () => {
    const s = await server()
    const g = game(s.rpc, calls())
    const seenA = calls()
    const a = await client(s.url)
    game(a.rpc, seenA)
    const wire = tap(s.peer)
    await until(() => {
      g.rpcId(a.id, 'move', 1)
      return wire.some(([, hex]) => hex.startsWith('0001'))
    }, 'a compact call to a')
    a.peer.close()
    await until(() => !s.rpc.getPeers().includes(a.id), 'the server to forget a')
    const seenB = calls()
    const b = await client(s.url)
    game(b.rpc, seenB)
    wire.length = 0
    expect(g.rpc('move', 2)).toBe(ErrorCode.OK)
    expect(wire.map(([to, hex]) => [to, hex.slice(0, 2)])).toEqual([
      [b.id, '01'],
      [b.id, '20'],
    ])
    expect(decodeRemoteCall(Buffer.from(wire[1]![1], 'hex')).ok && decodeRemoteCall(Buffer.from(wire[1]![1], 'hex'))).toMatchObject({ call: { node: 'Game' } })
    await until(() => seenB.log.length === 1, 'b to get it')
  })

  it('to several peers when only some confirmed: the id in 4 bytes to those, the path to the others (as Godot)', async () => {
    const s = await server()
    const g = game(s.rpc, calls())
    const a = await client(s.url)
    game(a.rpc, calls())
    const wire = tap(s.peer)
    await until(() => {
      g.rpcId(a.id, 'move', 1)
      return wire.some(([, hex]) => hex.startsWith('0001'))
    }, 'a to confirm')
    const b = await client(s.url)
    game(b.rpc, calls())
    await until(() => s.rpc.getPeers().length === 2, 'b at the server')
    wire.length = 0
    g.rpc('move', 3)
    const toA = wire.find(([to, hex]) => to === a.id && isCall(hex))!
    const toB = wire.find(([to, hex]) => to === b.id && isCall(hex))!
    const [da, db] = [decodeRemoteCall(Buffer.from(toA[1], 'hex')), decodeRemoteCall(Buffer.from(toB[1], 'hex'))]
    expect(da.ok && [da.call.node, da.call.nodeIdBytes]).toEqual([1, 4])
    expect(db.ok && [db.call.node, db.call.nodeIdBytes]).toEqual(['Game', 4])
  })

  it('a handler that throws is counted and logged; poll() goes on and the next call runs', async () => {
    const log = lines()
    const s = await server(log)
    const seen = calls()
    s.rpc.node('Game', {
      boom: {
        mode: 'any_peer',
        handler: () => {
          throw new Error('kaboom')
        },
      },
      later: { mode: 'any_peer', handler: async () => Promise.reject(new Error('async kaboom')) },
      move: { mode: 'any_peer', handler: seen.on(s.rpc, 'move') },
    })
    const c = await client(s.url)
    const g = c.rpc.node('Game', { boom: { mode: 'any_peer' }, later: { mode: 'any_peer' }, move: { mode: 'any_peer' } })
    g.rpcId(1, 'boom')
    g.rpcId(1, 'later')
    g.rpcId(1, 'move', 'after')
    await until(() => seen.log.length === 1 && s.rpc.getStats().handlerErrors === 2, 'the call after the failures')
    expect(log.lines.some((l) => l.includes('kaboom'))).toBe(true)
  })

  it('remove(): calls to the node are refused, its handle returns ERR_INVALID_PARAMETER; declared again it offers its path again', async () => {
    const s = await server()
    const seen = calls()
    const gs = game(s.rpc, seen)
    const c = await client(s.url)
    const seenC = calls()
    let gc = game(c.rpc, seenC)
    gc.rpcId(1, 'move', 1)
    await until(() => seen.log.length === 1, 'the call')
    gs.remove()
    expect(gs.removed).toBe(true)
    expect(s.rpc.getNode('Game')).toBeNull()
    expect(gs.rpc('move', 1)).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    gc.rpcId(1, 'move', 2)
    await until(() => s.rpc.getStats().rejected.unknownNode === 1, 'the refusal')
    // Declared again, the node resolves from the cache id the client gave (Godot's path fallback).
    game(s.rpc, seen)
    gc.rpcId(1, 'move', 3)
    await until(() => seen.log.length === 2, 'the call to the new node')
    gc.remove()
    const wire = tap(c.peer)
    gc = game(c.rpc, seenC)
    gc.rpcId(1, 'move', 4)
    expect(wire.map(([, hex]) => hex.slice(0, 2))).toEqual(['01', '20'])
    const offer = decodeSimplifyPath(Buffer.from(wire[0]![1], 'hex'))
    expect(offer.ok && offer.message.cacheId).toBe(2)
    await until(() => seen.log.length === 3, 'the call from the new node')
  })

  it('nodes declared with rpc_config ids (bit 15), absolute or relative paths, another root path; declaration mistakes throw TypeError', async () => {
    const s = await server()
    const seen = calls()
    const rpc2 = s.rpc
    const n = rpc2.node('/root/World/Mob', { hit: { mode: 'any_peer', nodeConfig: true, handler: seen.on(rpc2, 'hit') }, die: { nodeConfig: false } })
    expect(n.path).toBe('World/Mob')
    expect(n.methods.id('hit')).toBe(NODE_RPC_FLAG)
    expect(n.methods.id('die')).toBe(0)
    expect(rpc2.getNode('World/Mob')).toBe(n)
    expect(() => rpc2.node('World/Mob', {})).toThrow(TypeError)
    expect(() => rpc2.node('/elsewhere/X', {})).toThrow(TypeError)
    expect(() => rpc2.node('X', { a: { mode: 'everyone' as 'any_peer' } })).toThrow(TypeError)
    expect(() => rpc2.node('Y', { a: { transferMode: 'fast' as 'reliable' } })).toThrow(TypeError)
    expect(() => new SceneRpc(s.peer)).toThrow(TypeError)

    const peer = new WebSocketMultiplayerPeer({ logger: null })
    peers.add(peer)
    const rooted = new SceneRpc(peer, { rootPath: '/root/Main/' })
    expect(rooted.rootPath).toBe('/root/Main')
    expect(rooted.node('/root/Main/World/Mob', { hit: { mode: 'any_peer', nodeConfig: true }, die: {} }).path).toBe('World/Mob')
    expect(peer.createClient(s.url)).toBe(ErrorCode.OK)
    await until(() => rooted.getPeers().includes(1), 'the client')
    expect(rooted.getNode('World/Mob')!.rpcId(1, 'hit', true)).toBe(ErrorCode.OK)
    await until(() => seen.log.length === 1, 'the node-config method')
    expect(seen.log).toEqual([`hit from ${peer.getUniqueId()}: [true]`])

    rooted.close()
    expect(peer.sceneHandler).toBeNull()
    expect(rooted.getNode('World/Mob')!.rpcId(1, 'hit', true)).toBe(ErrorCode.ERR_UNCONFIGURED)
    expect(() => new SceneRpc(peer)).not.toThrow()
  })

  it('godotVarCodec is core’s VarCodec: putVar/getVar between wsmp peers in Godot’s format', async () => {
    const s = new WebSocketMultiplayerPeer({ logger: null, varCodec: godotVarCodec })
    peers.add(s)
    expect(await s.createServer(0, '127.0.0.1')).toBe(ErrorCode.OK)
    const c = new WebSocketMultiplayerPeer({ logger: null, varCodec: godotVarCodec })
    peers.add(c)
    c.createClient(`ws://127.0.0.1:${s.getLocalPort()}`)
    await until(() => c.getConnectionStatus() === ConnectionStatus.CONNECTED, 'the client')
    const value = new Map<unknown, unknown>([
      ['pos', new Vector2(1.5, -2)],
      ['hp', 100],
      ['tags', ['a', 'b']],
    ])
    expect(c.putVar(value)).toBe(ErrorCode.OK)
    await until(() => s.getAvailablePacketCount() === 1, 'the packet')
    expect(s.getVar()).toEqual(value)
  })
})
