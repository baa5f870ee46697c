import type { Logger } from '@wsmp/client'

/** Warnings of one shape written per window; the rest are counted. */
export const LOG_LINES_PER_WINDOW = 5
/** The window of {@link LOG_LINES_PER_WINDOW}, in milliseconds. */
export const LOG_WINDOW_MS = 10_000
/** Shapes tracked per window; warnings of further shapes share one count. */
const MAX_SHAPES = 100

/**
 * What a warning says with its variable parts (numbers, quoted text) blanked: the warnings one
 * cause writes for many peers, or many times, have one shape.
 */
export function shapeOf(message: string): string {
  return message.replace(/'[^']*'/g, "'…'").replace(/\d+/g, '#')
}

/**
 * A server's warnings, rate-limited so that no client can flood the log: per shape of message (see
 * `shapeOf`), at most {@link LOG_LINES_PER_WINDOW} lines per {@link LOG_WINDOW_MS}, across
 * all peers. The rest are counted and summed up in one line when the window ends
 * (`… 120 more like "peer #: …" in the last 10 s (suppressed)`). Writes to whatever `target`
 * returns at the time (the peer's `logger`; null writes nothing).
 */
export class LogLimiter implements Logger {
  private readonly _shapes = new Map<string, { lines: number; suppressed: number }>()
  private _timer: ReturnType<typeof setTimeout> | null = null

  constructor(private readonly _target: () => Logger | null) {}

  warn(message: string): void {
    const logger = this._target()
    if (logger === null) return
    let shape = shapeOf(message)
    let entry = this._shapes.get(shape)
    if (entry === undefined) {
      if (this._shapes.size >= MAX_SHAPES) shape = 'other warnings'
      entry = this._shapes.get(shape) ?? { lines: 0, suppressed: 0 }
      this._shapes.set(shape, entry)
      if (this._timer === null) {
        this._timer = setTimeout(this._endWindow, LOG_WINDOW_MS)
        this._timer.unref()
      }
    }
    if (entry.lines < LOG_LINES_PER_WINDOW) {
      entry.lines++
      logger.warn(message)
    } else {
      entry.suppressed++
    }
  }

  /** Writes what was suppressed and starts a new window (with the next warning). */
  private readonly _endWindow = (): void => {
    this._timer = null
    const shapes = [...this._shapes]
    this._shapes.clear()
    const logger = this._target()
    for (const [shape, { suppressed }] of shapes) {
      if (suppressed > 0) logger?.warn(`${suppressed} more like "${shape}" in the last ${LOG_WINDOW_MS / 1000} s (suppressed)`)
    }
  }
}
