/** The names of Godot's global `Error` enum in Godot's order: a name's position is its number. */
const ERROR_NAMES = [
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
] as const

/**
 * The type of {@link ErrorCode}: each name of Godot's global `Error` enum with its number.
 */
export interface ErrorCodes {
  /** Godot: `OK` (0): no error. */
  readonly OK: 0
  /** Godot: `FAILED` (1). */
  readonly FAILED: 1
  /** Godot: `ERR_UNAVAILABLE` (2). */
  readonly ERR_UNAVAILABLE: 2
  /** Godot: `ERR_UNCONFIGURED` (3). */
  readonly ERR_UNCONFIGURED: 3
  /** Godot: `ERR_UNAUTHORIZED` (4). */
  readonly ERR_UNAUTHORIZED: 4
  /** Godot: `ERR_PARAMETER_RANGE_ERROR` (5). */
  readonly ERR_PARAMETER_RANGE_ERROR: 5
  /** Godot: `ERR_OUT_OF_MEMORY` (6). */
  readonly ERR_OUT_OF_MEMORY: 6
  /** Godot: `ERR_FILE_NOT_FOUND` (7). */
  readonly ERR_FILE_NOT_FOUND: 7
  /** Godot: `ERR_FILE_BAD_DRIVE` (8). */
  readonly ERR_FILE_BAD_DRIVE: 8
  /** Godot: `ERR_FILE_BAD_PATH` (9). */
  readonly ERR_FILE_BAD_PATH: 9
  /** Godot: `ERR_FILE_NO_PERMISSION` (10). */
  readonly ERR_FILE_NO_PERMISSION: 10
  /** Godot: `ERR_FILE_ALREADY_IN_USE` (11). */
  readonly ERR_FILE_ALREADY_IN_USE: 11
  /** Godot: `ERR_FILE_CANT_OPEN` (12). */
  readonly ERR_FILE_CANT_OPEN: 12
  /** Godot: `ERR_FILE_CANT_WRITE` (13). */
  readonly ERR_FILE_CANT_WRITE: 13
  /** Godot: `ERR_FILE_CANT_READ` (14). */
  readonly ERR_FILE_CANT_READ: 14
  /** Godot: `ERR_FILE_UNRECOGNIZED` (15). */
  readonly ERR_FILE_UNRECOGNIZED: 15
  /** Godot: `ERR_FILE_CORRUPT` (16). */
  readonly ERR_FILE_CORRUPT: 16
  /** Godot: `ERR_FILE_MISSING_DEPENDENCIES` (17). */
  readonly ERR_FILE_MISSING_DEPENDENCIES: 17
  /** Godot: `ERR_FILE_EOF` (18). */
  readonly ERR_FILE_EOF: 18
  /** Godot: `ERR_CANT_OPEN` (19). */
  readonly ERR_CANT_OPEN: 19
  /** Godot: `ERR_CANT_CREATE` (20). */
  readonly ERR_CANT_CREATE: 20
  /** Godot: `ERR_QUERY_FAILED` (21). */
  readonly ERR_QUERY_FAILED: 21
  /** Godot: `ERR_ALREADY_IN_USE` (22). */
  readonly ERR_ALREADY_IN_USE: 22
  /** Godot: `ERR_LOCKED` (23). */
  readonly ERR_LOCKED: 23
  /** Godot: `ERR_TIMEOUT` (24). */
  readonly ERR_TIMEOUT: 24
  /** Godot: `ERR_CANT_CONNECT` (25). */
  readonly ERR_CANT_CONNECT: 25
  /** Godot: `ERR_CANT_RESOLVE` (26). */
  readonly ERR_CANT_RESOLVE: 26
  /** Godot: `ERR_CONNECTION_ERROR` (27). */
  readonly ERR_CONNECTION_ERROR: 27
  /** Godot: `ERR_CANT_ACQUIRE_RESOURCE` (28). */
  readonly ERR_CANT_ACQUIRE_RESOURCE: 28
  /** Godot: `ERR_CANT_FORK` (29). */
  readonly ERR_CANT_FORK: 29
  /** Godot: `ERR_INVALID_DATA` (30). */
  readonly ERR_INVALID_DATA: 30
  /** Godot: `ERR_INVALID_PARAMETER` (31). */
  readonly ERR_INVALID_PARAMETER: 31
  /** Godot: `ERR_ALREADY_EXISTS` (32). */
  readonly ERR_ALREADY_EXISTS: 32
  /** Godot: `ERR_DOES_NOT_EXIST` (33). */
  readonly ERR_DOES_NOT_EXIST: 33
  /** Godot: `ERR_DATABASE_CANT_READ` (34). */
  readonly ERR_DATABASE_CANT_READ: 34
  /** Godot: `ERR_DATABASE_CANT_WRITE` (35). */
  readonly ERR_DATABASE_CANT_WRITE: 35
  /** Godot: `ERR_COMPILATION_FAILED` (36). */
  readonly ERR_COMPILATION_FAILED: 36
  /** Godot: `ERR_METHOD_NOT_FOUND` (37). */
  readonly ERR_METHOD_NOT_FOUND: 37
  /** Godot: `ERR_LINK_FAILED` (38). */
  readonly ERR_LINK_FAILED: 38
  /** Godot: `ERR_SCRIPT_FAILED` (39). */
  readonly ERR_SCRIPT_FAILED: 39
  /** Godot: `ERR_CYCLIC_LINK` (40). */
  readonly ERR_CYCLIC_LINK: 40
  /** Godot: `ERR_INVALID_DECLARATION` (41). */
  readonly ERR_INVALID_DECLARATION: 41
  /** Godot: `ERR_DUPLICATE_SYMBOL` (42). */
  readonly ERR_DUPLICATE_SYMBOL: 42
  /** Godot: `ERR_PARSE_ERROR` (43). */
  readonly ERR_PARSE_ERROR: 43
  /** Godot: `ERR_BUSY` (44). */
  readonly ERR_BUSY: 44
  /** Godot: `ERR_SKIP` (45). */
  readonly ERR_SKIP: 45
  /** Godot: `ERR_HELP` (46). */
  readonly ERR_HELP: 46
  /** Godot: `ERR_BUG` (47). */
  readonly ERR_BUG: 47
  /** Godot: `ERR_PRINTER_ON_FIRE` (48). */
  readonly ERR_PRINTER_ON_FIRE: 48
}

