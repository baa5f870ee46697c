import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  DropReason,
  FrameKind,
  ID_MESSAGE_SIZE,
  MAX_PEER_ID,
  RAW_OVERHEAD,
  RELAY_OVERHEAD,
  SYS_HEADER_SIZE,
  SceneCommand,
  SysCommand,
  createSceneFrame,
  decodeIdMessage,
  decodeRelayedPacket,
  decodeSceneFrame,
  encodeAuthPacket,
  encodeIdMessage,
  encodeRawPacket,
  encodeRelayCommand,
  encodeRelayPacket,
  encodeSysCommand,
  rewriteSysPeer,
  type SceneFrame,
} from '../src/index.js'

/**
 * Property-based tests of the `'scene'` framing decoders: any bytes in, a frame or a typed
 * drop reason out, never an exception; and encode → decode round trips.
 */

const RUNS = { numRuns: 2000 }
const DROP_REASONS = new Set<string>(Object.values(DropReason))

/** Bytes that often look like framing: a command byte, a SYS sub-command, a few more bytes. */
const frameLike = fc.oneof(
  fc.uint8Array({ maxLength: 32 }),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 12 })).map(([cmd, sys, rest]) => Uint8Array.from([cmd, sys, ...rest])),
  fc
    .tuple(
      fc.constantFrom(SceneCommand.SYS, SceneCommand.SYS | 0xf8, SceneCommand.RAW, SceneCommand.RAW | 0x08),
      fc.constantFrom(0, 1, 2, 3, 4, 255),
      fc.uint8Array({ maxLength: 8 }),
    )
    .map(([cmd, sys, rest]) => Uint8Array.from([cmd, sys, ...rest])),
)

/** int32 peer ids, biased towards the interesting ones (0, 1, −1, the bounds). */
const int32 = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(0, 1, -1, 2, MAX_PEER_ID, -0x80000000))

function readInt32LE(data: Uint8Array, at: number): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getInt32(at, true)
}

/** An oracle written from DESIGN.md's framing rules (Godot's SceneMultiplayer), independent of framing.ts. */
function expectedFrame(data: Uint8Array): { kind: FrameKind; reason: DropReason | null; peer: number; offset: number } {
  const bad = (reason: DropReason) => ({ kind: FrameKind.INVALID, reason, peer: 0, offset: 0 })
  if (data.length === 0) return bad(DropReason.MALFORMED)
  const cmd = data[0]! & 0x07
  if (cmd === 3) return data.length >= 2 ? { kind: FrameKind.PACKET, reason: null, peer: 0, offset: 1 } : bad(DropReason.MALFORMED)
  // RPC, path cache, replication: the whole packet is the scene layer's.
  if (cmd !== 7) return { kind: FrameKind.COMMAND, reason: null, peer: cmd, offset: 0 }
  if (data.length < 2) return bad(DropReason.MALFORMED)
  // AUTH: [0x07][0x00] alone ("completed") or followed by data.
  if (data[1] === 0) return { kind: FrameKind.AUTH, reason: null, peer: 0, offset: 2 }
  if (data.length < 6) return bad(DropReason.MALFORMED)
  const sys = data[1]!
  const peer = readInt32LE(data, 2)
  if (sys === 3) return data.length >= 7 ? { kind: FrameKind.RELAY, reason: null, peer, offset: 6 } : bad(DropReason.MALFORMED)
  if (sys === 1) return { kind: FrameKind.ADD_PEER, reason: null, peer, offset: 6 }
  if (sys === 2) return { kind: FrameKind.DEL_PEER, reason: null, peer, offset: 6 }
  return bad(DropReason.UNKNOWN_COMMAND)
}

