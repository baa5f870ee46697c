// SceneMultiplayer's RPC and path-cache packets, as pure functions over bytes: REMOTE_CALL (an RPC
// with its compressed arguments), SIMPLIFY_PATH (a node path offered for caching, with the MD5 of
// the node's RPC names) and CONFIRM_PATH (the answer). Checked against packets a real Godot 4 peer
// sends and reads.

import { DEFAULT_ENCODE_BUFFER_MAX_SIZE, ErrorCode, SceneCommand, type EncodeVarResult } from '@wsmp/core'
import { CodecFailure, Reader, Writer, fail } from './bytes.js'
import { md5Hex } from './md5.js'
import { VariantType } from './variant-type.js'
import {
  VariantReader,
  checkInput,
  encodeWith,
  variantTypeOf,
  writeVariant,
  type DecodeVariantAtResult,
  type DecodeVariantOptions,
} from './variant-codec.js'

// ---- compressed Variants (RPC arguments) ------------------------------------------------------

/** Byte 0 of a compressed Variant: the type in bits 0–5, the int width (or the bool) in bits 6–7. */
const META_TYPE_MASK = 0x3f
const META_BOOL = 0x80
const ENCODE_8 = 0 << 6
const ENCODE_16 = 1 << 6
const ENCODE_32 = 2 << 6
const ENCODE_64 = 3 << 6

/** Writes one compressed Variant at the writer's position. */
function writeCompressed(w: Writer, value: unknown): void {
  if (typeof value === 'boolean') return w.u8((value ? META_BOOL : 0) | VariantType.BOOL)
  if ((typeof value === 'number' || typeof value === 'bigint') && variantTypeOf(value) === VariantType.INT) {
    const n = BigInt(value)
    if (n >= -0x80n && n <= 0x7fn) {
      w.u8(ENCODE_8 | VariantType.INT)
      return w.u8(Number(n) & 0xff)
    }
    if (n >= -0x8000n && n <= 0x7fffn) {
      w.u8(ENCODE_16 | VariantType.INT)
      return w.u16(Number(n) & 0xffff)
    }
    if (n >= -0x80000000n && n <= 0x7fffffffn) {
      w.u8(ENCODE_32 | VariantType.INT)
      return w.i32(Number(n))
    }
    w.u8(ENCODE_64 | VariantType.INT)
    return w.u64(n)
  }
  // Anything else is the plain encoding (whose first byte already is the type); its padding
  // counts from its own start.
  const base = w.base
  w.base = w.pos
  writeVariant(w, value, 0)
  w.base = base
}

/**
 * Encodes a value as SceneMultiplayer encodes an RPC argument: bools in one byte, ints in the
 * fewest of 1, 2, 4 or 8 bytes after a type byte, everything else as {@link encodeVariant} does.
 *
 * Godot: `MultiplayerAPI::encode_and_compress_variant`.
 */
export function encodeCompressedVariant(value: unknown, maxSize: number = DEFAULT_ENCODE_BUFFER_MAX_SIZE): EncodeVarResult {
  return encodeWith((w) => writeCompressed(w, value), maxSize, 'encodeCompressedVariant')
}

/** Reads one compressed Variant at the reader's position; returns it and sets `r.type`. */
function readCompressed(r: VariantReader): unknown {
  r.need(1, 'compressed Variant')
  const meta = r.src[r.pos] as number
  const type = meta & META_TYPE_MASK
  if (type >= 39) fail(ErrorCode.ERR_INVALID_DATA, `unknown Variant type ${type} in compressed Variant at offset ${r.pos}`)
  if (type === VariantType.BOOL) {
    r.pos++
    r.type = VariantType.BOOL
    return (meta & META_BOOL) !== 0
  }
  if (type === VariantType.INT) {
    r.pos++
    r.type = VariantType.INT
    switch (meta & 0xc0) {
      case ENCODE_8:
        r.need(1, 'int8')
        return (r.u8() << 24) >> 24
      case ENCODE_16:
        r.need(2, 'int16')
        return (r.u16() << 16) >> 16
      case ENCODE_32:
        r.need(4, 'int32')
        return r.i32()
      default:
        r.need(8, 'int64')
        return r.i64()
    }
  }
  // The plain encoding: Godot reads the whole first byte as the type, so width bits there fail.
  return r.variant(0)
}

/**
 * Decodes one compressed Variant (an RPC argument) at `offset`, reporting its length. Never throws.
 *
 * Godot: `MultiplayerAPI::decode_and_decompress_variant` (allow_objects = false).
 */
