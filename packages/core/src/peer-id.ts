import { MAX_PEER_ID } from './constants.js'

const word = new Uint32Array(1)

/**
 * A random peer id in 2 … 2^31−1 from the platform's cryptographic generator
 * (`crypto.getRandomValues`, in browsers and Node), drawn again while `isTaken(id)` says it is live.
 *
 * Godot: `MultiplayerPeer.generate_unique_id()` (whose range this keeps; Godot has no collision check).
 */
export function generateUniqueId(isTaken?: (id: number) => boolean): number {
  for (;;) {
    globalThis.crypto.getRandomValues(word)
    const id = (word[0] as number) & MAX_PEER_ID
    if (id < 2) continue
    if (isTaken && isTaken(id)) continue
    return id
  }
}