/**
 * Godot's global `Error` enum, with Godot's numbers. Expected failures in wsmp return one of these
 * (as Godot does) and leave a readable reason in `getLastError()`.
 *
 * Godot: `@GlobalScope.Error`.
 */
export const ErrorCode = Object.freeze(Object.fromEntries(ERROR_NAMES.map((name, code) => [name, code]))) as unknown as ErrorCodes

/** One of the {@link ErrorCode} numbers. */
export type ErrorCode = ErrorCodes[keyof ErrorCodes]

/** The Godot name of an error code (`errorName(22)` is `'ERR_ALREADY_IN_USE'`), or `'UNKNOWN(n)'`. */
export function errorName(code: number): string {
  return (ERROR_NAMES as readonly string[])[code] ?? `UNKNOWN(${code})`
}

// Checked by the compiler: ErrorCodes names exactly ERROR_NAMES, each with its position.
type NamedByPosition = {
  [I in keyof typeof ERROR_NAMES & `${number}` as (typeof ERROR_NAMES)[I]]: I extends `${infer N extends number}` ? N : never
}
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
// eslint-disable-next-line @typescript-eslint/no-unused-vars
type ErrorCodesMatchNames = Assert<Same<NamedByPosition, { -readonly [K in keyof ErrorCodes]: ErrorCodes[K] }>>
type Assert<T extends true> = T
