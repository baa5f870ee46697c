/**
 * Godot's global `Error` enum, with Godot's numbers. Expected failures in wsmp return one of these
 * (as Godot does) and leave a readable reason in `getLastError()`.
 *
 * Godot: `@GlobalScope.Error`.
 */
export const ErrorCode = {
  /** Godot: `OK` (0): no error. */
  OK: 0,
  /** Godot: `FAILED` (1). */
  FAILED: 1,
  /** Godot: `ERR_UNAVAILABLE` (2). */
  ERR_UNAVAILABLE: 2,
  /** Godot: `ERR_UNCONFIGURED` (3). */
  ERR_UNCONFIGURED: 3,
  /** Godot: `ERR_UNAUTHORIZED` (4). */
  ERR_UNAUTHORIZED: 4,
  /** Godot: `ERR_PARAMETER_RANGE_ERROR` (5). */
  ERR_PARAMETER_RANGE_ERROR: 5,
  /** Godot: `ERR_OUT_OF_MEMORY` (6). */
  ERR_OUT_OF_MEMORY: 6,
  /** Godot: `ERR_FILE_NOT_FOUND` (7). */
  ERR_FILE_NOT_FOUND: 7,
  /** Godot: `ERR_FILE_BAD_DRIVE` (8). */
  ERR_FILE_BAD_DRIVE: 8,
  /** Godot: `ERR_FILE_BAD_PATH` (9). */
  ERR_FILE_BAD_PATH: 9,
  /** Godot: `ERR_FILE_NO_PERMISSION` (10). */
  ERR_FILE_NO_PERMISSION: 10,
  /** Godot: `ERR_FILE_ALREADY_IN_USE` (11). */
  ERR_FILE_ALREADY_IN_USE: 11,
  /** Godot: `ERR_FILE_CANT_OPEN` (12). */
  ERR_FILE_CANT_OPEN: 12,
  /** Godot: `ERR_FILE_CANT_WRITE` (13). */
  ERR_FILE_CANT_WRITE: 13,
  /** Godot: `ERR_FILE_CANT_READ` (14). */
  ERR_FILE_CANT_READ: 14,
  /** Godot: `ERR_FILE_UNRECOGNIZED` (15). */
  ERR_FILE_UNRECOGNIZED: 15,
  /** Godot: `ERR_FILE_CORRUPT` (16). */
  ERR_FILE_CORRUPT: 16,
  /** Godot: `ERR_FILE_MISSING_DEPENDENCIES` (17). */
  ERR_FILE_MISSING_DEPENDENCIES: 17,
  /** Godot: `ERR_FILE_EOF` (18). */
  ERR_FILE_EOF: 18,
  /** Godot: `ERR_CANT_OPEN` (19). */
  ERR_CANT_OPEN: 19,
  /** Godot: `ERR_CANT_CREATE` (20). */
  ERR_CANT_CREATE: 20,
  /** Godot: `ERR_QUERY_FAILED` (21). */
  ERR_QUERY_FAILED: 21,
  /** Godot: `ERR_ALREADY_IN_USE` (22). */
  ERR_ALREADY_IN_USE: 22,
  /** Godot: `ERR_LOCKED` (23). */
  ERR_LOCKED: 23,
  /** Godot: `ERR_TIMEOUT` (24). */
  ERR_TIMEOUT: 24,
  /** Godot: `ERR_CANT_CONNECT` (25). */
  ERR_CANT_CONNECT: 25,
  /** Godot: `ERR_CANT_RESOLVE` (26). */
  ERR_CANT_RESOLVE: 26,
  /** Godot: `ERR_CONNECTION_ERROR` (27). */
  ERR_CONNECTION_ERROR: 27,
  /** Godot: `ERR_CANT_ACQUIRE_RESOURCE` (28). */
  ERR_CANT_ACQUIRE_RESOURCE: 28,
  /** Godot: `ERR_CANT_FORK` (29). */
  ERR_CANT_FORK: 29,
  /** Godot: `ERR_INVALID_DATA` (30). */
  ERR_INVALID_DATA: 30,
  /** Godot: `ERR_INVALID_PARAMETER` (31). */
  ERR_INVALID_PARAMETER: 31,
  /** Godot: `ERR_ALREADY_EXISTS` (32). */
  ERR_ALREADY_EXISTS: 32,
  /** Godot: `ERR_DOES_NOT_EXIST` (33). */
  ERR_DOES_NOT_EXIST: 33,
  /** Godot: `ERR_DATABASE_CANT_READ` (34). */
  ERR_DATABASE_CANT_READ: 34,
  /** Godot: `ERR_DATABASE_CANT_WRITE` (35). */
  ERR_DATABASE_CANT_WRITE: 35,
  /** Godot: `ERR_COMPILATION_FAILED` (36). */
  ERR_COMPILATION_FAILED: 36,
  /** Godot: `ERR_METHOD_NOT_FOUND` (37). */
  ERR_METHOD_NOT_FOUND: 37,
  /** Godot: `ERR_LINK_FAILED` (38). */
  ERR_LINK_FAILED: 38,
  /** Godot: `ERR_SCRIPT_FAILED` (39). */
  ERR_SCRIPT_FAILED: 39,
  /** Godot: `ERR_CYCLIC_LINK` (40). */
  ERR_CYCLIC_LINK: 40,
  /** Godot: `ERR_INVALID_DECLARATION` (41). */
  ERR_INVALID_DECLARATION: 41,
  /** Godot: `ERR_DUPLICATE_SYMBOL` (42). */
  ERR_DUPLICATE_SYMBOL: 42,
  /** Godot: `ERR_PARSE_ERROR` (43). */
  ERR_PARSE_ERROR: 43,
  /** Godot: `ERR_BUSY` (44). */
  ERR_BUSY: 44,
  /** Godot: `ERR_SKIP` (45). */
  ERR_SKIP: 45,
  /** Godot: `ERR_HELP` (46). */
  ERR_HELP: 46,
  /** Godot: `ERR_BUG` (47). */
  ERR_BUG: 47,
  /** Godot: `ERR_PRINTER_ON_FIRE` (48). */
  ERR_PRINTER_ON_FIRE: 48,
} as const

/** One of the {@link ErrorCode} numbers. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** The names in declaration order, which is Godot's: `ErrorCode`'s values are 0, 1, 2 … */
const names: string[] = Object.keys(ErrorCode)

/** The Godot name of an error code (`errorName(22)` is `'ERR_ALREADY_IN_USE'`), or `'UNKNOWN(n)'`. */
export function errorName(code: number): string {
  return names[code] ?? `UNKNOWN(${code})`
}
