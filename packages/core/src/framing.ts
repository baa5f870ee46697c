import { DropReason, MAX_PEER_ID } from './constants.js'

/**
 * How packets travel after the id message. `'scene'` (default) speaks Godot 4 SceneMultiplayer's
 * framing, relay and peer announcements included; `'raw'` sends every packet verbatim, client ↔
 * server only.
 */
export type Framing = 'scene' | 'raw'

/** The framings wsmp speaks. */
export const FRAMINGS: readonly Framing[] = ['scene', 'raw']

/** SceneMultiplayer's command numbers: the low three bits of a packet's first byte. */
export const SceneCommand = {
  /** An RPC. Godot: `NETWORK_COMMAND_REMOTE_CALL`. */
  REMOTE_CALL: 0,
  /** Godot: `NETWORK_COMMAND_SIMPLIFY_PATH`. */
  SIMPLIFY_PATH: 1,
  /** Godot: `NETWORK_COMMAND_CONFIRM_PATH`. */
  CONFIRM_PATH: 2,
  /** A raw packet (`send_bytes`). Godot: `NETWORK_COMMAND_RAW`. */
  RAW: 3,
  /** Godot: `NETWORK_COMMAND_SPAWN`. */
  SPAWN: 4,
  /** Godot: `NETWORK_COMMAND_DESPAWN`. */
  DESPAWN: 5,
  /** Godot: `NETWORK_COMMAND_SYNC`. */
  SYNC: 6,
  /** A system command (peers, relay, auth). Godot: `NETWORK_COMMAND_SYS`. */
  SYS: 7,
} as const

/** SceneMultiplayer's SYS sub-commands: `[0x07][cmd][int32 LE peer]…`. */
export const SysCommand = {
  /** Authentication: `[0x07][0x00][data…]`, or `[0x07][0x00]` for "this side completed". Godot: `SYS_COMMAND_AUTH`. */
  AUTH: 0,
  /** Server → client: a peer joined. Godot: `SYS_COMMAND_ADD_PEER`. */
  ADD_PEER: 1,
  /** Server → client: a peer left. Godot: `SYS_COMMAND_DEL_PEER`. */
  DEL_PEER: 2,
  /** A packet relayed through the server. Godot: `SYS_COMMAND_RELAY`. */
  RELAY: 3,
} as const

/** Bytes of an AUTH packet's header: `[0x07][0x00]`; its data follows. */
export const AUTH_HEADER_SIZE = 2
/** Bytes of a SYS header: command, sub-command, int32 peer id. */
export const SYS_HEADER_SIZE = 6
/** Bytes a relayed packet adds to its payload: `[0x07][0x03][int32 id][0x03]`. */
export const RELAY_OVERHEAD = SYS_HEADER_SIZE + 1
/** Bytes a direct packet adds to its payload: `[0x03]`. */
export const RAW_OVERHEAD = 1
/** The id message's size: one int32, little-endian. */
export const ID_MESSAGE_SIZE = 4

/** What {@link decodeSceneFrame} found. */
export const FrameKind = {
  /** Dropped: `frame.reason` says why. */
  INVALID: 0,
  /** `[0x03][payload]`: the payload starts at `frame.offset` (1). */
  PACKET: 1,
  /** `[0x07][0x01][id]`: peer `frame.peer` joined. */
  ADD_PEER: 2,
  /** `[0x07][0x02][id]`: peer `frame.peer` left. */
  DEL_PEER: 3,
  /** `[0x07][0x03][id][inner…]`: the inner packet starts at `frame.offset` (6). */
  RELAY: 4,
  /** `[0x07][0x00][data…]`: SceneMultiplayer auth; the data (maybe none) starts at `frame.offset` (2). */
  AUTH: 5,
  /**
   * Another SceneMultiplayer command (RPC, path cache, spawn, despawn, sync): the whole packet,
   * from `frame.offset` (0), is for the scene layer; `frame.peer` holds the command (0 … 6).
   */
  COMMAND: 6,
} as const
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind]

/** A decoded frame header. Decoders fill one caller-owned object, so decoding allocates nothing. */
export interface SceneFrame {
  /** What the message is; INVALID ones are dropped. */
  kind: FrameKind
  /** The SYS peer id (target or source of a relay, the peer of ADD/DEL), the command of a COMMAND; 0 otherwise. */
  peer: number
  /** Where the payload (PACKET), the inner packet (RELAY), the auth data (AUTH) or the command (COMMAND) starts. */
  offset: number
  /** Why an INVALID frame is dropped. */
  reason: DropReason | null
}

/** A fresh {@link SceneFrame} to pass to the decoders. */
export function createSceneFrame(): SceneFrame {
  return { kind: FrameKind.INVALID, peer: 0, offset: 0, reason: null }
}

function found(out: SceneFrame, kind: FrameKind, peer: number, offset: number): FrameKind {
  out.kind = kind
  out.peer = peer
  out.offset = offset
  out.reason = null
  return kind
}

function invalid(out: SceneFrame, reason: DropReason): FrameKind {
  out.kind = FrameKind.INVALID
  out.peer = 0
  out.offset = 0
  out.reason = reason
  return FrameKind.INVALID
}

function readInt32LE(data: Uint8Array, at: number): number {
  return ((data[at] as number) | ((data[at + 1] as number) << 8) | ((data[at + 2] as number) << 16) | ((data[at + 3] as number) << 24))
}

function writeInt32LE(data: Uint8Array, at: number, value: number): void {
  data[at] = value & 0xff
  data[at + 1] = (value >>> 8) & 0xff
  data[at + 2] = (value >>> 16) & 0xff
  data[at + 3] = (value >>> 24) & 0xff
}

