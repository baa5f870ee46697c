// The RPC capture: a WebSocket server on 127.0.0.1 (port 0) that plays SceneMultiplayer's peer 1
// for a real Godot 4 client (test/godot/rpc_client.gd), records every packet the client sends
// for each of its rpc_id(1, …) calls, answers its SIMPLIFY_PATHs with CONFIRM_PATH, and sends it
// RPCs of its own encoded by this package, which the client's methods report on stdout.

import { spawn } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import {
  Float,
  RpcMethods,
  StringName,
  TypedArray,
  VariantType,
  Vector2,
  Vector3,
  decodeSimplifyPath,
  encodeConfirmPath,
  encodeRemoteCall,
  encodeSimplifyPath,
  type RemoteCall,
} from '../src/index.js'
import { GODOT_BIN, PROJECT_DIR, hex } from './engine.js'

/** The id the server gives the Godot client. */
export const CLIENT_ID = 1234567
/** The cache id this side gives the node Game in its own SIMPLIFY_PATH. */
export const OUR_CACHE_ID = 7
/** Game's RPC methods: its script's @rpc ones and the two it configures on the node (rpc_client.gd). */
export const GAME_METHODS = new RpcMethods(['zeta', 'alpha', 'move', 'Beta', 'bytes', 'mixed', 'nothing', 'ünï'], ['native_b', 'native_a'])
/** The ping nodes whose packets the fixture keeps (all are checked live). */
export const KEPT_PINGS = new Set(['ping_0', 'ping_253', 'ping_254', 'ping_299'])

const id = (name: string): number => GAME_METHODS.id(name) as number

/** The RPCs this side sends to Game, by label, in order; `wide` writes the node id in 4 bytes. */
export const OUR_CALLS: readonly (RemoteCall & { label: string; wide?: boolean })[] = [
  { label: 'by_path', node: 'Game', method: id('alpha'), args: ['by path'] },
  { label: 'nothing', node: OUR_CACHE_ID, method: id('nothing'), args: [] },
  { label: 'bool', node: OUR_CACHE_ID, method: id('alpha'), args: [true] },
  { label: 'int16', node: OUR_CACHE_ID, method: id('alpha'), args: [-200] },
  { label: 'int64', node: OUR_CACHE_ID, method: id('alpha'), args: [2n ** 40n] },
  { label: 'int64_min', node: OUR_CACHE_ID, method: id('alpha'), args: [-(2n ** 63n)] },
  { label: 'float64', node: OUR_CACHE_ID, method: id('alpha'), args: [0.1] },
  { label: 'float_whole', node: OUR_CACHE_ID, method: id('alpha'), args: [new Float(2)] },
  { label: 'string', node: OUR_CACHE_ID, method: id('alpha'), args: ['héllo 🎮'] },
  { label: 'stringname', node: OUR_CACHE_ID, method: id('alpha'), args: [new StringName('sn')] },
  { label: 'vector2', node: OUR_CACHE_ID, method: id('alpha'), args: [new Vector2(1, 2)] },
  { label: 'nil', node: OUR_CACHE_ID, method: id('alpha'), args: [null] },
  { label: 'array', node: OUR_CACHE_ID, method: id('alpha'), args: [[1, 'a', 2.5]] },
  { label: 'typed_array', node: OUR_CACHE_ID, method: id('alpha'), args: [new TypedArray(VariantType.INT, [1, 2])] },
  {
    label: 'dictionary',
    node: OUR_CACHE_ID,
    method: id('alpha'),
    args: [
      new Map<unknown, unknown>([
        ['k', new Vector3(1, 2, 3)],
        [2, [true]],
      ]),
    ],
  },
  { label: 'object', node: OUR_CACHE_ID, method: id('alpha'), args: [{ hp: 100, name: 'x' }] },
  { label: 'bytes', node: OUR_CACHE_ID, method: id('bytes'), args: [Uint8Array.of(9, 8, 7)] },
  { label: 'move', node: OUR_CACHE_ID, method: id('move'), args: [new Vector2(1.5, 2), new Vector2(-1, 0), 44] },
  { label: 'mixed', node: OUR_CACHE_ID, method: id('mixed'), args: [false, 70000, 'y'] },
  { label: 'eight_args', node: OUR_CACHE_ID, method: id('Beta'), args: [1, 2, 3, 4, 5, 6, 7, 8] },
  { label: 'unicode_method', node: OUR_CACHE_ID, method: id('ünï'), args: ['ü'] },
  { label: 'native_b', node: OUR_CACHE_ID, method: id('native_b'), args: [9] },
  { label: 'zeta', node: OUR_CACHE_ID, method: id('zeta'), args: [] },
  { label: 'wide_node_id', node: OUR_CACHE_ID, method: id('alpha'), args: ['wide'], wide: true },
]

