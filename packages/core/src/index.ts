export { ErrorCode, errorName, type ErrorCodes } from './error-code.js'
export {
  CloseCode,
  ConnectionStatus,
  DropReason,
  MAX_PEER_ID,
  TARGET_PEER_BROADCAST,
  TARGET_PEER_SERVER,
  TransferMode,
} from './constants.js'
export { type BinaryData, describe, plainBytes, toBytes } from './bytes.js'
export { consoleLogger, type Logger } from './log.js'
export { Queue, type Packet, type PacketSource } from './packet-queue.js'
export { generateUniqueId } from './peer-id.js'
export {
  DEFAULT_ENCODE_BUFFER_MAX_SIZE,
  MAX_ENCODE_BUFFER_MAX_SIZE,
  MIN_ENCODE_BUFFER_MAX_SIZE,
  VarExtType,
  decodeVar,
  encodeVar,
  msgpackVarCodec,
  type DecodeVarResult,
  type EncodeVarResult,
  type VarCodec,
} from './var-codec.js'
export {
  AUTH_HEADER_SIZE,
  FRAMINGS,
  FrameKind,
  ID_MESSAGE_SIZE,
  RAW_OVERHEAD,
  RELAY_OVERHEAD,
  SYS_HEADER_SIZE,
  SceneCommand,
  SysCommand,
  createSceneFrame,
  decodeIdMessage,
  decodeRelayedPacket,
  decodeSceneFrame,
  encodeAuthPacket,
  encodeIdMessage,
  encodeRawPacket,
  encodeRelayCommand,
  encodeRelayPacket,
  encodeSysCommand,
  rewriteSysPeer,
  type Framing,
  type SceneFrame,
} from './framing.js'
export { TLSOptions, type Pem } from './tls-options.js'
export { PacketPeer, applyOptions, isSettableProperty, type PacketPeerOptions } from './packet-peer.js'
export {
  Deferred,
  MultiplayerPeer,
  type InboxEntry,
  type MultiplayerPeerEvents,
  type MultiplayerPeerOptions,
  type SignalEmitter,
  type Unsubscribe,
} from './multiplayer-peer.js'
