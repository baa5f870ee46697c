// Godot's Variant encoding through putVar/getVar with @wsmp/godot's godotVarCodec, against the real
// engine: every value of packages/godot/test/fixtures/variants.json (one case per Variant type and
// edge, written by Godot's own var_to_bytes) goes from a wsmp peer to a Godot peer with putVar and
// comes back from Godot's var_to_bytes through getVar.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect } from 'vitest'
import { ConnectionStatus, ErrorCode, WebSocketMultiplayerPeer } from '@wsmp/server'
import { godotVarCodec } from '@wsmp/godot'
import { expectedValue, same, show, withoutFloats, zeroUnwritten, type VectorEntry } from '../../packages/godot/test/expected.js'
import { GodotPeer, fromHex, godotIt, repoRoot, toHex, until, type GodotEvent } from './support/godot.js'

const vectors = JSON.parse(readFileSync(resolve(repoRoot, 'packages/godot/test/fixtures/variants.json'), 'utf8')) as VectorEntry[]
/**
 * Cases holding an object as its id (EncodedObjectAsID): Godot reads them into a new
 * EncodedObjectAsID object, whose var_to_bytes writes that object's own instance id instead of the
 * one it carries: what comes back has the same shape with another id.
 */
const OBJECT_IDS = new Set(['object', 'array_typed_node'])

/** A wsmp peer using Godot's Variant encoding for putVar/getVar, polled by the test. */
function godotVarPeer(): WebSocketMultiplayerPeer {
  return new WebSocketMultiplayerPeer({ logger: null, varCodec: godotVarCodec })
}

async function varRoundTrip(direction: 'to godot' | 'back'): Promise<void> {
  const server = godotVarPeer()
  try {
    expect(await server.createServer(0, '127.0.0.1')).toBe(ErrorCode.OK)
    const godot = await GodotPeer.client('godot client', `ws://127.0.0.1:${server.getLocalPort()}`, { vars: 1 })
    let joined = 0
    server.on('peer_connected', (id) => (joined = id))
    await until(() => {
      server.poll()
      return joined !== 0
    }, 'the Godot client at the server')
    server.setTargetPeer(joined)
    for (const entry of vectors) expect(server.putVar(expectedValue(entry)), entry.name).toBe(ErrorCode.OK)

    if (direction === 'to godot') {
      // Godot's bytes_to_var of what putVar sent is Godot's own value: var_to_bytes gives its bytes.
      await until(() => godot.all('var').length === vectors.length, `${vectors.length} values at Godot`)
      const seen = godot.all('var')
      for (const [i, entry] of vectors.entries()) {
        if (OBJECT_IDS.has(entry.name)) continue
        const event = seen[i] as GodotEvent
        expect(toHex(zeroUnwritten(fromHex(event.hex as string), entry.unwritten)), entry.name).toBe(toHex(zeroUnwritten(fromHex(entry.hex), entry.unwritten)))
      }
      return
    }
    // Godot sends each value back with send_bytes(var_to_bytes(value)); getVar reads it.
    const got: unknown[] = []
    await until(() => {
      server.poll()
      while (server.getAvailablePacketCount() > 0) {
        const value = server.getVar()
        expect(server.getPacketError(), `value ${got.length}`).toBe(ErrorCode.OK)
        got.push(value)
      }
      return got.length === vectors.length
    }, `${vectors.length} values back from Godot`)
    for (const [i, entry] of vectors.entries()) {
      const expected = withoutFloats(expectedValue(entry))
      // An object id comes back as the id of Godot's EncodedObjectAsID itself: same shape, another id.
      if (OBJECT_IDS.has(entry.name)) expect(show(got[i]).replace(/\d+n/g, 'ID'), entry.name).toBe(show(expected).replace(/\d+n/g, 'ID'))
      else expect(same(got[i], expected), `${entry.name}: got ${show(got[i])}`).toBe(true)
    }
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.CONNECTED)
  } finally {
    server.close()
  }
}

describe('godot-live: Variants through putVar/getVar (godotVarCodec)', () => {
  godotIt(`wsmp putVar → Godot bytes_to_var: every case of variants.json (${vectors.length}) is Godot’s own value (its var_to_bytes gives Godot’s bytes)`, () =>
    varRoundTrip('to godot'),
  )
  godotIt(`Godot var_to_bytes → wsmp getVar: every case comes back equal (${vectors.length} values)`, () => varRoundTrip('back'))
})
