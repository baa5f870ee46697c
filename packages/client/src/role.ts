import type { ErrorCode } from '@wsmp/core'
import type { PeerStats, WebSocketPeer } from './websocket-peer.js'

/**
 * What a {@link WebSocketMultiplayerPeer} is while it is in use: a client (`createClient`, this
 * package) or a server (`createServer` / `attach`, `@wsmp/server`). The public class holds the
 * settings, the queue and the signals, and hands everything that depends on the role to it; a
 * role lives from the call that made it until `close()` or the next session.
 * @internal
 */
export interface PeerRole {
  /** Whether this is the server role. Godot (C++): `is_server()`. */
  readonly server: boolean
  /** Sends a packet (`putPacket`'s payload) to `target`, framed for the role and the framing. */
  putPacket(payload: Uint8Array, target: number, mode: number, channel: number): ErrorCode
  /**
   * Sends one SceneMultiplayer packet (`[cmd]…`, RAW included; verbatim with `'raw'` framing) to
   * `target` as Godot's `send_command` does: a client wraps what is not for the server in a RELAY.
   */
  sendCommand(target: number, packet: Uint8Array, mode: number, channel: number): ErrorCode
  /** Framing bytes a payload to `target` carries. */
  overhead(target: number): number
  disconnectPeer(id: number, force: boolean): void
  getPeer(id: number): WebSocketPeer | null
  /** Whether `id` is one of this role's live or pending peers (ids are not reused until polled out). */
  isIdTaken(id: number): boolean
  getStats(): PeerStats
  sendAuth(id: number, data: Uint8Array): ErrorCode
  completeAuth(id: number): ErrorCode
  /** Run at the start of every poll. */
  beforePoll(): void
  /** Ends the role's connections and timers, silently. */
  close(): void
}
