import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from '@wsmp/server'

/** Options every process of a cluster takes: where Redis is, which session, the timing. */
export interface RedisClusterOptions {
  /**
   * The Redis server, as a URL: `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for
   * TLS. Default `redis://127.0.0.1:6379`.
   */
  url?: string
  /**
   * More ioredis options (TLS, password, a Unix socket path, …), applied over the URL's. The
   * cluster sets its own reconnection, queueing and timeout options and ignores those given here.
   */
  redisOptions?: RedisOptions
  /**
   * The session's name: the authority and the edges of one game session use the same one. Every
   * Redis key of the session starts with `{prefix}:{session}:` (the braces keep a session's keys in
   * one hash slot), so any number of sessions share one Redis without seeing each other. 1 … 200
   * characters, without `{` or `}`.
   */
  session: string
  /** The first part of every key. Default `'wsmp'`. */
  prefix?: string
  /**
   * The authority's: milliseconds between heartbeats (default 1000). Edges follow the authority's
   * value once they serve it.
   */
  heartbeatMs?: number
  /**
   * The authority's: milliseconds of silence after which a process counts as lost (default 3000):
   * an edge the authority has not heard from, the authority an edge has not heard from — their
   * clients leave or are closed — and the grace period of a Redis outage (see the README's
   * "Failure behaviour"). Must be at least twice `heartbeatMs`. Edges follow the authority's value.
   */
  timeoutMs?: number
  /** Milliseconds to wait for Redis when starting (default 5000); past it the start fails. */
  connectTimeoutMs?: number
  /**
   * Where warnings go (a packet that could not be delivered, an edge lost, Redis unreachable …),
   * rate-limited to one line per kind every 10 s with the count of those left out. Default: the
   * game's logger (authority) or `console` (edge); `null` silences them (they are still counted).
   */
  logger?: Logger | null
}

/** The default `heartbeatMs`: milliseconds between heartbeats. */
export const DEFAULT_HEARTBEAT_MS = 1000
/** The default `timeoutMs`: milliseconds of silence after which a process (or Redis) counts as lost. */
export const DEFAULT_TIMEOUT_MS = 3000
/** The default `connectTimeoutMs`: milliseconds to wait for Redis when starting. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000

/** The Redis keys of one session. */
export interface SessionKeys {
  /** `{prefix}:{session}`, for messages. */
  base: string
  /** The authority's stream: what edges send it. */
  authority: string
  /** The authority's lock: its instance id while it serves, with a time to live. */
  lock: string
  /** An edge's stream: what the authority sends it. */
  edge(id: string): string
}

/** Checks the options every process takes; throws TypeError for a bad one. */
export function sessionKeys(options: RedisClusterOptions): SessionKeys {
  const session = options?.session
  if (typeof session !== 'string' || session.length === 0 || session.length > 200 || /[{}]/.test(session)) {
    throw new TypeError('session must be a string of 1 … 200 characters without { or }')
  }
  const prefix = options.prefix ?? 'wsmp'
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError('prefix must be a string without { or }')
  const base = `${prefix}:{${session}}`
  return { base, authority: `${base}:a`, lock: `${base}:lock`, edge: (id) => `${base}:e:${id}` }
}

/** The timing options, checked. */
export function timing(options: RedisClusterOptions): { heartbeatMs: number; timeoutMs: number; connectTimeoutMs: number } {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  for (const [name, value] of [
    ['heartbeatMs', heartbeatMs],
    ['timeoutMs', timeoutMs],
    ['connectTimeoutMs', connectTimeoutMs],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 10) throw new TypeError(`${name} must be a number of milliseconds (10 or more)`)
  }
  if (timeoutMs < 2 * heartbeatMs) throw new TypeError(`timeoutMs (${timeoutMs}) must be at least twice heartbeatMs (${heartbeatMs})`)
  return { heartbeatMs, timeoutMs, connectTimeoutMs }
}

/**
 * Warnings, at most one line per key every {@link intervalMs}; the next one says how many were
 * left out. What they report is also counted, so silencing the logger loses no information.
 */
export class Warnings {
  private readonly _last = new Map<string, { at: number; suppressed: number }>()

  constructor(
    private readonly _logger: () => Logger | null,
    private readonly _prefix: string,
    private readonly _intervalMs = 10_000,
  ) {}

