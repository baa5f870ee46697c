/** What `putPacket`/`send` accept: bytes in any of the usual forms. */
export type BinaryData = Uint8Array | ArrayBuffer | ArrayBufferView | readonly number[]

/**
 * Normalises packet data to a `Uint8Array` without copying when it already is one (a Node `Buffer`
 * included). Throws `TypeError` for anything that is not bytes.
 */
export function toBytes(data: BinaryData): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) return Uint8Array.from(data as number[])
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
