#!/usr/bin/env node
// Encode/decode throughput of a typical game state: Godot's Variant codec (@wsmp/godot) beside
// @msgpack/msgpack 3.1.3 and wsmp's own MessagePack (`encodeVar`/`decodeVar` in @wsmp/core, what
// putVar uses by default). Not part of the tests.
//
//   pnpm run build && node bench/variant.mjs [--rounds N] [--ms N]
//
// The state: a tick counter and 32 players, each {id, position, velocity, hp, name}. With the
// Godot codec positions are Vector2 (float32 pairs, as Godot sends them); for MessagePack they are
// {x, y} objects, the usual JS shape. One more row times the RPC a SceneRpc server sends for a
// state broadcast (examples/godot-authoritative): REMOTE_CALL state(tick, {id: Vector2} × 32),
// encodeRemoteCall / decodeRemoteCall with a cached node id (a smaller payload: positions only). Each measurement runs for --ms milliseconds (default 300)
// after a warm-up; the table shows the median of --rounds rounds (default 5). Time is bounded:
// about rounds × 6 × ms.
import { Decoder, Encoder } from '@msgpack/msgpack'
import { decodeVar, encodeVar } from '@wsmp/core'
import { RpcMethods, Vector2, decodeRemoteCall, decodeVariant, encodeRemoteCall, encodeVariant } from '@wsmp/godot'
import os from 'node:os'

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 && at + 1 < args.length ? Number(args[at + 1]) : fallback
}
const ROUNDS = Math.max(1, Math.min(option('rounds', 5), 50))
const MS = Math.max(20, Math.min(option('ms', 300), 5_000))
const PLAYERS = 32

/** The game state, with `vector` making each position/velocity. */
function gameState(vector) {
  const players = []
  for (let i = 0; i < PLAYERS; i++) {
    players.push({
      id: 1000 + i,
      position: vector(100.5 + i * 3.25, 200.25 - i * 1.5),
      velocity: vector(i % 2 ? -1.5 : 2.25, 0.5),
      hp: 100 - i,
      name: `player_${i}`,
    })
  }
  return { tick: 123456, players }
}

const godotState = gameState((x, y) => new Vector2(x, y))
const plainState = gameState((x, y) => ({ x, y }))

/** The example's state RPC: Game's methods, and the positions of the 32 players. */
const gameMethods = new RpcMethods(['chat', 'move', 'player_left', 'say', 'state', 'welcome'])
const stateCall = {
  node: 1,
  method: gameMethods.id('state'),
  args: [123456, new Map(godotState.players.map((p) => [p.id, p.position]))],
}

const msgpackEncoder = new Encoder()
const msgpackDecoder = new Decoder()

/** Throws unless `result` is ok; returns its bytes or value. */
function unwrap(result) {
  if (!result.ok) throw new Error(result.reason)
  return result.bytes ?? result.value
}

const codecs = [
  {
    name: '@wsmp/godot (Variant)',
    encode: () => unwrap(encodeVariant(godotState)),
    decode: (bytes) => unwrap(decodeVariant(bytes)),
  },
  {
    name: '@msgpack/msgpack 3.1.3',
    encode: () => msgpackEncoder.encode(plainState),
    decode: (bytes) => msgpackDecoder.decode(bytes),
  },
  {
    name: '@wsmp/core encodeVar (MessagePack)',
    encode: () => unwrap(encodeVar(plainState)),
    decode: (bytes) => unwrap(decodeVar(bytes)),
  },
  {
    name: '@wsmp/godot RPC state(tick, positions)',
    encode: () => unwrap(encodeRemoteCall(stateCall)),
    decode: (bytes) => {
      const result = decodeRemoteCall(bytes)
      if (!result.ok) throw new Error(result.reason)
      return result.call
    },
    players: (call) => [...call.args[1].values()],
  },
]

/** Operations per second of `fn` over about MS milliseconds. */
function opsPerSecond(fn) {
  let sink = 0
  let ops = 0
  const started = performance.now()
  let now = started
  while (now - started < MS) {
    for (let i = 0; i < 100; i++) sink ^= typeof fn() === 'object' ? 1 : 0
    ops += 100
    now = performance.now()
  }
  if (sink === 2) console.log('')
  return (ops * 1000) / (now - started)
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

// Check each codec round-trips the state before timing it.
for (const codec of codecs) {
  const back = codec.decode(codec.encode())
  const players = codec.players ? codec.players(back) : back instanceof Map ? back.get('players') : back.players
  if (!players || players.length !== PLAYERS) throw new Error(`${codec.name} did not round-trip the state`)
}

const rows = codecs.map((codec) => {
  const bytes = codec.encode()
  // Warm-up, so the JIT has compiled both paths before the first round.
  opsPerSecond(codec.encode)
  opsPerSecond(() => codec.decode(bytes))
  const encodes = []
  const decodes = []
  for (let r = 0; r < ROUNDS; r++) {
    encodes.push(opsPerSecond(codec.encode))
    decodes.push(opsPerSecond(() => codec.decode(bytes)))
  }
  return { name: codec.name, bytes: bytes.length, encode: median(encodes), decode: median(decodes) }
})

const fmt = (n) => Math.round(n).toLocaleString('en-US')
const header = ['codec', 'bytes', 'encode ops/s', 'decode ops/s', 'encode MB/s', 'decode MB/s']
const table = rows.map((r) => [r.name, String(r.bytes), fmt(r.encode), fmt(r.decode), ((r.encode * r.bytes) / 1e6).toFixed(1), ((r.decode * r.bytes) / 1e6).toFixed(1)])
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)))
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')

console.log(`Game state: tick + ${PLAYERS} players {id, position, velocity, hp, name}; median of ${ROUNDS} rounds of ${MS} ms`)
console.log(`(the RPC row: the REMOTE_CALL of state(tick, {id: Vector2} × ${PLAYERS}), as a SceneRpc server broadcasts it)`)
console.log(`Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}`)
console.log('')
console.log(line(header))
console.log(line(widths.map((w) => '-'.repeat(w))))
for (const row of table) console.log(line(row))
