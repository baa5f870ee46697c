/* eslint-disable import-x/export -- the server's WebSocketMultiplayerPeer takes the place of
   @wsmp/client's: a module's own export shadows the same name from `export *`. */
export * from '@wsmp/client'
export {
  DEFAULT_MAX_BYTES_PER_SECOND,
  DEFAULT_MAX_PACKETS_PER_SECOND,
  DEFAULT_MAX_PEERS,
  DEFAULT_PEER_TIMEOUT,
  LISTEN_BACKLOG,
  WebSocketMultiplayerPeer,
  type HandshakeAcceptance,
  type HandshakeHook,
  type HandshakeRejection,
  type HandshakeRequest,
  type HandshakeVerdict,
  type ServerPeerOptions,
} from './websocket-multiplayer-peer.js'
export { Acceptor } from './acceptor.js'
export { LOG_LINES_PER_WINDOW, LOG_WINDOW_MS, LogLimiter } from './log-limiter.js'
export { ServerRole } from './server-role.js'
export { SILENT_SWEEPS, SWEEPS_PER_TIMEOUT, sweepSilence, type SilenceMarks } from './silence.js'
export { ServerSocketDriver } from './server-socket.js'
export { DrainRechecks } from '@wsmp/client/node'
