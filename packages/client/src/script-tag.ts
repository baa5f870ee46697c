/**
 * The script tag's API: what `dist/wsmp.min.js` puts on the global `WSMP`. It is @wsmp/client's
 * whole user API — the Godot classes, their enums and defaults, `ErrorCode`, `TLSOptions` and the
 * `putVar` codec — but not the wire plumbing @wsmp/server and @wsmp/godot build on (the framing
 * encoders and decoders, `Queue`, `SceneAuth`, …), which would take a tenth of the 16 KiB budget.
 * A bundler importing `@wsmp/client` gets everything.
 * @packageDocumentation
 */
export {
  CloseCode,
  ConnectionStatus,
  DEFAULT_ENCODE_BUFFER_MAX_SIZE,
  DropReason,
  ErrorCode,
  MAX_ENCODE_BUFFER_MAX_SIZE,
  MAX_PEER_ID,
  MIN_ENCODE_BUFFER_MAX_SIZE,
  MultiplayerPeer,
  PacketPeer,
  TARGET_PEER_BROADCAST,
  TARGET_PEER_SERVER,
  TLSOptions,
  TransferMode,
  VarExtType,
  consoleLogger,
  decodeVar,
  encodeVar,
  errorName,
  msgpackVarCodec,
  toBytes,
} from '@wsmp/core'
export {
  DEFAULT_INBOUND_BUFFER_SIZE,
  DEFAULT_MAX_QUEUED_PACKETS,
  DEFAULT_OUTBOUND_BUFFER_SIZE,
  WebSocketPeer,
  WebSocketState,
  WriteMode,
} from './websocket-peer.js'
export { DEFAULT_AUTH_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, WebSocketMultiplayerPeer } from './websocket-multiplayer-peer.js'