export function decodeCompressedVariant(bytes: Uint8Array, offset = 0, options?: DecodeVariantOptions): DecodeVariantAtResult {
  const bad = checkInput(bytes, offset, 'decodeCompressedVariant')
  if (bad) return bad
  const r = new VariantReader(bytes, offset, bytes.length)
  r.exactFloats = options?.exactFloats ?? false
  try {
    const value = readCompressed(r)
    return { ok: true, value, type: r.type, length: r.pos - offset }
  } catch (err) {
    return failure('decodeCompressedVariant', err)
  }
}

function failure(what: string, err: unknown): { ok: false; error: ErrorCode; reason: string } {
  if (err instanceof CodecFailure) return { ok: false, error: err.code, reason: `${what}: ${err.reason}` }
  return { ok: false, error: ErrorCode.ERR_BUG, reason: `${what}: internal error: ${(err as Error)?.message ?? String(err)}` }
}

// ---- REMOTE_CALL -----------------------------------------------------------------------------

/** REMOTE_CALL byte 0, bits 4–5: the node id's width (0: 1 byte, 1: 2 bytes, 2: 4 bytes). */
const NODE_ID_SHIFT = 4
/** REMOTE_CALL byte 0, bit 6: the method id's width (0: 1 byte, 1: 2 bytes). */
const METHOD_ID_SHIFT = 6
/** REMOTE_CALL byte 0, bit 7: no argument count; the rest is one PackedByteArray, or nothing. */
const BYTE_ONLY_OR_NO_ARGS = 0x80
/** The node id of a node named by path: this bit and the offset of the path in the packet. */
const PATH_FLAG = 0x80000000
/** At most this many arguments (the count is one byte). */
export const MAX_RPC_ARGS = 255

/** An RPC: which node, which method, which arguments. */
export interface RemoteCall {
  /**
   * The node: its path-cache id (a number, from the sender's SIMPLIFY_PATH), or — while the
   * receiver has not confirmed that id — its path relative to the multiplayer root (a string,
   * `'Game/Player'`), which the packet then carries at its end.
   */
  node: number | string
  /**
   * The method: its index in the node's RPC names sorted by code point; bit 15 set for methods
   * configured on the node itself (`rpc_config`) rather than by its script. See {@link RpcMethods}.
   */
  method: number
  /** The arguments, as {@link encodeVariant} takes them. */
  args: readonly unknown[]
}

/** A decoded REMOTE_CALL, with the widths it used (so it can be written back the same). */
export interface DecodedRemoteCall extends RemoteCall {
  /** Bytes of the node id: 1, 2 or 4 (a path always comes with 4). */
  nodeIdBytes: 1 | 2 | 4
  /** Bytes of the method id: 1 or 2. */
  methodIdBytes: 1 | 2
}

/** Options of {@link encodeRemoteCall}. */
export interface EncodeRemoteCallOptions {
  /**
   * Writes a numeric node id in 4 bytes whatever its size. Godot does so when an RPC goes to
   * several peers and some have not confirmed the path yet: those that have get the id in 4 bytes.
   * Defaults to false (the fewest bytes, as Godot when every target confirmed).
   */
  wideNodeId?: boolean
  /** The largest packet to write. Defaults to 8 MiB. */
  maxSize?: number
}

/** The outcome of {@link decodeRemoteCall}. */
export type DecodeRemoteCallResult =
  | {
      /** Decoded. */
      ok: true
      /** The call. */
      call: DecodedRemoteCall
    }
  | {
      /** Not a valid REMOTE_CALL. */
      ok: false
      /** `ERR_INVALID_DATA`, or the error of an argument that does not decode. */
      error: ErrorCode
      /** Why, in words. */
      reason: string
    }

function checkUint(value: unknown, max: number, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    fail(ErrorCode.ERR_INVALID_PARAMETER, `${what} must be an integer in 0 … ${max}, got ${String(value)}`)
  }
}

/**
 * Encodes an RPC as a SceneMultiplayer REMOTE_CALL packet (byte 0 is the command), byte for byte
 * as Godot's `_send_rpc` writes it: byte 0 holds the node- and method-id widths and the
 * "byte-only or no args" bit; then the node id (or `0x80000000 | offset` of the path appended at
 * the end), the method id, the argument count and the compressed arguments. No arguments, or one
 * `Uint8Array` alone, go without a count (the bytes raw).
 *
 * Godot: `SceneRPCInterface::_send_rpc`.
 */