/**
 * Reads one `'scene'` message header, as Godot does (command = `byte & 0x07`). Never throws; an
 * unusable message comes back as INVALID with a {@link DropReason}. Direction rules (who may send
 * ADD/DEL, what a relay may target) are the caller's.
 */
export function decodeSceneFrame(data: Uint8Array, out: SceneFrame): FrameKind {
  const length = data.length
  if (length === 0) return invalid(out, DropReason.MALFORMED)
  const command = (data[0] as number) & 0x07
  if (command === SceneCommand.RAW) return length < 2 ? invalid(out, DropReason.MALFORMED) : found(out, FrameKind.PACKET, 0, RAW_OVERHEAD)
  if (command !== SceneCommand.SYS) return found(out, FrameKind.COMMAND, command, 0)
  if (length < AUTH_HEADER_SIZE) return invalid(out, DropReason.MALFORMED)
  const sys = data[1] as number
  if (sys === SysCommand.AUTH) return found(out, FrameKind.AUTH, 0, AUTH_HEADER_SIZE)
  if (length < SYS_HEADER_SIZE) return invalid(out, DropReason.MALFORMED)
  if (sys === SysCommand.RELAY) {
    return length < SYS_HEADER_SIZE + 1 ? invalid(out, DropReason.MALFORMED) : found(out, FrameKind.RELAY, readInt32LE(data, 2), SYS_HEADER_SIZE)
  }
  if (sys === SysCommand.ADD_PEER) return found(out, FrameKind.ADD_PEER, readInt32LE(data, 2), SYS_HEADER_SIZE)
  if (sys === SysCommand.DEL_PEER) return found(out, FrameKind.DEL_PEER, readInt32LE(data, 2), SYS_HEADER_SIZE)
  return invalid(out, DropReason.UNKNOWN_COMMAND)
}

/**
 * Reads the packet inside a relay (`data` from `offset` on, as {@link decodeSceneFrame} left it),
 * as Godot processes it: a RAW packet with a payload is a PACKET, whose payload starts at the
 * returned offset; another scene command (RPC, path cache, replication) is a COMMAND starting at
 * `offset` (`out.peer` holds the command). Returns -1 for anything else (an inner SYS, a RAW
 * without payload), with `out.reason` saying why.
 */
export function decodeRelayedPacket(data: Uint8Array, offset: number, out: SceneFrame): number {
  if (data.length - offset < 2) {
    invalid(out, DropReason.MALFORMED)
    return -1
  }
  const command = (data[offset] as number) & 0x07
  if (command === SceneCommand.RAW) {
    found(out, FrameKind.PACKET, 0, offset + 1)
    return offset + 1
  }
  if (command === SceneCommand.SYS) {
    invalid(out, DropReason.UNKNOWN_COMMAND)
    return -1
  }
  found(out, FrameKind.COMMAND, command, offset)
  return offset
}

/** `[0x03][payload]`: a packet from the directly connected peer. */
export function encodeRawPacket(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + RAW_OVERHEAD)
  out[0] = SceneCommand.RAW
  out.set(payload, RAW_OVERHEAD)
  return out
}

/** `[0x07][0x00][data…]`: SceneMultiplayer auth data, or with no data "this side completed". */
export function encodeAuthPacket(data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(data.length + AUTH_HEADER_SIZE)
  out[0] = SceneCommand.SYS
  out[1] = SysCommand.AUTH
  out.set(data, AUTH_HEADER_SIZE)
  return out
}

/** `[0x07][cmd][int32 LE peer]`: ADD_PEER or DEL_PEER (server → client). */
export function encodeSysCommand(command: number, peer: number): Uint8Array {
  const out = new Uint8Array(SYS_HEADER_SIZE)
  out[0] = SceneCommand.SYS
  out[1] = command
  writeInt32LE(out, 2, peer)
  return out
}

/**
 * `[0x07][0x03][int32 LE peer][0x03][payload]`: a relayed packet. Client → server `peer` is the
 * target (0 all, −n all but n, >1 one peer); server → client it is the source.
 */
export function encodeRelayPacket(peer: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + RELAY_OVERHEAD)
  out[0] = SceneCommand.SYS
  out[1] = SysCommand.RELAY
  writeInt32LE(out, 2, peer)
  out[SYS_HEADER_SIZE] = SceneCommand.RAW
  out.set(payload, RELAY_OVERHEAD)
  return out
}

/**
 * `[0x07][0x03][int32 LE peer][packet]`: any SceneMultiplayer packet (an RPC, a path-cache message)
 * in a RELAY, as Godot's `send_command` wraps what a client sends to anyone but the server.
 */
export function encodeRelayCommand(peer: number, packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(packet.length + SYS_HEADER_SIZE)
  out[0] = SceneCommand.SYS
  out[1] = SysCommand.RELAY
  writeInt32LE(out, 2, peer)
  out.set(packet, SYS_HEADER_SIZE)
  return out
}

/** Overwrites the int32 peer id of a SYS message in place (how the server stamps a relay's source). */
export function rewriteSysPeer(data: Uint8Array, peer: number): void {
  writeInt32LE(data, 2, peer)
}

/** The id message: the client's id as one int32, little-endian. */
export function encodeIdMessage(id: number): Uint8Array {
  const out = new Uint8Array(ID_MESSAGE_SIZE)
  writeInt32LE(out, 0, id)
  return out
}

/** Reads an id message: the id (2 … 2^31−1), or -1 when the message is not exactly that. */
export function decodeIdMessage(data: Uint8Array): number {
  if (data.length !== ID_MESSAGE_SIZE) return -1
  const id = readInt32LE(data, 0)
  return id >= 2 && id <= MAX_PEER_ID ? id : -1
}
