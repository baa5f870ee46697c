/** Sweeps of a silence watch per `peerTimeout`. */
export const SWEEPS_PER_TIMEOUT = 5
/**
 * Silent sweeps in a row after which a connection is gone: between ⅗ and ⅘ of `peerTimeout` after
 * it went silent (9–12 s by default), so within `peerTimeout` even when timers run late and the
 * application polls its `peer_disconnected` a tick later. (With 4 sweeps and 3 silent ones the
 * worst case was `peerTimeout` itself; the hostile suite measured 14.98 s of 15.)
 */
export const SILENT_SWEEPS = 3

/** What a silence watch keeps per connection (fields of the connection's own object: nothing to allocate). */
export interface SilenceMarks {
  /** The socket's `bytesRead` at the last sweep. */
  _readMark: number
  /** Sweeps in a row that found it unchanged. */
  _silentSweeps: number
}

/**
 * One sweep of a silence watch over one connection (see the server's `peerTimeout`): `'heard'`
 * when bytes were read since the last sweep — or when the server is not reading it
 * (backpressure), which is not silence; `'silent'` when nothing was (ping it: its pong is read,
 * and counts); `'gone'` after {@link SILENT_SWEEPS} silent sweeps in a row.
 */
export function sweepSilence(marks: SilenceMarks, bytesRead: number, paused: boolean): 'heard' | 'silent' | 'gone' {
  if (bytesRead !== marks._readMark || paused) {
    marks._readMark = bytesRead
    marks._silentSweeps = 0
    return 'heard'
  }
  return ++marks._silentSweeps >= SILENT_SWEEPS ? 'gone' : 'silent'
}