export function encodeRemoteCall(call: RemoteCall, options: EncodeRemoteCallOptions = {}): EncodeVarResult {
  return encodeWith(
    (w) => {
      const { node, method, args } = call
      checkUint(method, 0xffff, 'RPC method id')
      if (!Array.isArray(args)) fail(ErrorCode.ERR_INVALID_PARAMETER, 'RPC args must be an array')
      if (args.length > MAX_RPC_ARGS) fail(ErrorCode.ERR_INVALID_PARAMETER, `too many RPC arguments (${args.length} > ${MAX_RPC_ARGS})`)
      const byPath = typeof node === 'string'
      if (!byPath) checkUint(node, 0x7fffffff, 'RPC node id')
      const nodeBytes = byPath || options.wideNodeId || (node as number) > 0xffff ? 4 : (node as number) > 0xff ? 2 : 1
      const methodBytes = method > 0xff ? 2 : 1
      const raw = args.length === 0 || (args.length === 1 && args[0] instanceof Uint8Array)
      w.u8(
        SceneCommand.REMOTE_CALL |
          ((nodeBytes === 4 ? 2 : nodeBytes - 1) << NODE_ID_SHIFT) |
          ((methodBytes - 1) << METHOD_ID_SHIFT) |
          (raw ? BYTE_ONLY_OR_NO_ARGS : 0),
      )
      const nodeAt = w.pos
      if (nodeBytes === 1) w.u8(node as number)
      else if (nodeBytes === 2) w.u16(node as number)
      else w.u32(byPath ? 0 : (node as number))
      if (methodBytes === 1) w.u8(method)
      else w.u16(method)
      if (raw) {
        if (args.length === 1) w.bytes(args[0] as Uint8Array)
      } else {
        w.u8(args.length)
        for (const arg of args) writeCompressed(w, arg)
      }
      if (byPath) {
        // The path goes last, NUL-terminated; the node id says where it starts.
        w.view.setUint32(nodeAt, (PATH_FLAG | w.pos) >>> 0, true)
        w.utf8(node)
        w.u8(0)
      }
    },
    options.maxSize ?? DEFAULT_ENCODE_BUFFER_MAX_SIZE,
    'encodeRemoteCall',
  )
}

/**
 * Decodes a REMOTE_CALL packet (byte 0 is the command; its low 3 bits are not checked) as Godot's
 * `process_rpc` reads it. Never throws. Unlike Godot, which calls the method anyway when an
 * argument fails to decode (with nulls for the rest), this reports the failure.
 *
 * Godot: `SceneRPCInterface::process_rpc`, `_process_rpc`, `decode_and_decompress_variants`.
 */
export function decodeRemoteCall(packet: Uint8Array, options?: DecodeVariantOptions): DecodeRemoteCallResult {
  const bad = checkInput(packet, 0, 'decodeRemoteCall')
  if (bad) return bad
  const r = new VariantReader(packet, 0, packet.length)
  r.exactFloats = options?.exactFloats ?? false
  try {
    r.need(1, 'REMOTE_CALL')
    const meta = r.u8()
    const nodeWidth = (meta >> NODE_ID_SHIFT) & 3
    if (nodeWidth === 3) fail(ErrorCode.ERR_INVALID_DATA, 'REMOTE_CALL node id width 3 does not exist')
    const nodeIdBytes = nodeWidth === 2 ? 4 : ((nodeWidth + 1) as 1 | 2)
    const methodIdBytes = meta & (1 << METHOD_ID_SHIFT) ? 2 : 1
    r.need(nodeIdBytes + methodIdBytes, 'REMOTE_CALL ids')
    const target = nodeIdBytes === 1 ? r.u8() : nodeIdBytes === 2 ? r.u16() : r.u32()
    const method = methodIdBytes === 1 ? r.u8() : r.u16()
    let node: number | string = target
    let end = packet.length
    if (target & PATH_FLAG) {
      // A path at `offset` up to the end (Godot reads it leniently: bad UTF-8 becomes U+FFFD).
      const offset = target & ~PATH_FLAG
      if (offset >= packet.length) fail(ErrorCode.ERR_INVALID_DATA, `REMOTE_CALL path offset ${offset} is past the end (${packet.length} bytes)`)
      if (offset < r.pos) fail(ErrorCode.ERR_INVALID_DATA, `REMOTE_CALL path offset ${offset} is inside the header`)
      node = lenientUtf8(packet.subarray(offset))
      end = offset
    }
    const args: unknown[] = []
    if (meta & BYTE_ONLY_OR_NO_ARGS) {
      // A copy, as a plain Uint8Array (a Node Buffer's own slice would share its memory).
      if (r.pos < end) args.push(r.src.slice(r.pos, end))
    } else {
      if (r.pos >= end) fail(ErrorCode.ERR_INVALID_DATA, 'REMOTE_CALL has no argument count')
      const argc = r.u8()
      // The arguments end where the path starts.
      const argReader = new VariantReader(packet, r.pos, end)
      argReader.exactFloats = r.exactFloats
      for (let i = 0; i < argc; i++) {
        if (argReader.pos >= end) fail(ErrorCode.ERR_INVALID_DATA, `REMOTE_CALL ends before argument ${i + 1} of ${argc}`)
        args.push(readCompressed(argReader))
      }
    }
    return { ok: true, call: { node, method, args, nodeIdBytes, methodIdBytes } }
  } catch (err) {
    return failure('decodeRemoteCall', err)
  }
}

