import { describe, expect, it } from 'vitest'
import {
  DropReason,
  FrameKind,
  ID_MESSAGE_SIZE,
  RAW_OVERHEAD,
  RELAY_OVERHEAD,
  SYS_HEADER_SIZE,
  SceneCommand,
  SysCommand,
  createSceneFrame,
  decodeIdMessage,
  decodeRelayedPacket,
  decodeSceneFrame,
  encodeIdMessage,
  encodeRawPacket,
  encodeRelayPacket,
  encodeSysCommand,
  rewriteSysPeer,
} from '@wsmp/core'

const hex = (text: string): Uint8Array =>
  Uint8Array.from(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((b) => parseInt(b, 16)),
  )
const toHex = (data: Uint8Array): string => [...data].map((b) => b.toString(16).padStart(2, '0')).join(' ')

describe('constants', () => {
  it("match Godot's SceneMultiplayer", () => {
    expect({ ...SceneCommand }).toEqual({ REMOTE_CALL: 0, SIMPLIFY_PATH: 1, CONFIRM_PATH: 2, RAW: 3, SPAWN: 4, DESPAWN: 5, SYNC: 6, SYS: 7 })
    expect({ ...SysCommand }).toEqual({ AUTH: 0, ADD_PEER: 1, DEL_PEER: 2, RELAY: 3 })
    expect(SYS_HEADER_SIZE).toBe(6)
    expect(RELAY_OVERHEAD).toBe(7)
    expect(RAW_OVERHEAD).toBe(1)
    expect(ID_MESSAGE_SIZE).toBe(4)
  })
})

describe('id message', () => {
  it('is the id as int32 little-endian', () => {
    expect(toHex(encodeIdMessage(2))).toBe('02 00 00 00')
    expect(toHex(encodeIdMessage(0x12345678))).toBe('78 56 34 12')
    expect(toHex(encodeIdMessage(0x7fffffff))).toBe('ff ff ff 7f')
  })

  it('decodes ids 2 … 2^31-1 and rejects everything else', () => {
    expect(decodeIdMessage(hex('02 00 00 00'))).toBe(2)
    expect(decodeIdMessage(hex('78 56 34 12'))).toBe(0x12345678)
    expect(decodeIdMessage(hex('ff ff ff 7f'))).toBe(0x7fffffff)
    expect(decodeIdMessage(hex('00 00 00 00'))).toBe(-1) // 0
    expect(decodeIdMessage(hex('01 00 00 00'))).toBe(-1) // 1 is the server
    expect(decodeIdMessage(hex('ff ff ff ff'))).toBe(-1) // -1
    expect(decodeIdMessage(hex('00 00 00 80'))).toBe(-1) // -2^31
    expect(decodeIdMessage(hex('02 00 00'))).toBe(-1) // too short
    expect(decodeIdMessage(hex('02 00 00 00 00'))).toBe(-1) // too long
    expect(decodeIdMessage(new Uint8Array(0))).toBe(-1)
  })
})

describe('encoders', () => {
  it('RAW: [0x03][payload]', () => {
    expect(toHex(encodeRawPacket(hex('aa bb cc')))).toBe('03 aa bb cc')
  })

  it('ADD_PEER and DEL_PEER: [0x07][cmd][int32 LE id]', () => {
    expect(toHex(encodeSysCommand(SysCommand.ADD_PEER, 0x01020304))).toBe('07 01 04 03 02 01')
    expect(toHex(encodeSysCommand(SysCommand.DEL_PEER, 5))).toBe('07 02 05 00 00 00')
  })

  it('RELAY: [0x07][0x03][int32 LE peer][0x03][payload]', () => {
    expect(toHex(encodeRelayPacket(0, hex('68 69')))).toBe('07 03 00 00 00 00 03 68 69')
    expect(toHex(encodeRelayPacket(-5, hex('ff')))).toBe('07 03 fb ff ff ff 03 ff')
    expect(toHex(encodeRelayPacket(0x7fffffff, hex('01')))).toBe('07 03 ff ff ff 7f 03 01')
  })

  it('rewriteSysPeer stamps a new id in place, leaving the rest', () => {
    const frame = hex('07 03 fb ff ff ff 03 aa')
    rewriteSysPeer(frame, 0x11223344)
    expect(toHex(frame)).toBe('07 03 44 33 22 11 03 aa')
  })
})

