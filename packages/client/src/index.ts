export * from '@wsmp/core'
export {
  DEFAULT_INBOUND_BUFFER_SIZE,
  DEFAULT_MAX_QUEUED_PACKETS,
  DEFAULT_OUTBOUND_BUFFER_SIZE,
  WebSocketPeer,
  WebSocketState,
  WriteMode,
  countDrop,
  createPeerStats,
  type PeerStats,
  type PeerSink,
  type WebSocketPeerOptions,
} from './websocket-peer.js'
export {
  DEFAULT_AUTH_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  WebSocketMultiplayerPeer,
  type SceneHandler,
  type WebSocketMultiplayerPeerOptions,
} from './websocket-multiplayer-peer.js'
export { SceneAuth, type AuthCallback, type AuthHost } from './scene-auth.js'
export type { PeerRole } from './role.js'
export type { ConnectOptions, SocketDriver, SocketHandler } from './socket.js'