const lenient = new TextDecoder('utf-8')

/** Text up to the first NUL, malformed UTF-8 replaced by U+FFFD (Godot's `String::utf8`). */
function lenientUtf8(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0)
  return lenient.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes)
}

// ---- SIMPLIFY_PATH / CONFIRM_PATH ------------------------------------------------------------

/** A node path offered for caching: SIMPLIFY_PATH. */
export interface SimplifyPath {
  /** The MD5 (32 hex digits) of the node's RPC names, see {@link RpcMethods.checksum}. */
  checksum: string
  /** The id the sender will use for the node from now on (Godot's start at 1). */
  cacheId: number
  /** The node's path relative to the multiplayer root (`'Game/Player'`). */
  path: string
}

/** The answer to a SIMPLIFY_PATH: CONFIRM_PATH. */
export interface ConfirmPath {
  /** Whether the receiver's checksum of the node's RPC names matched (Godot only prints an error if not). */
  valid: boolean
  /** The cache id being confirmed. */
  cacheId: number
}

/** Where SIMPLIFY_PATH's cache id is: after the command and the 32 checksum digits with their NUL. */
const SIMPLIFY_ID_OFFSET = 34
/** The shortest SIMPLIFY_PATH Godot reads. */
const SIMPLIFY_MIN_SIZE = 38
/** CONFIRM_PATH is exactly this long. */
export const CONFIRM_PATH_SIZE = 6

/**
 * Encodes a SIMPLIFY_PATH packet: `[0x01][checksum][0][u32 cache id][path][0]`.
 *
 * Godot: `SceneCacheInterface::_send_confirm_path`.
 */
export function encodeSimplifyPath(message: SimplifyPath): EncodeVarResult {
  return encodeWith(
    (w) => {
      const { checksum, cacheId, path } = message
      if (typeof checksum !== 'string' || !/^[0-9a-f]{32}$/.test(checksum)) {
        fail(ErrorCode.ERR_INVALID_PARAMETER, `the checksum must be 32 lowercase hex digits (an MD5), got ${JSON.stringify(checksum)}`)
      }
      checkUint(cacheId, 0xffffffff, 'cache id')
      if (typeof path !== 'string') fail(ErrorCode.ERR_INVALID_PARAMETER, 'the path must be a string')
      w.u8(SceneCommand.SIMPLIFY_PATH)
      w.utf8(checksum)
      w.u8(0)
      w.u32(cacheId)
      w.utf8(path)
      w.u8(0)
    },
    DEFAULT_ENCODE_BUFFER_MAX_SIZE,
    'encodeSimplifyPath',
  )
}

/** The outcome of {@link decodeSimplifyPath}. */
export type DecodeSimplifyPathResult =
  | {
      /** Decoded. */
      ok: true
      /** The packet's content. */
      message: SimplifyPath
    }
  | {
      /** Too short. */
      ok: false
      /** `ERR_INVALID_DATA`. */
      error: ErrorCode
      /** Why, in words. */
      reason: string
    }

/**
 * Decodes a SIMPLIFY_PATH packet as Godot reads it: at least 38 bytes; 32 bytes of checksum (up to a
 * NUL), the byte after them skipped, the cache id, then the path up to a NUL or the end. Never throws.
 *
 * Godot: `SceneCacheInterface::process_simplify_path`.
 */
export function decodeSimplifyPath(packet: Uint8Array): DecodeSimplifyPathResult {
  const bad = checkInput(packet, 0, 'decodeSimplifyPath')
  if (bad) return bad
  if (packet.length < SIMPLIFY_MIN_SIZE) {
    return { ok: false, error: ErrorCode.ERR_INVALID_DATA, reason: `decodeSimplifyPath: ${packet.length} bytes, fewer than ${SIMPLIFY_MIN_SIZE}` }
  }
  const r = new Reader(packet, SIMPLIFY_ID_OFFSET, packet.length)
  const cacheId = r.u32()
  return {
    ok: true,
    message: { checksum: lenientUtf8(packet.subarray(1, 33)), cacheId, path: lenientUtf8(packet.subarray(SIMPLIFY_MIN_SIZE)) },
  }
}

