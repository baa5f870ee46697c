import { Deferred, ErrorCode, encodeAuthPacket } from '@wsmp/core'
import type { WebSocketMultiplayerPeer } from './websocket-multiplayer-peer.js'

/** SceneMultiplayer's authentication callback: `data` is what the other side sent with `sendAuth`. */
export type AuthCallback = (id: number, data: Uint8Array) => void

/** What a role does for its pending peers. @internal */
export interface AuthHost {
  /** Sends an AUTH packet to peer `id` (reliable, channel 0). */
  sendAuthFrame(id: number, frame: Uint8Array): ErrorCode
  /** Both sides completed: admit `id` (announce it, queue `peer_connected`). */
  admit(id: number): void
  /** `authTimeout` passed: disconnect `id` (close 1000), as Godot does. */
  expire(id: number): void
}

interface Pending {
  /** This side called `completeAuth`. */
  local: boolean
  /** The other side sent `[0x07][0x00]`. */
  remote: boolean
  timer: ReturnType<typeof setTimeout> | null
}

/**
 * SceneMultiplayer's pending peers: connected, not yet admitted, exchanging AUTH packets until
 * both sides completed (`completeAuth` here, `[0x07][0x00]` from there), as Godot 4 does. Only
 * AUTH passes for them; `peer_authenticating`, the auth callback, admission and
 * `peer_authentication_failed` reach the application inside `poll()`.
 *
 * Godot: `SceneMultiplayer` `pending_peers`, `send_auth`, `complete_auth`, `auth_timeout`.
 * @internal
 */
export class SceneAuth {
  private readonly _pending = new Map<number, Pending>()

  constructor(
    private readonly _owner: WebSocketMultiplayerPeer,
    private readonly _host: AuthHost,
  ) {}

  /** Whether `id` has not completed authentication. */
  has(id: number): boolean {
    return this._pending.has(id)
  }

  /** Peer `id` connected: pending until both sides complete; `peer_authenticating` at the next poll. */
  add(id: number): void {
    const timeout = this._owner.authTimeout
    const pending: Pending = { local: false, remote: false, timer: null }
    if (timeout > 0) {
      pending.timer = setTimeout(() => this._expire(id, pending), timeout * 1000)
      ;(pending.timer as { unref?: () => void }).unref?.()
    }
    this._pending.set(id, pending)
    const owner = this._owner
    owner._enqueue(new Deferred(() => owner._events.emit('peer_authenticating', id)))
  }

  /**
   * An AUTH packet from `id`, on the event loop. With data it goes to the auth callback at the next
   * poll. Without, the other side completed: that takes effect at once (what arrives next from a
   * peer both sides admitted must pass), and admission's signals follow at the next poll.
   */
  received(id: number, data: Uint8Array, offset: number): void {
    const pending = this._pending.get(id)
    if (pending === undefined) return
    if (data.length === offset) {
      pending.remote = true
      if (pending.local) this._admit(id, pending)
      return
    }
    const owner = this._owner
    const payload = data.slice(offset)
    owner._enqueue(
      new Deferred(() => {
        if (this._pending.get(id) === pending) owner.authCallback?.(id, payload)
      }),
    )
  }

  /** Godot: `send_auth(id, data)`. */
  send(id: number, data: Uint8Array): ErrorCode {
    const pending = this._pending.get(id)
    const owner = this._owner
    if (pending === undefined) return owner._fail(ErrorCode.ERR_INVALID_PARAMETER, `sendAuth: peer ${id} is not authenticating`)
    if (data.length === 0) return owner._fail(ErrorCode.ERR_INVALID_PARAMETER, 'sendAuth: empty data (completeAuth completes)')
    if (pending.local) return owner._fail(ErrorCode.ERR_FILE_CANT_WRITE, `sendAuth: peer ${id}: completed here already`)
    if (pending.remote) return owner._fail(ErrorCode.ERR_FILE_CANT_WRITE, `sendAuth: peer ${id} already completed`)
    return this._host.sendAuthFrame(id, encodeAuthPacket(data))
  }

  /** Godot: `complete_auth(id)`. */
  complete(id: number): ErrorCode {
    const pending = this._pending.get(id)
    const owner = this._owner
    if (pending === undefined) return owner._fail(ErrorCode.ERR_INVALID_PARAMETER, `completeAuth: peer ${id} is not authenticating`)
    if (pending.local) return owner._fail(ErrorCode.ERR_FILE_CANT_WRITE, `completeAuth: peer ${id}: completed already`)
    pending.local = true
    // The notification goes out before anything admission sends (announcements).
    const err = this._host.sendAuthFrame(id, encodeAuthPacket())
    if (pending.remote) this._admit(id, pending)
    return err
  }

  /**
   * Peer `id` left or was dropped: true when it was still pending, and then
   * `peer_authentication_failed` follows at the next poll.
   */
  remove(id: number): boolean {
    const pending = this._pending.get(id)
    if (pending === undefined) return false
    this._forget(id, pending)
    const owner = this._owner
    owner._enqueue(new Deferred(() => owner._events.emit('peer_authentication_failed', id)))
    return true
  }

  /** Ends `id`'s pending session silently (a forced disconnect). */
  discard(id: number): void {
    const pending = this._pending.get(id)
    if (pending !== undefined) this._forget(id, pending)
  }

  /** Ends every pending session silently (`close()`). */
  clear(): void {
    for (const [id, pending] of this._pending) this._forget(id, pending)
  }

  private _admit(id: number, pending: Pending): void {
    this._forget(id, pending)
    this._host.admit(id)
  }

  private _expire(id: number, pending: Pending): void {
    if (this._pending.get(id) !== pending) return
    this._owner._warn(`peer ${id}: authentication did not complete within authTimeout (${this._owner.authTimeout} s); disconnecting`)
    this.remove(id)
    this._host.expire(id)
  }

  private _forget(id: number, pending: Pending): void {
    if (pending.timer !== null) clearTimeout(pending.timer)
    this._pending.delete(id)
  }
}