export interface Capture {
  /** The packets each of the client's calls sent, by `<phase>:<label>` in order (pings: KEPT_PINGS only). */
  calls: Record<string, string[]>
  /** The cache ids of all the phase-3 pings' SIMPLIFY_PATHs, in order, with their paths. */
  pings: { path: string; cacheId: number; call: string }[]
  /** The client's answer to this side's SIMPLIFY_PATH. */
  confirmReply: string[]
  /** What Game's methods reported for this side's RPCs: method, sender, var_to_bytes(args). */
  received: { method: string; sender: number; args: string }[]
  /** Lines the client printed that say something went wrong. */
  errors: string[]
}

const raw = (text: string): Uint8Array => new Uint8Array([3, ...Buffer.from(text, 'utf8')])

function unwrap(result: { ok: true; bytes: Uint8Array } | { ok: false; reason: string }): Uint8Array {
  if (!result.ok) throw new Error(result.reason)
  return result.bytes
}

/** Runs the capture against the engine; rejects past `timeoutMs`. Kills only the process it started. */
export async function captureGodotRpc(timeoutMs = 25_000): Promise<Capture> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((ready) => wss.once('listening', ready))
  const { port } = wss.address() as AddressInfo
  const child = spawn(GODOT_BIN, ['--headless', '--path', PROJECT_DIR, '-s', 'res://rpc_client.gd', '--', `ws://127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  const exited = new Promise<number | null>((done) => child.on('close', done))

  const capture: Capture = { calls: {}, pings: [], confirmReply: [], received: [], errors: [] }
  try {
    await new Promise<void>((done, failed) => {
      const timer = setTimeout(() => failed(new Error(`capture timed out; client stdout:\n${stdout}\nstderr:\n${stderr.slice(-3000)}`)), timeoutMs)
      child.on('close', (code) => {
        clearTimeout(timer)
        if (code === 0) done()
        else failed(new Error(`client exited with ${code}; stdout:\n${stdout}\nstderr:\n${stderr.slice(-3000)}`))
      })
      wss.on('connection', (ws: WebSocket) => serve(ws, capture))
    })
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
    for (const client of wss.clients) client.terminate()
    await new Promise<void>((done) => wss.close(() => done()))
  }
  capture.received = stdout
    .split('\n')
    .filter((line) => line.startsWith('GOT ') && !line.startsWith('GOT ping '))
    .map((line) => {
      const [, method = '', sender = '', args = ''] = line.trimEnd().split(' ')
      return { method, sender: Number(sender), args }
    })
  capture.errors = [...stdout.split('\n'), ...stderr.split('\n')].filter((line) => /RPC_ERROR|ERROR: (?!Could not load global script cache)/.test(line))
  return capture
}

/** Plays peer 1 for one client connection. */
function serve(ws: WebSocket, capture: Capture): void {
  const idMessage = Buffer.alloc(4)
  idMessage.writeInt32LE(CLIENT_ID)
  ws.send(idMessage)
  let phase = 1
  let label = ''
  /** SIMPLIFY_PATHs not confirmed yet. */
  let pending: number[] = []
  let reverse = false
  ws.on('message', (data: Buffer) => {
    const packet = new Uint8Array(data)
    const command = (packet[0] ?? 0) & 7
    if (command === 3) {
      const text = Buffer.from(packet.subarray(1)).toString('utf8')
      if (text.startsWith('call ')) label = text.slice(5)
      else if (text.startsWith('end')) endOfPhase(Number(text.slice(3)))
      return
    }
    if (reverse && command === 2) {
      capture.confirmReply.push(hex(packet))
      return
    }
    if (command === 1) {
      const simplify = decodeSimplifyPath(packet)
      if (simplify.ok) {
        pending.push(simplify.message.cacheId)
        if (phase === 3) capture.pings.push({ path: simplify.message.path, cacheId: simplify.message.cacheId, call: label })
      }
    }
    if (phase === 3 && !KEPT_PINGS.has(label)) return
    ;(capture.calls[`${phase}:${label}`] ??= []).push(hex(packet))
  })

  function confirmAll(): void {
    for (const cacheId of pending) ws.send(unwrap(encodeConfirmPath({ valid: true, cacheId })))
    pending = []
  }

  function endOfPhase(n: number): void {
    if (n === 1 || n === 3) {
      confirmAll()
      phase = n + 1
      ws.send(raw(`go${phase}`))
    } else if (n === 2) {
      // This side's turn: offer the path of Game, then call its methods.
      reverse = true
      ws.send(unwrap(encodeSimplifyPath({ checksum: GAME_METHODS.checksum, cacheId: OUR_CACHE_ID, path: 'Game' })))
      for (const call of OUR_CALLS) ws.send(unwrap(encodeRemoteCall(call, { wideNodeId: call.wide ?? false })))
      phase = 3
      ws.send(raw('go3'))
    } else {
      ws.send(raw('quit'))
    }
  }
}
