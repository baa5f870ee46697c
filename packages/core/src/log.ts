/**
 * Where wsmp writes what Godot would print with an error macro: a limit hit, a bad value rejected,
 * bad input dropped (first of each kind per peer). Defaults to `console`; `null` silences it.
 */
export interface Logger {
  /** Receives one warning, without the `[wsmp]` prefix. */
  warn(message: string): void
}

/** The default logger: `console.warn` with a `[wsmp]` prefix. */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(`[wsmp] ${message}`),
}
