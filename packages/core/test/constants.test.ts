import { describe, expect, it } from 'vitest'
import { ConnectionStatus, ErrorCode, MAX_PEER_ID, TARGET_PEER_BROADCAST, TARGET_PEER_SERVER, TransferMode, errorName } from '@wsmp/core'

// Godot 4's @GlobalScope.Error, in order (core/error/error_list.h). Index = number.
const GODOT_ERRORS = [
  'OK',
  'FAILED',
  'ERR_UNAVAILABLE',
  'ERR_UNCONFIGURED',
  'ERR_UNAUTHORIZED',
  'ERR_PARAMETER_RANGE_ERROR',
  'ERR_OUT_OF_MEMORY',
  'ERR_FILE_NOT_FOUND',
  'ERR_FILE_BAD_DRIVE',
  'ERR_FILE_BAD_PATH',
  'ERR_FILE_NO_PERMISSION',
  'ERR_FILE_ALREADY_IN_USE',
  'ERR_FILE_CANT_OPEN',
  'ERR_FILE_CANT_WRITE',
  'ERR_FILE_CANT_READ',
  'ERR_FILE_UNRECOGNIZED',
  'ERR_FILE_CORRUPT',
  'ERR_FILE_MISSING_DEPENDENCIES',
  'ERR_FILE_EOF',
  'ERR_CANT_OPEN',
  'ERR_CANT_CREATE',
  'ERR_QUERY_FAILED',
  'ERR_ALREADY_IN_USE',
  'ERR_LOCKED',
  'ERR_TIMEOUT',
  'ERR_CANT_CONNECT',
  'ERR_CANT_RESOLVE',
  'ERR_CONNECTION_ERROR',
  'ERR_CANT_ACQUIRE_RESOURCE',
  'ERR_CANT_FORK',
  'ERR_INVALID_DATA',
  'ERR_INVALID_PARAMETER',
  'ERR_ALREADY_EXISTS',
  'ERR_DOES_NOT_EXIST',
  'ERR_DATABASE_CANT_READ',
  'ERR_DATABASE_CANT_WRITE',
  'ERR_COMPILATION_FAILED',
  'ERR_METHOD_NOT_FOUND',
  'ERR_LINK_FAILED',
  'ERR_SCRIPT_FAILED',
  'ERR_CYCLIC_LINK',
  'ERR_INVALID_DECLARATION',
  'ERR_DUPLICATE_SYMBOL',
  'ERR_PARSE_ERROR',
  'ERR_BUSY',
  'ERR_SKIP',
  'ERR_HELP',
  'ERR_BUG',
  'ERR_PRINTER_ON_FIRE',
]

describe('ErrorCode', () => {
  it("is Godot's whole Error enum with Godot's numbers", () => {
    const expected = Object.fromEntries(GODOT_ERRORS.map((name, value) => [name, value]))
    expect({ ...ErrorCode }).toEqual(expected)
  })

  it('has the numbers DESIGN.md names', () => {
    expect(ErrorCode.OK).toBe(0)
    expect(ErrorCode.FAILED).toBe(1)
    expect(ErrorCode.ERR_UNAVAILABLE).toBe(2)
    expect(ErrorCode.ERR_UNCONFIGURED).toBe(3)
    expect(ErrorCode.ERR_OUT_OF_MEMORY).toBe(6)
    expect(ErrorCode.ERR_FILE_EOF).toBe(18)
    expect(ErrorCode.ERR_CANT_CREATE).toBe(20)
    expect(ErrorCode.ERR_ALREADY_IN_USE).toBe(22)
    expect(ErrorCode.ERR_TIMEOUT).toBe(24)
    expect(ErrorCode.ERR_CANT_CONNECT).toBe(25)
    expect(ErrorCode.ERR_INVALID_DATA).toBe(30)
    expect(ErrorCode.ERR_INVALID_PARAMETER).toBe(31)
    expect(ErrorCode.ERR_BUG).toBe(47)
  })
})

describe('errorName', () => {
  it('names every code by its Godot name', () => {
    GODOT_ERRORS.forEach((name, value) => expect(errorName(value)).toBe(name))
    expect(errorName(ErrorCode.ERR_ALREADY_IN_USE)).toBe('ERR_ALREADY_IN_USE')
  })

  it('describes numbers outside the enum', () => {
    expect(errorName(49)).toBe('UNKNOWN(49)')
    expect(errorName(-1)).toBe('UNKNOWN(-1)')
  })
})

describe('MultiplayerPeer constants', () => {
  it('ConnectionStatus is DISCONNECTED 0, CONNECTING 1, CONNECTED 2', () => {
    expect({ ...ConnectionStatus }).toEqual({ DISCONNECTED: 0, CONNECTING: 1, CONNECTED: 2 })
  })

  it('TransferMode is UNRELIABLE 0, UNRELIABLE_ORDERED 1, RELIABLE 2', () => {
    expect({ ...TransferMode }).toEqual({ UNRELIABLE: 0, UNRELIABLE_ORDERED: 1, RELIABLE: 2 })
  })

  it('TARGET_PEER_BROADCAST is 0 and TARGET_PEER_SERVER is 1', () => {
    expect(TARGET_PEER_BROADCAST).toBe(0)
    expect(TARGET_PEER_SERVER).toBe(1)
  })

  it('the largest peer id is 2^31-1', () => {
    expect(MAX_PEER_ID).toBe(2 ** 31 - 1)
  })
})