describe('decodeSceneFrame', () => {
  const decode = (text: string) => {
    const out = createSceneFrame()
    const kind = decodeSceneFrame(hex(text), out)
    expect(out.kind).toBe(kind)
    return out
  }

  it('a RAW packet: payload from offset 1', () => {
    expect(decode('03 aa bb')).toEqual({ kind: FrameKind.PACKET, peer: 0, offset: 1, reason: null })
  })

  it('reads the command as Godot does (byte & 0x07)', () => {
    // High bits are SceneMultiplayer's flags; 0x13 is still RAW, 0xf7 still SYS.
    expect(decode('13 aa').kind).toBe(FrameKind.PACKET)
    expect(decode('f7 01 09 00 00 00')).toMatchObject({ kind: FrameKind.ADD_PEER, peer: 9 })
  })

  it('ADD_PEER, DEL_PEER and RELAY carry the int32 LE peer', () => {
    expect(decode('07 01 04 03 02 01')).toEqual({ kind: FrameKind.ADD_PEER, peer: 0x01020304, offset: 6, reason: null })
    expect(decode('07 02 05 00 00 00')).toEqual({ kind: FrameKind.DEL_PEER, peer: 5, offset: 6, reason: null })
    expect(decode('07 03 fe ff ff ff 03 aa')).toEqual({ kind: FrameKind.RELAY, peer: -2, offset: 6, reason: null })
  })

  it('drops truncated frames as malformed', () => {
    expect(decode('')).toMatchObject({ kind: FrameKind.INVALID, reason: DropReason.MALFORMED })
    expect(decode('03')).toMatchObject({ kind: FrameKind.INVALID, reason: DropReason.MALFORMED }) // RAW without payload
    expect(decode('07')).toMatchObject({ kind: FrameKind.INVALID, reason: DropReason.MALFORMED })
    expect(decode('07 01 02 00 00')).toMatchObject({ kind: FrameKind.INVALID, reason: DropReason.MALFORMED })
    expect(decode('07 03 02 00 00 00')).toMatchObject({ kind: FrameKind.INVALID, reason: DropReason.MALFORMED }) // relay without packet
  })

  it('drops SYS commands it does not know; reads AUTH, and hands the other SceneMultiplayer commands on whole', () => {
    expect(decode('07 04 02 00 00 00')).toMatchObject({ kind: FrameKind.INVALID, reason: DropReason.UNKNOWN_COMMAND })
    expect(decode('07 ff 02 00 00 00')).toMatchObject({ kind: FrameKind.INVALID, reason: DropReason.UNKNOWN_COMMAND })
    expect(decode('07 00 61 75 74 68')).toMatchObject({ kind: FrameKind.AUTH, offset: 2 }) // auth data
    expect(decode('07 00')).toMatchObject({ kind: FrameKind.AUTH, offset: 2 }) // "completed"
    expect(decode('f7 00')).toMatchObject({ kind: FrameKind.AUTH, offset: 2 }) // flags ignored, as Godot masks
    expect(decode('07')).toMatchObject({ kind: FrameKind.INVALID, reason: DropReason.MALFORMED })
    for (const command of ['00', '01', '02', '04', '05', '06', '50', 'c0']) {
      expect(decode(`${command} 01 02 03 04 05 06`)).toMatchObject({ kind: FrameKind.COMMAND, offset: 0, peer: Number.parseInt(command, 16) & 7 })
    }
  })

  it('resets a reused frame object between calls', () => {
    const out = createSceneFrame()
    decodeSceneFrame(hex('07 03 09 00 00 00 03 aa'), out)
    decodeSceneFrame(hex('03'), out)
    expect(out).toEqual({ kind: FrameKind.INVALID, peer: 0, offset: 0, reason: DropReason.MALFORMED })
  })
})

describe('decodeRelayedPacket', () => {
  it('finds the payload of the inner RAW packet', () => {
    const data = hex('07 03 00 00 00 00 03 68 69')
    const out = createSceneFrame()
    decodeSceneFrame(data, out)
    expect(decodeRelayedPacket(data, out.offset, out)).toBe(7)
  })

  it('rejects an inner packet without payload and an inner SYS; finds an inner scene command whole', () => {
    const out = createSceneFrame()
    expect(decodeRelayedPacket(hex('07 03 00 00 00 00 03'), 6, out)).toBe(-1)
    expect(out.reason).toBe(DropReason.MALFORMED)
    expect(decodeRelayedPacket(hex('07 03 00 00 00 00 07 01 02'), 6, out)).toBe(-1) // a SYS inside
    expect(out.reason).toBe(DropReason.UNKNOWN_COMMAND)
    expect(decodeRelayedPacket(hex('07 03 00 00 00 00 00 01 02'), 6, out)).toBe(6) // an RPC inside
    expect(out).toMatchObject({ kind: FrameKind.COMMAND, peer: 0 })
  })

  it('round-trips what encodeRelayPacket makes', () => {
    const payload = hex('de ad be ef')
    const data = encodeRelayPacket(-7, payload)
    const out = createSceneFrame()
    expect(decodeSceneFrame(data, out)).toBe(FrameKind.RELAY)
    expect(out.peer).toBe(-7)
    const at = decodeRelayedPacket(data, out.offset, out)
    expect(toHex(data.subarray(at))).toBe('de ad be ef')
  })
})
