import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeConfirmPath, encodeVariant, rpcChecksum } from '../src/index.js'
import { FIXTURES_DIR, HAS_GODOT, NO_GODOT, UPDATE_FIXTURES, hex } from './engine.js'
import { GAME_METHODS, OUR_CACHE_ID, OUR_CALLS, captureGodotRpc, type Capture } from './rpc-capture.js'

/**
 * Live, against the real engine: a Godot 4 client's RPCs to a server on 127.0.0.1 (this test's
 * `ws` server playing peer 1) are what test/fixtures/rpc-capture.json holds, and the client runs
 * the RPCs this package encodes, with exactly the arguments sent. UPDATE_GODOT_FIXTURES=1 rewrites
 * the fixture from the engine.
 */

const FIXTURE = resolve(FIXTURES_DIR, 'rpc-capture.json')

/** What the fixture keeps of a capture. */
export type RpcFixture = Pick<Capture, 'calls' | 'confirmReply' | 'received'>

describe.skipIf(!HAS_GODOT)(HAS_GODOT ? 'Godot 4 engine, RPC and path cache (live)' : NO_GODOT, () => {
  it('sends the packets of test/fixtures/rpc-capture.json and runs the RPCs this package sends', async () => {
    const capture = await captureGodotRpc()
    expect(capture.errors).toEqual([])

    // Every one of the 300 nodes of phase 3 got the next cache id and offered its path.
    expect(capture.pings).toHaveLength(300)
    capture.pings.forEach((ping, i) => expect(ping).toEqual({ path: `Many/N${i}`, cacheId: i + 2, call: `ping_${i}` }))

    // Godot accepted this side's SIMPLIFY_PATH of Game: its checksum of Game's RPC names is ours.
    const confirm = encodeConfirmPath({ valid: true, cacheId: OUR_CACHE_ID })
    expect(confirm.ok && hex(confirm.bytes)).toBe('020107000000')
    expect(capture.confirmReply).toEqual(['020107000000'])

    // Game's methods got exactly what was sent: var_to_bytes of their arguments is encodeVariant's.
    expect(capture.received.map((r) => r.method)).toEqual(OUR_CALLS.map((c) => GAME_METHODS.name(c.method)))
    for (const [i, got] of capture.received.entries()) {
      const call = OUR_CALLS[i]!
      const sent = encodeVariant([...call.args])
      expect(sent.ok && hex(sent.bytes), call.label).toBe(got.args)
      expect(got.sender, call.label).toBe(1)
    }

    const fresh: RpcFixture = { calls: capture.calls, confirmReply: capture.confirmReply, received: capture.received }
    if (UPDATE_FIXTURES) writeFileSync(FIXTURE, JSON.stringify(fresh, null, 1) + '\n')
    expect(fresh).toEqual(JSON.parse(readFileSync(FIXTURE, 'utf8')))
    expect(rpcChecksum(['ping'])).toBe(Buffer.from(capture.calls['3:ping_0']![0]!, 'hex').subarray(1, 33).toString('latin1'))
  }, 40_000)
})
