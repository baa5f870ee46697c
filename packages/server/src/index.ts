export * from '@wsmp/client'
export {
  WebSocketMultiplayerPeer,
  type HandshakeHook,
  type HandshakeRequest,
  type HandshakeVerdict,
  type ServerPeerOptions,
} from './websocket-multiplayer-peer.js'
