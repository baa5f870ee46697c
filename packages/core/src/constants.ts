/**
 * Godot: `MultiplayerPeer.ConnectionStatus` (`CONNECTION_DISCONNECTED` … `CONNECTION_CONNECTED`).
 */
export const ConnectionStatus = {
  /** Not connected, or closed. Godot: `CONNECTION_DISCONNECTED`. */
  DISCONNECTED: 0,
  /** A client waiting for its id, or a server starting. Godot: `CONNECTION_CONNECTING`. */
  CONNECTING: 1,
  /** A client with its id, or a listening server. Godot: `CONNECTION_CONNECTED`. */
  CONNECTED: 2,
} as const
export type ConnectionStatus = (typeof ConnectionStatus)[keyof typeof ConnectionStatus]

/**
 * Godot: `MultiplayerPeer.TransferMode`. Over TCP every packet arrives reliably and in order; the mode
 * says what may be dropped under congestion: UNRELIABLE packets are dropped instead of queued, and
 * UNRELIABLE_ORDERED keep only the newest per channel.
 */
export const TransferMode = {
  /** May be dropped under congestion. Godot: `TRANSFER_MODE_UNRELIABLE`. */
  UNRELIABLE: 0,
  /** Only the newest per channel is kept under congestion. Godot: `TRANSFER_MODE_UNRELIABLE_ORDERED`. */
  UNRELIABLE_ORDERED: 1,
  /** Never dropped (the default). Godot: `TRANSFER_MODE_RELIABLE`. */
  RELIABLE: 2,
} as const
export type TransferMode = (typeof TransferMode)[keyof typeof TransferMode]

/** Godot: `MultiplayerPeer.TARGET_PEER_BROADCAST`: send to every connected peer. */
export const TARGET_PEER_BROADCAST = 0
/** Godot: `MultiplayerPeer.TARGET_PEER_SERVER`: send to the server, whose id is always 1. */
export const TARGET_PEER_SERVER = 1

/** The largest peer id: ids are 2 … 2^31−1 (1 is the server, 0 is "everyone", negatives exclude). */
export const MAX_PEER_ID = 0x7fffffff

/**
 * WebSocket close codes wsmp sends, with the reason text it uses. 1000–1015 are RFC 6455's;
 * 4000–4099 are wsmp's own (4010 and up: `@wsmp/cluster`).
 */
export const CloseCode = {
  /** RFC 6455 1000: normal closure. */
  NORMAL: 1000,
  /** RFC 6455 1001: the endpoint is going away (a server shutting down). */
  GOING_AWAY: 1001,
  /** RFC 6455 1002: protocol error. */
  PROTOCOL_ERROR: 1002,
  /** RFC 6455 1003: data of a type the endpoint cannot accept. */
  UNSUPPORTED_DATA: 1003,
  /** RFC 6455 1005: the close frame had no code (never sent). */
  NO_STATUS: 1005,
  /** RFC 6455 1006: closed without a close frame (never sent; wsmp reports it as −1, as Godot does). */
  ABNORMAL: 1006,
  /** RFC 6455 1007: a message with invalid data (such as bad UTF-8 in a text frame). */
  INVALID_PAYLOAD: 1007,
  /** RFC 6455 1008: policy violation. */
  POLICY_VIOLATION: 1008,
  /** RFC 6455 1009: a message over `inboundBufferSize`. */
  MESSAGE_TOO_BIG: 1009,
  /** RFC 6455 1011: the server hit an unexpected condition. */
  INTERNAL_ERROR: 1011,
  /** RFC 6455 1013: try again later. */
  TRY_AGAIN_LATER: 1013,
  /** The peer could not take a reliable packet: its outbound buffer was full (a slow consumer). */
  OUTBOUND_BUFFER_FULL: 4000,
  /** The peer did not answer a heartbeat ping before the next one was due. */
  HEARTBEAT_TIMEOUT: 4001,
  /** The server sent something other than a valid 4-byte id as its first message. */
  INVALID_ID: 4002,
  /** The handshake (TCP + TLS + upgrade + id) did not finish within `handshakeTimeout`. */
  HANDSHAKE_TIMEOUT: 4003,
  /** A browser peer's inbound queue passed `maxQueuedPackets` (browsers cannot pause a socket). */
  INBOUND_QUEUE_FULL: 4004,
  /**
   * A client sent more than the server's `maxPacketsPerSecond` or `maxBytesPerSecond` allow (a
   * token bucket holding one second's worth). Reason "rate limit".
   */
  RATE_LIMITED: 4008,
  /**
   * A browser received a message over `inboundBufferSize`. Browsers may not send 1009, so they
   * close with this code instead (Node peers close with 1009).
   */
  MESSAGE_TOO_BIG_BROWSER: 4009,
  /**
   * `@wsmp/cluster`: the edge this client is connected to lost the session's authority (the game
   * server) — it crashed or was killed, stopped answering for longer than the cluster's
   * `timeoutMs`, replaced by a new authority, or it dropped this edge as unreachable. Reason
   * "cluster: authority lost" (the detail follows it).
   */
  AUTHORITY_LOST: 4010,
  /**
   * `@wsmp/cluster`: the edge this client is connected to could not reach Redis for longer than the
   * cluster's `timeoutMs`, or Redis restarted (or lost messages) so the session's traffic could not
   * be carried on without a gap. Reason "cluster: Redis unavailable" (the detail follows it).
   */
  REDIS_UNAVAILABLE: 4011,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** Why an inbound message or an outbound packet was dropped; the keys of the `dropped` counters. */
export const DropReason = {
  /** Too short for its command (`[0x03]` with no payload, SYS shorter than 6 bytes, RELAY without a packet). */
  MALFORMED: 'malformed',
  /** A command byte that is not RAW (3) or SYS (7), or a SYS command that is not ADD/DEL/RELAY. */
  UNKNOWN_COMMAND: 'unknown_command',
  /**
   * A SceneMultiplayer command this peer does not interpret: RPC, path cache, spawn or sync with no
   * scene handler installed (see `@wsmp/godot`), auth data with no `authCallback`, or one sent the
   * wrong way.
   */
  NOT_INTERPRETED: 'not_interpreted',
  /** A packet other than auth from a peer that has not completed SceneMultiplayer authentication. */
  UNAUTHENTICATED: 'unauthenticated',
  /** A relay to a peer that is not connected. */
  ABSENT_TARGET: 'absent_target',
  /** A relay addressed to its own sender. */
  SELF_TARGET: 'self_target',
  /** Relay traffic while `serverRelay` is false: a client's relay to other clients (server), or announcements and relayed packets (client). */
  RELAY_DISABLED: 'relay_disabled',
  /** An UNRELIABLE packet dropped (or an UNRELIABLE_ORDERED one replaced) under congestion. */
  CONGESTION: 'congestion',
  /** A message that arrived before the peer had its id, or after it started closing. */
  NOT_CONNECTED: 'not_connected',
  /** A message larger than `inboundBufferSize`: the connection was closed with 1009 (4009 in browsers). */
  OVERSIZE: 'oversize',
  /**
   * A reliable packet (broadcast, relay or announcement) a peer had no room for: the peer was
   * disconnected with {@link CloseCode.OUTBOUND_BUFFER_FULL} instead of losing it silently.
   */
  OUTBOUND_FULL: 'outbound_full',
} as const
export type DropReason = (typeof DropReason)[keyof typeof DropReason]
