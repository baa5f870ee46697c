/** What `putPacket`/`send` accept: bytes in any of the usual forms. */
export type BinaryData = Uint8Array | ArrayBuffer | ArrayBufferView | readonly number[]

/**
 * Normalises packet data to a `Uint8Array` without copying when it already is one (a Node `Buffer`
 * included). Throws `TypeError` for anything that is not bytes, an array item outside 0 … 255
 * included.
 */
export function toBytes(data: BinaryData): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) {
    // A typed-array copy would wrap 300 to 44 and -1 to 255 and cut 1.5 to 1: refuse instead.
    const bad = (data as readonly unknown[]).findIndex((n) => !Number.isInteger(n) || (n as number) < 0 || (n as number) > 255)
    if (bad >= 0) throw new TypeError(`an array of bytes must hold integers 0 … 255; item ${bad} is ${String((data as readonly unknown[])[bad])} (use a Uint8Array for raw bytes)`)
    return Uint8Array.from(data as number[])
  }
  throw new TypeError(`expected a Uint8Array, ArrayBuffer, typed array or number[], got ${describe(data)}`)
}

/** A plain `Uint8Array` view of the same bytes (a Node `Buffer` becomes a `Uint8Array`). */
export function plainBytes(data: Uint8Array): Uint8Array {
  return data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value
}
