import { describe, expect, it } from 'vitest'
import { ErrorCode, PacketPeer, decodeVar, toBytes, type BinaryData, type Logger } from '@wsmp/core'

/** A loopback packet peer: what it puts, it gets. Pure logic, for the PacketPeer contract. */
class Loopback extends PacketPeer {
  readonly sent: Uint8Array[] = []
  getAvailablePacketCount(): number {
    return this.sent.length
  }
  getPacket(): Uint8Array {
    const next = this.sent.shift()
    if (!next) {
      this._packetError = ErrorCode.ERR_UNAVAILABLE
      return new Uint8Array(0)
    }
    this._packetError = ErrorCode.OK
    return next
  }
  putPacket(data: BinaryData): ErrorCode {
    const bytes = toBytes(data)
    if (bytes.length > 0) this.sent.push(Uint8Array.from(bytes))
    return ErrorCode.OK
  }
}

function silent(peer: Loopback): string[] {
  const warnings: string[] = []
  const logger: Logger = { warn: (m) => warnings.push(m) }
  peer.logger = logger
  return warnings
}

describe('PacketPeer.encodeBufferMaxSize', () => {
  it('defaults to 8 MiB', () => {
    expect(new Loopback().encodeBufferMaxSize).toBe(8 * 1024 * 1024)
  })

  it('rounds accepted values up to a power of two', () => {
    const peer = new Loopback()
    peer.encodeBufferMaxSize = 1024
    expect(peer.encodeBufferMaxSize).toBe(1024)
    peer.encodeBufferMaxSize = 1025
    expect(peer.encodeBufferMaxSize).toBe(2048)
    peer.encodeBufferMaxSize = 3000.5
    expect(peer.encodeBufferMaxSize).toBe(4096)
    peer.encodeBufferMaxSize = 256 * 1024 * 1024
    expect(peer.encodeBufferMaxSize).toBe(256 * 1024 * 1024)
    peer.encodeBufferMaxSize = 100_000_000
    expect(peer.encodeBufferMaxSize).toBe(134_217_728)
  })

  it('rejects values below 1024 or above 256 MiB, keeping the old value and saying why', () => {
    const peer = new Loopback()
    const warnings = silent(peer)
    peer.encodeBufferMaxSize = 4096
    peer.encodeBufferMaxSize = 1023
    expect(peer.encodeBufferMaxSize).toBe(4096)
    peer.encodeBufferMaxSize = 0
    expect(peer.encodeBufferMaxSize).toBe(4096)
    peer.encodeBufferMaxSize = -5
    expect(peer.encodeBufferMaxSize).toBe(4096)
    peer.encodeBufferMaxSize = 256 * 1024 * 1024 + 1
    expect(peer.encodeBufferMaxSize).toBe(4096)
    expect(warnings).toHaveLength(4)
    expect(peer.getLastError()).toMatch(/encodeBufferMaxSize/)
  })

  it('throws TypeError for a value that is not a finite number', () => {
    const peer = new Loopback()
    expect(() => (peer.encodeBufferMaxSize = Number.NaN)).toThrow(TypeError)
    expect(() => (peer.encodeBufferMaxSize = '2048' as unknown as number)).toThrow(TypeError)
  })
})

describe('PacketPeer.putVar / getVar', () => {
  it('round-trips a value through putPacket/getPacket', () => {
    const peer = new Loopback()
    expect(peer.putVar({ a: [1, 2n], m: new Map([[1, 'x']]) })).toBe(ErrorCode.OK)
    expect(peer.getVar()).toEqual({ a: [1, 2n], m: new Map([[1, 'x']]) })
    expect(peer.getPacketError()).toBe(ErrorCode.OK)
  })

  it('putVar over encodeBufferMaxSize returns ERR_OUT_OF_MEMORY and sends nothing', () => {
    const peer = new Loopback()
    peer.encodeBufferMaxSize = 1024
    expect(peer.putVar('y'.repeat(1100))).toBe(ErrorCode.ERR_OUT_OF_MEMORY)
    expect(peer.sent).toHaveLength(0)
    expect(peer.getLastError()).toMatch(/encodeBufferMaxSize/)
    expect(peer.putVar('y'.repeat(1000))).toBe(ErrorCode.OK)
    expect(peer.sent).toHaveLength(1)
  })

  it('putVar of a value MessagePack cannot carry returns ERR_INVALID_PARAMETER and sends nothing', () => {
    const peer = new Loopback()
    expect(peer.putVar(() => 0)).toBe(ErrorCode.ERR_INVALID_PARAMETER)
    expect(peer.sent).toHaveLength(0)
  })

  it('getVar with nothing queued returns null with the packet error (ERR_UNAVAILABLE)', () => {
    const peer = new Loopback()
    expect(peer.getVar()).toBeNull()
    expect(peer.getPacketError()).toBe(ErrorCode.ERR_UNAVAILABLE)
  })

  it('getVar of bytes that are no value returns null with ERR_INVALID_DATA', () => {
    const peer = new Loopback()
    peer.putPacket([0xc1])
    expect(peer.getVar()).toBeNull()
    expect(peer.getPacketError()).toBe(ErrorCode.ERR_INVALID_DATA)
    expect(peer.getLastError()).toMatch(/MessagePack/)
    // The next good packet clears the error.
    peer.putPacket((decodeVar(Uint8Array.from([0x01])).ok ? [0x01] : []) as number[])
    expect(peer.getVar()).toBe(1)
    expect(peer.getPacketError()).toBe(ErrorCode.OK)
  })
})
