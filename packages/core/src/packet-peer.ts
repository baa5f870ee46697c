import { type BinaryData } from './bytes.js'
import { ErrorCode } from './error-code.js'
import { consoleLogger, type Logger } from './log.js'
import {
  DEFAULT_ENCODE_BUFFER_MAX_SIZE,
  MAX_ENCODE_BUFFER_MAX_SIZE,
  MIN_ENCODE_BUFFER_MAX_SIZE,
  msgpackVarCodec,
  type VarCodec,
} from './var-codec.js'

/** Options every packet peer takes in its constructor. */
export interface PacketPeerOptions {
  /** The largest encoded `putVar` value, in bytes. Defaults to 8 MiB. Godot: `encode_buffer_max_size`. */
  encodeBufferMaxSize?: number
  /** Where warnings go. Defaults to `console`; `null` silences them. */
  logger?: Logger | null
  /** What `putVar`/`getVar` use: `'msgpack'` (default) or a codec such as `@wsmp/godot`'s `godotVarCodec`. */
  varCodec?: VarCodec | 'msgpack'
}

/**
 * @internal Whether `key` is a public property with a setter on `target`'s prototype chain: what a
 * constructor option may set (never a method, a private field or a read-only getter).
 */
export function isSettableProperty(target: object, key: string): boolean {
  if (key.startsWith('_')) return false
  for (let proto: object | null = Object.getPrototypeOf(target); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, key)
    if (descriptor) return typeof descriptor.set === 'function'
  }
  return false
}

/**
 * @internal Sets each defined option through the property's setter (so setters validate);
 * throws `TypeError` for a key that is not a settable public property.
 */
export function applyOptions(target: object, options: object): void {
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue
    if (!isSettableProperty(target, key)) throw new TypeError(`unknown option '${key}'`)
    ;(target as Record<string, unknown>)[key] = value
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

/**
 * A peer that sends and receives whole packets: the base of every wsmp peer.
 *
 * Godot: `PacketPeer`.
 */
export abstract class PacketPeer {
  private _encodeBufferMaxSize = DEFAULT_ENCODE_BUFFER_MAX_SIZE
  private _varCodec: VarCodec = msgpackVarCodec
  /** @internal */
  protected _packetError: ErrorCode = ErrorCode.OK
  /** @internal */
  _lastError = ''
  /** @internal */
  _logger: Logger | null = consoleLogger

  /**
   * The largest encoded value `putVar` sends, in bytes; default 8 MiB. Values below 1 KiB or above
   * 256 MiB are rejected (the old value stays); accepted values are rounded up to a power of two.
   *
   * Godot: `PacketPeer.encode_buffer_max_size`.
   */
  get encodeBufferMaxSize(): number {
    return this._encodeBufferMaxSize
  }
  /** Sets `encodeBufferMaxSize`; the getter says which values are accepted. */
  set encodeBufferMaxSize(value: number) {
    if (this._valid('encodeBufferMaxSize', value, MIN_ENCODE_BUFFER_MAX_SIZE, MAX_ENCODE_BUFFER_MAX_SIZE)) this._encodeBufferMaxSize = nextPowerOfTwo(Math.ceil(value))
  }

  /**
   * What `putVar` and `getVar` encode values with: MessagePack (`'msgpack'`, the default, with
   * wsmp's extension types) or another {@link VarCodec} — `godotVarCodec` from `@wsmp/godot` is
   * Godot's own `var_to_bytes` format, for talking to Godot peers. Set per peer.
   */
  get varCodec(): VarCodec {
    return this._varCodec
  }
  /** Sets `varCodec`; the getter says which values are accepted. */
  set varCodec(value: VarCodec | 'msgpack') {
    if (value === 'msgpack') value = msgpackVarCodec
    else if (typeof value?.encode !== 'function' || typeof value?.decode !== 'function') {
      throw new TypeError("varCodec must be 'msgpack' or a VarCodec (Godot's: godotVarCodec from @wsmp/godot)")
    }
    this._varCodec = value
  }

  /** Where warnings go; `null` silences them. */
  get logger(): Logger | null {
    return this._logger
  }
  /** Sets `logger`; the getter says which values are accepted. */
  set logger(value: Logger | null) {
    this._logger = value
  }

  /** The number of whole packets ready to read. Godot: `get_available_packet_count()`. */
  abstract getAvailablePacketCount(): number

  /**
   * Takes the next packet. With none to take it returns an empty array and `getPacketError()`
   * tells why. Godot: `get_packet()`.
   */
  abstract getPacket(): Uint8Array

  /** Sends one packet; an empty one returns OK and sends nothing. Godot: `put_packet()`. */
  abstract putPacket(data: BinaryData): ErrorCode

  /** The error of the last `getPacket()` or `getVar()`. Godot: `get_packet_error()`. */
  getPacketError(): ErrorCode {
    return this._packetError
  }

  /**
   * Takes the next packet and decodes it with {@link varCodec} (MessagePack by default); `null` on
   * error, with `getPacketError()` set (`ERR_INVALID_DATA` for bytes that are not one value).
   *
   * Godot: `get_var()` (Godot marshals Variants: set `varCodec` to `@wsmp/godot`'s for that).
   */
  getVar(): unknown {
    const packet = this.getPacket()
    if (this._packetError !== ErrorCode.OK) return null
    const result = this._varCodec.decode(packet)
    if (result.ok) return result.value
    this._packetError = result.error
    this._lastError = result.reason
    return null
  }

  /**
   * Encodes a value with {@link varCodec} (MessagePack by default) and sends it.
   * `ERR_OUT_OF_MEMORY` when the encoding is larger than `encodeBufferMaxSize`,
   * `ERR_INVALID_PARAMETER` for values the codec cannot carry, else what `putPacket` returns.
   *
   * Godot: `put_var()`.
   */
  putVar(value: unknown): ErrorCode {
    const result = this._varCodec.encode(value, this._encodeBufferMaxSize)
    if (!result.ok) return this._fail(result.error, result.reason)
    const err = this.putPacket(result.bytes)
    if (err !== ErrorCode.OK) this._lastError = `putVar: ${this._lastError.replace(/^(putPacket|send): /, '')}`
    return err
  }

  /** The reason for the last failure this peer reported (an error code returned, a connection lost). */
  getLastError(): string {
    return this._lastError
  }

  /**
   * @internal Checks a numeric setting: a `TypeError` for what is not a number (with `integer`,
   * not a whole one); false, with a warning and the old value kept, outside `min` … `max`.
   */
  _valid(name: string, value: number, min: number, max = Infinity, integer = false): boolean {
    if (typeof value !== 'number' || Number.isNaN(value) || (integer && !Number.isInteger(value))) {
      throw new TypeError(`${name} must be ${integer ? 'an integer' : 'a number'}, got ${String(value)}`)
    }
    if (value >= min && value <= max) return true
    this._warn(`${name} must be ${max === Infinity ? `at least ${min}` : `within ${min} … ${max}`}; keeping ${String((this as Record<string, unknown>)[name])}`)
    return false
  }

  /** @internal Records a failure's reason and returns its code. */
  _fail(code: ErrorCode, reason: string): ErrorCode {
    this._lastError = reason
    return code
  }

  /** @internal Records a reason and writes it to the logger. */
  _warn(message: string): void {
    this._lastError = message
    this._log(message)
  }

  /** @internal Writes a warning to the logger (a server rate-limits them: @wsmp/server's LogLimiter). */
  _log(message: string): void {
    this._logger?.warn(message)
  }
}