describe('decodeSceneFrame (property)', () => {
  it('never throws and classifies any bytes as the framing rules say', () => {
    const frame = createSceneFrame()
    fc.assert(
      fc.property(frameLike, (data) => {
        const copy = data.slice()
        const kind = decodeSceneFrame(data, frame)
        expect(kind).toBe(frame.kind)
        expect({ kind: frame.kind, reason: frame.reason, peer: frame.peer, offset: frame.offset }).toEqual(expectedFrame(data))
        if (frame.kind === FrameKind.INVALID) expect(DROP_REASONS.has(frame.reason as string)).toBe(true)
        else expect(frame.offset).toBeLessThan(data.length + (frame.kind === FrameKind.RELAY || frame.kind === FrameKind.PACKET || frame.kind === FrameKind.COMMAND ? 0 : 1))
        // Decoding reads only: the bytes are untouched.
        expect(data).toEqual(copy)
      }),
      RUNS,
    )
  })

  it('gives the same answer whatever the frame object held before (no state leaks between calls)', () => {
    fc.assert(
      fc.property(frameLike, frameLike, (first, second) => {
        const reused = createSceneFrame()
        decodeSceneFrame(first, reused)
        decodeSceneFrame(second, reused)
        const fresh = createSceneFrame()
        decodeSceneFrame(second, fresh)
        expect(reused).toEqual(fresh)
      }),
      RUNS,
    )
  })

  it('reads a frame at any byte offset of a larger buffer (subarrays, Node Buffers)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), frameLike, (prefix, data) => {
        const joined = new Uint8Array(prefix.length + data.length)
        joined.set(prefix)
        joined.set(data, prefix.length)
        const view = joined.subarray(prefix.length)
        const a = createSceneFrame()
        const b = createSceneFrame()
        decodeSceneFrame(view, a)
        decodeSceneFrame(Buffer.from(data), b)
        expect(a).toEqual(expectedFrame(data))
        expect(b).toEqual(expectedFrame(data))
      }),
      RUNS,
    )
  })
})

describe('decodeRelayedPacket (property)', () => {
  it('never throws: the payload of a RAW inner packet, the start of a scene command, or -1 with a reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.integer({ min: 0, max: 30 }), (data, offset) => {
        const frame = createSceneFrame()
        const at = decodeRelayedPacket(data, offset, frame)
        const rest = data.length - offset
        if (rest < 2) {
          expect(at).toBe(-1)
          expect(frame.reason).toBe(DropReason.MALFORMED)
        } else if ((data[offset]! & 0x07) === SceneCommand.SYS) {
          // Godot: an inner SYS is "Invalid network command".
          expect(at).toBe(-1)
          expect(frame.reason).toBe(DropReason.UNKNOWN_COMMAND)
        } else if ((data[offset]! & 0x07) !== SceneCommand.RAW) {
          expect(at).toBe(offset)
          expect(frame.kind).toBe(FrameKind.COMMAND)
          expect(frame.peer).toBe(data[offset]! & 0x07)
        } else {
          expect(at).toBe(offset + 1)
          expect(frame.kind).toBe(FrameKind.PACKET)
          expect(at).toBeLessThan(data.length)
        }
      }),
      RUNS,
    )
  })

  it('after decodeSceneFrame, finds the payload of every relay', () => {
    fc.assert(
      fc.property(frameLike, (data) => {
        const frame = createSceneFrame()
        if (decodeSceneFrame(data, frame) !== FrameKind.RELAY) return
        const at = decodeRelayedPacket(data, frame.offset, frame)
        if (at >= 0) {
          const inner = data[SYS_HEADER_SIZE]! & 0x07
          expect(inner).not.toBe(SceneCommand.SYS)
          expect(at).toBe(inner === SceneCommand.RAW ? RELAY_OVERHEAD : SYS_HEADER_SIZE)
          expect(data.length).toBeGreaterThan(RELAY_OVERHEAD)
        } else {
          expect(DROP_REASONS.has(frame.reason as string)).toBe(true)
        }
      }),
      RUNS,
    )
  })
})

describe('decodeIdMessage (property)', () => {
  it('never throws: the id for exactly 4 bytes holding 2 … 2^31−1, else -1', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 4, maxLength: 4 })), (data) => {
        const id = decodeIdMessage(data)
        if (data.length !== ID_MESSAGE_SIZE) {
          expect(id).toBe(-1)
          return
        }
        const value = readInt32LE(data, 0)
        expect(id).toBe(value >= 2 ? value : -1)
      }),
      RUNS,
    )
  })

  it('round trips every valid id and rejects every other int32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: MAX_PEER_ID }), (id) => {
        const message = encodeIdMessage(id)
        expect(message.length).toBe(ID_MESSAGE_SIZE)
        expect(decodeIdMessage(message)).toBe(id)
      }),
      RUNS,
    )
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 1 }), (id) => {
        expect(decodeIdMessage(encodeIdMessage(id))).toBe(-1)
      }),
      RUNS,
    )
  })
})