  /** Writes `message` unless a warning of `key` was written within the interval. */
  warn(key: string, message: string): void {
    const now = Date.now()
    const last = this._last.get(key)
    if (last && now - last.at < this._intervalMs) {
      last.suppressed++
      return
    }
    const suppressed = last?.suppressed ?? 0
    this._last.set(key, { at: now, suppressed: 0 })
    if (this._last.size > 1000) this._last.clear()
    this._logger()?.warn(`${this._prefix}${message}${suppressed > 0 ? ` (${suppressed} more like it in the last ${Math.round(this._intervalMs / 1000)} s)` : ''}`)
  }
}

/** The `run_id` of the Redis server on `redis`'s connection (a restart changes it). */
export async function runId(redis: Redis): Promise<string> {
  const info = await redis.info('server')
  return /run_id:([0-9a-f]+)/.exec(info)?.[1] ?? ''
}

/**
 * A connection to Redis: reconnects by itself (every 100 ms … 1 s), queues commands while it is
 * down and resends them in order once it is back, never gives up on a command — the cluster's
 * own timers decide when an outage is too long. Resolves once connected; rejects (and closes the
 * connection) when Redis cannot be reached within `timeoutMs`.
 */
export async function connectRedis(url: string, extra: RedisOptions | undefined, name: string, timeoutMs: number): Promise<Redis> {
  const redis = new Redis(url, {
    ...extra,
    lazyConnect: true,
    connectionName: name,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    // Commands in flight when the connection dropped are sent again once it is back: writes are
    // deduplicated by their sequence numbers; an XREAD is sent again with the same last id.
    // (Without it ioredis drops them and their promises never settle.)
    autoResendUnfulfilledCommands: true,
    enableAutoPipelining: false,
    connectTimeout: Math.min(timeoutMs, 2000),
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  })
  let lastError = ''
  redis.on('error', (err: Error) => {
    lastError = err.message
  })
  const ready = new Promise<void>((resolve) => redis.once('ready', () => resolve()))
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  redis.connect().catch(() => {
    // Retried by the strategy above; the timeout decides.
  })
  const outcome = await Promise.race([ready, timeout])
  clearTimeout(timer)
  if (outcome === 'timeout') {
    redis.disconnect()
    throw new Error(`cannot reach Redis at ${redactUrl(url)} within ${timeoutMs} ms${lastError ? `: ${lastError}` : ''}`)
  }
  return redis
}

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

/**
 * Reads one stream with XREAD BLOCK on a connection of its own, forever, from the entry after the
 * last one it read: after a reconnect it goes on where it stopped (Redis streams keep what was
 * written meanwhile). `lastReadAt` is when an XREAD last answered, with entries or after blocking
 * `blockMs` with none: how the cluster tells a healthy Redis from one that stopped answering.
 */
export class StreamReader {
  /** The id of the last entry read. */
  lastId = '0-0'
  /** When an XREAD last answered (ms since the epoch). */
  lastReadAt = Date.now()
  /** Entries read so far. */
  entries = 0
  private _stopped = false

  constructor(
    private readonly _redis: Redis,
    private readonly _key: string,
    private readonly _blockMs: number,
    private readonly _onBatch: (batch: Buffer) => void,
    private readonly _onError: (err: Error) => void,
  ) {}

  /** Starts the read loop. */
  start(): void {
    void this._loop()
  }

  /** Ends the read loop (the connection is the caller's to close). */
  stop(): void {
    this._stopped = true
  }

  private async _loop(): Promise<void> {
    while (!this._stopped) {
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null
      try {
        reply = (await this._redis.xreadBuffer('COUNT', 512, 'BLOCK', this._blockMs, 'STREAMS', this._key, this.lastId)) as [Buffer, [Buffer, Buffer[]][]][] | null
      } catch (err) {
        if (this._stopped) return
        this._onError(err as Error)
        await new Promise((resolve) => setTimeout(resolve, 100))
        continue
      }
      if (this._stopped) return
      this.lastReadAt = Date.now()
      if (reply === null) continue
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          this.lastId = id.toString()
          this.entries++
          for (let i = 0; i + 1 < fields.length; i += 2) {
            const field = fields[i] as Buffer
            if (field.length === 1 && field[0] === 0x64 /* d */) {
              try {
                this._onBatch(fields[i + 1] as Buffer)
              } catch (err) {
                this._onError(err as Error)
              }
            }
          }
        }
      }
    }
  }
}

/** Compare-and-refresh of a lock: 1 refreshed, 2 taken again (it had expired, or Redis restarted), 0 held by another. */
export const LOCK_REFRESH = `local v = redis.call('get', KEYS[1])
if v == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`

/** Compare-and-delete of a lock. */
export const LOCK_RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`
