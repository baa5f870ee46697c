import type { WebSocketMultiplayerPeer } from '@wsmp/server'
import { RedisAuthority, type AuthorityOptions } from './authority.js'
import { RedisEdge, type EdgeOptions } from './edge.js'

/**
 * One game session served by many Node processes, on any number of machines, coordinated
 * through Redis. One process is the **authority**: the game's `WebSocketMultiplayerPeer`
 * (peer 1), with its whole API unchanged. Any number of **edges** accept the clients and pass
 * their traffic to and from the authority. Clients see exactly one Godot 4 server: ids unique
 * across the session, announcements and relay across edges.
 *
 * ```ts
 * import { WebSocketMultiplayerPeer } from '@wsmp/server'
 * import { RedisCluster } from '@wsmp/cluster'
 * const game = new WebSocketMultiplayerPeer({ autoPoll: true })   // the authority (peer 1)
 * const cluster = await RedisCluster.authority(game, { url: 'redis://127.0.0.1:6379', session: 'match-42' })
 * // in each edge process, on any machine:
 * const edge = await RedisCluster.edge({ url: 'redis://127.0.0.1:6379', session: 'match-42', port: 9081 })
 * ```
 */
export class RedisCluster {
  private constructor() {}

  /**
   * Makes `game` the authority of `options.session`: it serves every client of every edge of
   * the session. A game that is not in use starts serving with no listener of its own (CONNECTED,
   * id 1); one that already serves (`createServer`/`attach`) keeps its own clients too. Rejects
   * when Redis cannot be reached within `connectTimeoutMs`, when another authority serves the
   * session (after waiting `timeoutMs` for a crashed one's lock to expire), or when the game is a
   * client or still starting.
   */
  static authority(game: WebSocketMultiplayerPeer, options: AuthorityOptions): Promise<RedisAuthority> {
    return RedisAuthority._start(game, options)
  }

  /**
   * Starts an edge of `options.session`: it listens (or attaches to `options.server`), and
   * accepts clients whenever the session has an authority (until then, and between authorities,
   * upgrades are answered 503). Resolves once listening; `whenServing()` waits for the authority.
   * Rejects when Redis cannot be reached within `connectTimeoutMs` or the port cannot be used.
   */
  static edge(options: EdgeOptions): Promise<RedisEdge> {
    return RedisEdge._start(options)
  }
}