describe('encoders round trip through the decoders (property)', () => {
  it('encodeRawPacket → PACKET with the same payload (for any non-empty payload)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (payload) => {
        const frame = createSceneFrame()
        const data = encodeRawPacket(payload)
        expect(data.length).toBe(payload.length + RAW_OVERHEAD)
        expect(decodeSceneFrame(data, frame)).toBe(FrameKind.PACKET)
        expect(data.subarray(frame.offset)).toEqual(payload)
      }),
      RUNS,
    )
  })

  it('encodeRawPacket of nothing is the lone [0x03], which decodes as MALFORMED', () => {
    const frame = createSceneFrame()
    expect(decodeSceneFrame(encodeRawPacket(new Uint8Array(0)), frame)).toBe(FrameKind.INVALID)
    expect(frame.reason).toBe(DropReason.MALFORMED)
  })

  it('encodeRelayPacket → RELAY with the peer and, inside, the same payload', () => {
    fc.assert(
      fc.property(int32, fc.uint8Array({ minLength: 1, maxLength: 64 }), (peer, payload) => {
        const frame = createSceneFrame()
        const data = encodeRelayPacket(peer, payload)
        expect(data.length).toBe(payload.length + RELAY_OVERHEAD)
        expect(decodeSceneFrame(data, frame)).toBe(FrameKind.RELAY)
        expect(frame.peer).toBe(peer)
        const at = decodeRelayedPacket(data, frame.offset, frame)
        expect(at).toBe(RELAY_OVERHEAD)
        expect(data.subarray(at)).toEqual(payload)
      }),
      RUNS,
    )
  })

  it('rewriteSysPeer stamps any peer into a relay and changes nothing else', () => {
    fc.assert(
      fc.property(int32, int32, fc.uint8Array({ minLength: 1, maxLength: 32 }), (target, source, payload) => {
        const frame = createSceneFrame()
        const data = encodeRelayPacket(target, payload)
        rewriteSysPeer(data, source)
        expect(data).toEqual(encodeRelayPacket(source, payload))
        expect(decodeSceneFrame(data, frame)).toBe(FrameKind.RELAY)
        expect(frame.peer).toBe(source)
      }),
      RUNS,
    )
  })

  it('encodeSysCommand(ADD_PEER / DEL_PEER) → the same kind and peer', () => {
    fc.assert(
      fc.property(fc.constantFrom(SysCommand.ADD_PEER, SysCommand.DEL_PEER), int32, (command, peer) => {
        const frame: SceneFrame = createSceneFrame()
        const data = encodeSysCommand(command, peer)
        expect(data.length).toBe(SYS_HEADER_SIZE)
        expect(decodeSceneFrame(data, frame)).toBe(command === SysCommand.ADD_PEER ? FrameKind.ADD_PEER : FrameKind.DEL_PEER)
        expect(frame.peer).toBe(peer)
      }),
      RUNS,
    )
  })

  it('encodeSysCommand of any other sub-command decodes as a typed drop (AUTH as auth data), never a peer frame', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }).filter((c) => c !== 1 && c !== 2),
        int32,
        (command, peer) => {
          const frame = createSceneFrame()
          if (command === SysCommand.AUTH) {
            // AUTH carries data after [0x07][0x00], whatever it is.
            expect(decodeSceneFrame(encodeSysCommand(command, peer), frame)).toBe(FrameKind.AUTH)
            expect(frame.offset).toBe(2)
            return
          }
          expect(decodeSceneFrame(encodeSysCommand(command, peer), frame)).toBe(FrameKind.INVALID)
          // RELAY needs an inner packet.
          expect(frame.reason).toBe(command === SysCommand.RELAY ? DropReason.MALFORMED : DropReason.UNKNOWN_COMMAND)
        },
      ),
      RUNS,
    )
  })

  it('encodeAuthPacket decodes as AUTH with its data after the two header bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (data) => {
        const packet = encodeAuthPacket(data)
        const frame = createSceneFrame()
        expect(decodeSceneFrame(packet, frame)).toBe(FrameKind.AUTH)
        expect(packet.subarray(frame.offset)).toEqual(data)
      }),
      RUNS,
    )
  })

  it('encodeRelayCommand wraps any scene packet so that decodeRelayedPacket finds it whole', () => {
    fc.assert(
      fc.property(
        int32,
        fc.integer({ min: 0, max: 6 }).filter((c) => c !== 3),
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        (peer, command, body) => {
          const packet = Uint8Array.from([command, ...body])
          const relay = encodeRelayCommand(peer, packet)
          const frame = createSceneFrame()
          expect(decodeSceneFrame(relay, frame)).toBe(FrameKind.RELAY)
          expect(frame.peer).toBe(peer)
          const at = decodeRelayedPacket(relay, frame.offset, frame)
          expect(frame.kind).toBe(FrameKind.COMMAND)
          expect(relay.subarray(at)).toEqual(packet)
        },
      ),
      RUNS,
    )
  })
})