/** Encodes a CONFIRM_PATH packet: `[0x02][valid ? 1 : 0][u32 cache id]`. Godot: `process_simplify_path`'s answer. */
export function encodeConfirmPath(message: ConfirmPath): EncodeVarResult {
  return encodeWith(
    (w) => {
      checkUint(message.cacheId, 0xffffffff, 'cache id')
      w.u8(SceneCommand.CONFIRM_PATH)
      w.u8(message.valid ? 1 : 0)
      w.u32(message.cacheId)
    },
    CONFIRM_PATH_SIZE,
    'encodeConfirmPath',
  )
}

/** The outcome of {@link decodeConfirmPath}. */
export type DecodeConfirmPathResult =
  | {
      /** Decoded. */
      ok: true
      /** The packet's content. */
      message: ConfirmPath
    }
  | {
      /** Not 6 bytes. */
      ok: false
      /** `ERR_INVALID_DATA`. */
      error: ErrorCode
      /** Why, in words. */
      reason: string
    }

/**
 * Decodes a CONFIRM_PATH packet: exactly 6 bytes (Godot drops any other length); any non-zero
 * byte 1 means valid. Never throws.
 *
 * Godot: `SceneCacheInterface::process_confirm_path`.
 */
export function decodeConfirmPath(packet: Uint8Array): DecodeConfirmPathResult {
  const bad = checkInput(packet, 0, 'decodeConfirmPath')
  if (bad) return bad
  if (packet.length !== CONFIRM_PATH_SIZE) {
    return { ok: false, error: ErrorCode.ERR_INVALID_DATA, reason: `decodeConfirmPath: ${packet.length} bytes, not ${CONFIRM_PATH_SIZE}` }
  }
  const r = new Reader(packet, 1, packet.length)
  return { ok: true, message: { valid: r.u8() !== 0, cacheId: r.u32() } }
}

// ---- RPC method ids and checksum -------------------------------------------------------------

/** Orders strings by Unicode code point (Godot's `String` comparison), not UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i) as number
    const y = b.codePointAt(j) as number
    if (x !== y) return x - y
    i += x > 0xffff ? 2 : 1
    j += y > 0xffff ? 2 : 1
  }
  return a.length - i - (b.length - j)
}

/** Bit 15 of a method id: the method is configured on the node (`rpc_config`), not by its script. */
export const NODE_RPC_FLAG = 0x8000

/**
 * A node's RPC methods as SceneMultiplayer numbers them on both sides: the script's `@rpc`
 * methods sorted by code point get ids 0, 1, 2 …; the node's own (`Node.rpc_config`) methods,
 * sorted too, get ids with bit 15 set. {@link checksum} is what SIMPLIFY_PATH carries: the MD5 of
 * all the names run together, the node's first, then the script's.
 *
 * Godot: `SceneRPCInterface::_parse_rpc_config`, `_get_node_config`, `get_rpc_md5`.
 */
export class RpcMethods {
  /** Method id → name. */
  readonly names: ReadonlyMap<number, string>
  /** Name → method id (a script method wins over a node method of the same name, as in Godot). */
  readonly ids: ReadonlyMap<string, number>
  /** The MD5 (32 lowercase hex digits) of the names. */
  readonly checksum: string

  constructor(scriptMethods: Iterable<string>, nodeMethods: Iterable<string> = []) {
    const script = [...new Set(scriptMethods)].sort(compareCodePoints)
    const node = [...new Set(nodeMethods)].sort(compareCodePoints)
    const names = new Map<number, string>()
    const ids = new Map<string, number>()
    node.forEach((name, i) => {
      names.set(i | NODE_RPC_FLAG, name)
      ids.set(name, i | NODE_RPC_FLAG)
    })
    script.forEach((name, i) => {
      names.set(i, name)
      ids.set(name, i)
    })
    this.names = names
    this.ids = ids
    this.checksum = md5Hex(node.join('') + script.join(''))
  }

  /** The id of method `name`, or undefined if it is not an RPC of this node. */
  id(name: string): number | undefined {
    return this.ids.get(name)
  }

  /** The name of method `id`, or undefined. */
  name(id: number): string | undefined {
    return this.names.get(id)
  }
}

/** The SIMPLIFY_PATH checksum of a node's RPC names. Godot: `SceneRPCInterface::get_rpc_md5`. */
export function rpcChecksum(scriptMethods: Iterable<string>, nodeMethods: Iterable<string> = []): string {
  return new RpcMethods(scriptMethods, nodeMethods).checksum
}

