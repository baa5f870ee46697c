// The in-page side of the browser tests: one wsmp client peer, polled every 10 ms as a game
// loop would, whose signals and packets are recorded in `window.log` for the tests to read.
// `W` is the library: the `WSMP` global (script tag) or the bundled ESM module (bundler page).
'use strict'

/** A JSON-safe picture of a value that keeps what JSON would lose (typed arrays, bigint, Date, Map, Set). */
function describeValue(value) {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? { bigint: value.toString() } : value
  }
  if (value instanceof Date) return { date: value.toISOString() }
  if (ArrayBuffer.isView(value)) return { [value.constructor.name]: Array.from(value, (x) => (typeof x === 'bigint' ? x.toString() : x)) }
  if (value instanceof ArrayBuffer) return { ArrayBuffer: Array.from(new Uint8Array(value)) }
  if (value instanceof Map) return { Map: [...value].map(([k, v]) => [describeValue(k), describeValue(v)]) }
  if (value instanceof Set) return { Set: [...value].map(describeValue) }
  if (Array.isArray(value)) return value.map(describeValue)
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describeValue(v)]))
}

/** A small checksum of bytes, to compare big packets without shipping them. */
function checksum(bytes) {
  let sum = 0
  for (let i = 0; i < bytes.length; i++) sum = (sum * 31 + bytes[i]) >>> 0
  return sum
}

/** A value with nested objects, typed arrays and binary, built the same way on both sides. */
function sampleValue() {
  return {
    player: { name: 'ann', pos: [1.5, -2.25], alive: true, parent: null, tags: ['a', 'b'] },
    grid: new Float32Array([0.5, 1, -3.25]),
    ids: new Int32Array([-7, 0, 2147483647]),
    wide: new BigUint64Array([2n ** 64n - 1n]),
    blob: new Uint8Array([0, 1, 2, 253, 254, 255]),
    raw: new Uint8Array([9, 8, 7]).buffer,
    big: -(2n ** 80n),
    when: new Date(Date.UTC(2026, 10, 28, 1, 2, 3, 456)),
    map: new Map([
      ['k', [1, 2]],
      [3, 'three'],
    ]),
    set: new Set(['x', 'y']),
  }
}

window.wsmpTest = {
  describeValue,
  checksum,
  sampleValue,
  /**
   * Connects a client to `url`; `mode` 'packet' records packets, 'var' decodes each with getVar().
   * `options` go to the peer's constructor; warnings are silenced unless `useConsole` is set, which
   * leaves the default logger (console.warn).
   */
  connect(W, url, mode = 'packet', options = {}) {
    const { useConsole, ...rest } = options
    const peer = new W.WebSocketMultiplayerPeer(useConsole ? rest : { logger: null, ...rest })
    const log = { id: 0, status: 0, joined: [], left: [], events: [], packets: [], vars: [], errors: [], lastError: '' }
    peer.on('peer_connected', (id) => log.joined.push(id))
    peer.on('peer_disconnected', (id) => log.left.push(id))
    peer.on('connected_to_server', () => {
      log.events.push('connected_to_server')
      log.id = peer.getUniqueId()
    })
    peer.on('connection_failed', (reason) => log.events.push(`connection_failed: ${reason}`))
    peer.on('server_disconnected', (reason) => log.events.push(`server_disconnected: ${reason}`))
    const err = peer.createClient(url)
    const tick = () => {
      peer.poll()
      log.status = peer.getConnectionStatus()
      log.lastError = peer.getLastError()
      while (peer.getAvailablePacketCount() > 0) {
        const from = peer.getPacketPeer()
        if (mode === 'var') {
          const value = peer.getVar()
          if (peer.getPacketError() === W.ErrorCode.OK) log.vars.push({ from, value: describeValue(value) })
          else log.errors.push(peer.getLastError())
        } else {
          const data = peer.getPacket()
          const text = data.length <= 256 ? new TextDecoder().decode(data) : ''
          log.packets.push({ from, length: data.length, checksum: checksum(data), text })
        }
      }
    }
    let timer = setInterval(tick, 10)
    window.peer = peer
    window.log = log
    window.stopPolling = () => clearInterval(timer)
    window.startPolling = () => {
      clearInterval(timer)
      timer = setInterval(tick, 10)
    }
    return err
  },
  /** Sends UTF-8 text (or `length` pattern bytes) to `target`. */
  send(W, target, text, length = 0) {
    window.peer.setTargetPeer(target)
    const data = length > 0 ? Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff) : new TextEncoder().encode(text)
    return window.peer.putPacket(data)
  },
}
