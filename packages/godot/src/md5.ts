// MD5 (RFC 1321), for the checksum SceneMultiplayer puts in SIMPLIFY_PATH. Browsers' WebCrypto has
// no MD5, so this is a small implementation of its own. Not for security: Godot uses it as a
// fingerprint of a node's RPC method names.

/** T[i] = floor(|sin(i + 1)| · 2^32), the RFC's table (written out so no engine's `Math.sin` matters). */
const T = Int32Array.of(
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
)

/** Left-rotation amounts: four per round, repeated over the round's 16 steps. */
const ROTATE = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

const utf8 = new TextEncoder()

/** The 16-byte MD5 digest of `data` (a string is hashed as its UTF-8 bytes). */
export function md5(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? utf8.encode(data) : data
  // The message, a 1 bit, zeros up to 56 mod 64 bytes, and its length in bits (64-bit little-endian).
  const padded = new Uint8Array((Math.floor((bytes.length + 8) / 64) + 1) * 64)
  padded.set(bytes)
  padded[bytes.length] = 0x80
  const view = new DataView(padded.buffer)
  view.setUint32(padded.length - 8, (bytes.length * 8) >>> 0, true)
  view.setUint32(padded.length - 4, Math.floor(bytes.length / 2 ** 29), true)

  let a0 = 0x67452301
  let b0 = 0xefcdab89 | 0
  let c0 = 0x98badcfe | 0
  let d0 = 0x10325476
  const m = new Int32Array(16)
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getInt32(block + i * 4, true)
    let a = a0
    let b = b0
    let c = c0
    let d = d0
    for (let i = 0; i < 64; i++) {
      // Each round mixes b, c, d its own way and reads the 16 words in its own order.
      let mix: number
      let word: number
      if (i < 16) {
        mix = (b & c) | (~b & d)
        word = i
      } else if (i < 32) {
        mix = (d & b) | (~d & c)
        word = (5 * i + 1) & 15
      } else if (i < 48) {
        mix = b ^ c ^ d
        word = (3 * i + 5) & 15
      } else {
        mix = c ^ (b | ~d)
        word = (7 * i) & 15
      }
      const sum = (a + mix + (T[i] as number) + (m[word] as number)) | 0
      const r = ROTATE[(i >> 4) * 4 + (i & 3)] as number
      a = d
      d = c
      c = b
      b = (b + ((sum << r) | (sum >>> (32 - r)))) | 0
    }
    a0 = (a0 + a) | 0
    b0 = (b0 + b) | 0
    c0 = (c0 + c) | 0
    d0 = (d0 + d) | 0
  }
  const digest = new Uint8Array(16)
  const out = new DataView(digest.buffer)
  out.setInt32(0, a0, true)
  out.setInt32(4, b0, true)
  out.setInt32(8, c0, true)
  out.setInt32(12, d0, true)
  return digest
}

/** The MD5 digest of `data` as 32 lowercase hex digits. Godot: `String::md5_text`. */
export function md5Hex(data: Uint8Array | string): string {
  let text = ''
  for (const byte of md5(data)) text += byte.toString(16).padStart(2, '0')
  return text
}
