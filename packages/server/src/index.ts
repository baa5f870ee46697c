export * from '@wsmp/client'
export {
  WebSocketMultiplayerPeer,
  type HandshakeAcceptance,
  type HandshakeHook,
  type HandshakeRejection,
  type HandshakeRequest,
  type HandshakeVerdict,
  type ServerPeerOptions,
} from './websocket-multiplayer-peer.js'
export { Acceptor } from './acceptor.js'
export { ServerRole } from './server-role.js'
export { ServerSocketDriver } from './server-socket.js'
export { DrainRechecks } from '@wsmp/client/node'
