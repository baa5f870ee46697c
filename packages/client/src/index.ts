export * from '@wsmp/core'
export {
  DEFAULT_INBOUND_BUFFER_SIZE,
  DEFAULT_MAX_QUEUED_PACKETS,
  DEFAULT_OUTBOUND_BUFFER_SIZE,
  WebSocketPeer,
  WebSocketState,
  WriteMode,
  createPeerStats,
  type PeerStats,
  type PeerSink,
  type WebSocketPeerOptions,
} from './websocket-peer.js'
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  WebSocketMultiplayerPeer,
  type WebSocketMultiplayerPeerOptions,
} from './websocket-multiplayer-peer.js'
