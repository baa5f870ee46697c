// SceneMultiplayer's RPC layer on a wsmp peer: nodes with RPC methods, `rpc()` / `rpc_id()` both
// ways with Godot peers (and wsmp ones), the path cache (SIMPLIFY_PATH / CONFIRM_PATH) kept per
// peer, multiplayer authority and Godot's permission rules. Behaviour read from Godot 4's
// SceneRPCInterface and SceneCacheInterface and checked against the engine; the code is our own.
//
// Browser-safe: no Node APIs. The peer is any wsmp multiplayer peer with a scene handler slot and
// `sendCommand` (`@wsmp/client`'s and `@wsmp/server`'s `WebSocketMultiplayerPeer`).

import { ConnectionStatus, ErrorCode, SceneCommand, TransferMode, type Logger, type MultiplayerPeer, type Unsubscribe } from '@wsmp/core'
import { RpcMethods, decodeConfirmPath, decodeRemoteCall, decodeSimplifyPath, encodeConfirmPath, encodeRemoteCall, encodeSimplifyPath, MAX_RPC_ARGS } from './rpc.js'

/** The low three bits of a SceneMultiplayer packet's first byte: its command. */
const CMD_MASK = 0x07
/**
 * At most this many cache ids per peer (Godot keeps every id a peer assigned, without a bound; a
 * game that spawns many RPC nodes over a long session stays far below it, a flood does not).
 */
export const MAX_CACHE_IDS_PER_PEER = 65_536

/**
 * Who may call an RPC method on a node. Godot: `MultiplayerAPI.RPCMode`, the first argument of
 * `@rpc` (`"authority"`, `"any_peer"`); `'disabled'` is `RPC_MODE_DISABLED`.
 */
export type RpcMode = 'authority' | 'any_peer' | 'disabled'

/** A transfer mode by its `@rpc` name, or `TransferMode`'s number. Godot: `@rpc("reliable")` … */
export type RpcTransferMode = 'reliable' | 'unreliable' | 'unreliable_ordered' | TransferMode

/**
 * One RPC method of a node, as Godot's `@rpc(mode, sync, transfer_mode, channel)` annotation (or
 * `Node.rpc_config(method, config)`) declares it, with the function that runs it here.
 */
export interface RpcMethodConfig {
  /** Who may call it: `'authority'` (default, Godot's too), `'any_peer'` or `'disabled'`. Godot: `rpc_mode`. */
  mode?: RpcMode
  /** Also run it here when calling `rpc()` (or `rpcId()` with this peer's id). Default false. Godot: `"call_local"` / `call_local`. */
  callLocal?: boolean
  /** How calls to it are sent. Default `'reliable'`. Godot: `transfer_mode`. */
  transferMode?: RpcTransferMode
  /** The channel calls to it are sent on. Default 0. Godot: `channel`. */
  channel?: number
  /**
   * True for a method Godot configures on the node itself with `Node.rpc_config()` rather than with
   * `@rpc` in its script: such methods are numbered apart (ids with bit 15 set). Default false.
   */
  nodeConfig?: boolean
  /**
   * Runs the call, with the arguments as sent (decoded as `decodeVariant` does: check them, they
   * come from the network). `SceneRpc.remoteSenderId` tells who called. A method without a handler
   * can be called on other peers; called here, it is rejected (`noHandler`). A handler's exception
   * (or rejected promise) is logged and counted, never passed up to `poll()`.
   */
  handler?(...args: unknown[]): unknown
}

/**
 * The multiplayer peer a {@link SceneRpc} works on: any wsmp `WebSocketMultiplayerPeer` (client or
 * server) — it needs the scene handler slot, `sendCommand` and the peer signals.
 */
export interface SceneRpcPeer extends Pick<MultiplayerPeer, 'on' | 'getUniqueId' | 'getConnectionStatus' | 'logger'> {
  /** Where the peer hands SceneMultiplayer packets other than RAW and SYS. */
  sceneHandler: {
    /** A packet from peer `from`, its command byte first. */
    onScenePacket(from: number, packet: Uint8Array): void
  } | null
  /** Sends one SceneMultiplayer packet as Godot's `send_command` does. */
  sendCommand(target: number, packet: Uint8Array, mode?: TransferMode, channel?: number): ErrorCode
}

/** Options of a {@link SceneRpc}. */
export interface SceneRpcOptions {
  /**
   * The node paths are relative to (absolute ones given to `node()` must be under it). Default
   * `'/root'`, as the SceneTree's own multiplayer. Godot: `SceneMultiplayer.root_path`.
   */
  rootPath?: string
  /** Decode float arguments as `Float` (see `decodeVariant`'s `exactFloats`). Default false. */
  exactFloats?: boolean
  /** Where rejections and handler errors are reported. Default: the peer's logger. `null` silences them. */
  logger?: Logger | null
  /** At most one message per kind of problem in this many milliseconds (the rest are counted). Default 10 000. */
  logIntervalMs?: number
}

/** Why an incoming packet was refused (each is counted in {@link SceneRpcStats.rejected}). */
export type RpcRejectionKind =
  /** The call or SIMPLIFY_PATH names a node not declared here, or a cache id the sender never assigned. */
  | 'unknownNode'
  /** The method id is not one of the node's RPC methods. */
  | 'unknownMethod'
  /** The method's mode does not allow this sender (authority-only and the sender is not the authority, or disabled). */
  | 'permission'
  /** The method has no handler here. */
  | 'noHandler'
  /** The packet does not decode (truncated, bad arguments …). */
  | 'malformed'
  /**
   * A path-cache packet Godot also refuses (a cache id offered twice, a CONFIRM_PATH for a path
   * never offered), or a peer past {@link MAX_CACHE_IDS_PER_PEER}.
   */
  | 'cache'
  /** A SceneMultiplayer command this layer does not implement (SPAWN, DESPAWN, SYNC). */
  | 'unsupported'

/** The last thing refused, for diagnostics. */
export interface RpcRejection {
  /** What kind of problem. */
  kind: RpcRejectionKind
  /** The peer the packet came from. */
  from: number
  /** Why, in words (Godot's error text where it has one). */
  reason: string
}

/** Counters of a {@link SceneRpc}. */
export interface SceneRpcStats {
  /** Calls received from other peers and run. */
  received: number
  /** `rpc()` / `rpcId()` calls that sent a REMOTE_CALL to at least one peer. */
  sent: number
  /** Incoming packets refused, by kind (never thrown; the first of each kind is logged). */
  rejected: Record<RpcRejectionKind, number>
  /** SIMPLIFY_PATH / CONFIRM_PATH whose RPC checksum differed from ours (Godot prints an error and goes on). */
  checksumMismatches: number
  /** Handlers that threw (or whose promise was rejected). */
  handlerErrors: number
}

interface MethodState {
  readonly name: string
  readonly id: number
  readonly mode: RpcMode
  readonly callLocal: boolean
  readonly transferMode: TransferMode
  readonly channel: number
  readonly handler: ((...args: unknown[]) => unknown) | undefined
}

interface NodeState {
  /** Relative to the root path ('Game/Player'). */
  readonly path: string
  readonly methods: RpcMethods
  readonly byName: Map<string, MethodState>
  readonly byId: Map<number, MethodState>
  authority: number
  /** The id this side gave the node in its SIMPLIFY_PATH; 0 until the first call sends one. */
  cacheId: number
  /** Peers sent our SIMPLIFY_PATH → whether they confirmed it. */
  readonly confirmed: Map<number, boolean>
  handle: RpcNode<string>
  removed: boolean
}

interface PeerState {
  /** Cache ids this peer assigned (its SIMPLIFY_PATHs we confirmed) → the node path. */
  readonly received: Map<number, string>
  /** Our nodes whose path we offered this peer. */
  readonly offered: Set<NodeState>
}

const REJECTION_KINDS: readonly RpcRejectionKind[] = ['unknownNode', 'unknownMethod', 'permission', 'noHandler', 'malformed', 'cache', 'unsupported']
const MODES: readonly RpcMode[] = ['authority', 'any_peer', 'disabled']
const TRANSFER_MODES: Record<string, TransferMode> = {
  reliable: TransferMode.RELIABLE,
  unreliable: TransferMode.UNRELIABLE,
  unreliable_ordered: TransferMode.UNRELIABLE_ORDERED,
}

/** `path` relative to `root` without empty or '.' segments; null when absolute and not under `root`. */
function relativePath(path: string, root: string): string | null {
  let rel = path
  if (path.startsWith('/')) {
    if (path === root) rel = ''
    else if (path.startsWith(`${root}/`)) rel = path.slice(root.length + 1)
    else return null
  }
  return rel
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/')
}

function transferModeOf(value: RpcTransferMode | undefined, what: string): TransferMode {
  if (value === undefined) return TransferMode.RELIABLE
  if (typeof value === 'number' && (value === 0 || value === 1 || value === 2)) return value
  const mode = typeof value === 'string' ? TRANSFER_MODES[value] : undefined
  if (mode === undefined) throw new TypeError(`${what}: transferMode must be 'reliable', 'unreliable', 'unreliable_ordered' or a TransferMode, got ${String(value)}`)
  return mode
}

/**
 * A node with RPC methods, as {@link SceneRpc.node} declares it: call its methods on other peers
 * and set its multiplayer authority. The same path must exist with the same RPC methods on the
 * Godot side (the method ids and the path-cache checksum come from the sorted names).
 *
 * Godot: a `Node` with `@rpc` methods (`rpc()`, `rpc_id()`, `set_multiplayer_authority()`).
 */
export class RpcNode<M extends string = string> {
  /** @internal */
  private readonly _owner: SceneRpc
  /** @internal */
  private readonly _state: NodeState

  /** @internal Made by {@link SceneRpc.node}. */
  constructor(owner: SceneRpc, state: NodeState) {
    this._owner = owner
    this._state = state
  }

  /** The node's path relative to the root path, as it travels in SIMPLIFY_PATH (`'Game/Player'`). */
  get path(): string {
    return this._state.path
  }

  /** The node's method ids and checksum. Godot: `_get_node_config`, `get_rpc_md5`. */
  get methods(): RpcMethods {
    return this._state.methods
  }

  /** Whether {@link remove} was called. Godot: the node left the tree. */
  get removed(): boolean {
    return this._state.removed
  }

  /**
   * Calls `method` on every connected peer (and here too with `callLocal`). Returns OK, or an
   * `ErrorCode` whose reason `SceneRpc.getLastError()` gives (and the logger gets, rate-limited):
   * `ERR_CONNECTION_ERROR` when not connected, `ERR_INVALID_PARAMETER` for an unknown method or
   * arguments that cannot be encoded, the transport's error when a send fails. Never throws for
   * what goes on the wire.
   *
   * Godot: `Node.rpc(method, ...)`.
   */
  rpc(method: M, ...args: unknown[]): ErrorCode {
    return this._owner._call(this._state, 0, method, args)
  }

  /**
   * Calls `method` on peer `peerId`: 1 the server, n > 1 a client, 0 everyone, −n everyone but n;
   * this peer's own id runs it here only (with `callLocal`, else `ERR_INVALID_PARAMETER`). Errors
   * as {@link rpc}, plus `ERR_INVALID_PARAMETER` for a peer that is not connected.
   *
   * Godot: `Node.rpc_id(peer_id, method, ...)`.
   */
  rpcId(peerId: number, method: M, ...args: unknown[]): ErrorCode {
    if (!Number.isInteger(peerId)) throw new TypeError(`rpcId: the peer id must be an integer, got ${String(peerId)}`)
    return this._owner._call(this._state, peerId, method, args)
  }

  /**
   * Sets the peer whose calls `'authority'` methods accept (default 1, the server); `recursive`
   * (default true) sets it on the declared nodes below this one too.
   *
   * Godot: `Node.set_multiplayer_authority(id, recursive)`.
   */
  setMultiplayerAuthority(id: number, recursive = true): void {
    if (!Number.isInteger(id)) throw new TypeError(`setMultiplayerAuthority: the id must be an integer, got ${String(id)}`)
    this._owner._setAuthority(this._state, id, recursive)
  }

  /** The node's multiplayer authority (default 1). Godot: `Node.get_multiplayer_authority()`. */
  getMultiplayerAuthority(): number {
    return this._state.authority
  }

  /** Whether this peer is the node's authority. Godot: `Node.is_multiplayer_authority()`. */
  isMultiplayerAuthority(): boolean {
    return this._owner.peer.getUniqueId() === this._state.authority
  }

  /**
   * Forgets the node: calls to it are rejected as `unknownNode`, its path-cache id is dropped, and
   * its handle's `rpc()` returns `ERR_INVALID_PARAMETER`. Declaring the path again makes a new node
   * (which offers its path again, as Godot's re-added nodes do).
   *
   * Godot: the node leaving the tree (`queue_free()`), `SceneCacheInterface::_remove_node_cache`.
   */
  remove(): void {
    this._owner._removeNode(this._state)
  }
}

/**
 * SceneMultiplayer's RPC layer on a wsmp peer, so that it calls and answers Godot's `rpc()` /
 * `rpc_id()`: declare nodes with their RPC methods (the same paths and `@rpc` names as the Godot
 * game), then call through the returned {@link RpcNode}. It installs itself as the peer's
 * `sceneHandler` and follows `peer_connected` / `peer_disconnected`, so make it before the peer
 * connects. Everything it receives is handled inside the peer's `poll()`.
 *
 * ```ts
 * const peer = new WebSocketMultiplayerPeer()
 * const multiplayer = new SceneRpc(peer)
 * const game = multiplayer.node('/root/Game', {
 *   move: { mode: 'any_peer', handler: (dir) => console.log(multiplayer.remoteSenderId, dir) },
 *   state: { mode: 'authority', transferMode: 'unreliable_ordered' },
 * })
 * await peer.createServer(9080)
 * game.rpc('state', tick, positions) // Godot: rpc("state", tick, positions)
 * ```
 *
 * Godot: `SceneMultiplayer` (its RPC and path-cache parts: `SceneRPCInterface`, `SceneCacheInterface`).
 */
export class SceneRpc {
  /** The peer this layer works on. Godot: `SceneMultiplayer.multiplayer_peer`. */
  readonly peer: SceneRpcPeer
  /** The absolute path node paths are relative to. Godot: `SceneMultiplayer.root_path`. */
  readonly rootPath: string
  private readonly _exactFloats: boolean
  private readonly _logger: Logger | null | undefined
  private readonly _logInterval: number
  private readonly _nodes = new Map<string, NodeState>()
  /** Our cache ids → nodes. Godot: `assigned_ids`. */
  private readonly _assigned = new Map<number, NodeState>()
  private _nextCacheId = 1
  private readonly _peers = new Map<number, PeerState>()
  private _sender = 0
  private readonly _stats: SceneRpcStats = { received: 0, sent: 0, rejected: emptyRejections(), checksumMismatches: 0, handlerErrors: 0 }
  private _lastRejection: RpcRejection | null = null
  private _lastError = ''
  /** Per kind of problem: when it was last logged and how many were not logged since. */
  private readonly _logState = new Map<string, { at: number; unlogged: number }>()
  private readonly _unsubscribe: Unsubscribe[]
  private readonly _handler = { onScenePacket: (from: number, packet: Uint8Array): void => this._onScenePacket(from, packet) }
  private _closed = false

  /**
   * Attaches the RPC layer to `peer` (as its `sceneHandler`; a peer has at most one). Throws a
   * `TypeError` when the peer already has another scene handler.
   */
  constructor(peer: SceneRpcPeer, options: SceneRpcOptions = {}) {
    if (peer === null || typeof peer !== 'object' || typeof peer.sendCommand !== 'function' || typeof peer.on !== 'function') {
      throw new TypeError('SceneRpc needs a wsmp WebSocketMultiplayerPeer (with sceneHandler and sendCommand)')
    }
    if (peer.sceneHandler !== null && peer.sceneHandler !== undefined) {
      throw new TypeError('this peer already has a sceneHandler (another SceneRpc?): close() that one first')
    }
    const root = options.rootPath ?? '/root'
    if (typeof root !== 'string' || !root.startsWith('/')) throw new TypeError(`rootPath must be an absolute node path, got ${String(root)}`)
    this.peer = peer
    this.rootPath = root.length > 1 ? root.replace(/\/+$/, '') : root
    this._exactFloats = options.exactFloats ?? false
    this._logger = options.logger
    this._logInterval = options.logIntervalMs ?? 10_000
    peer.sceneHandler = this._handler
    this._unsubscribe = [
      peer.on('peer_connected', (id) => this._peerConnected(id)),
      peer.on('peer_disconnected', (id) => this._peerDisconnected(id)),
      peer.on('server_disconnected', () => this._clear()),
      peer.on('connection_failed', () => this._clear()),
    ]
    // A client attached while connected knows the server at least.
    if (peer.getConnectionStatus() === ConnectionStatus.CONNECTED && peer.getUniqueId() > 1) this._peerConnected(1)
  }

  /**
   * Declares a node and its RPC methods (name → config with the handler), at `path`: absolute
   * (`'/root/Game'`, under {@link rootPath}) or relative to it (`'Game'`). Method ids are the
   * indexes of the sorted names, so declare every `@rpc` method the Godot node has, with or
   * without a handler, or the checksum will not match. Throws a `TypeError` for a path declared
   * already or outside the root, and for a bad config.
   *
   * Godot: a node with `@rpc` methods added to the tree (`SceneRPCInterface::_parse_rpc_config`).
   */
  node<const T extends Record<string, RpcMethodConfig>>(path: string, methods: T): RpcNode<Extract<keyof T, string>> {
    if (typeof path !== 'string') throw new TypeError('node: the path must be a string')
    const rel = relativePath(path, this.rootPath)
    if (rel === null || rel === '') throw new TypeError(`node: ${JSON.stringify(path)} is not a node under ${this.rootPath}`)
    const existing = this._nodes.get(rel)
    if (existing) throw new TypeError(`node: ${rel} is declared already (remove() it first)`)
    if (methods === null || typeof methods !== 'object') throw new TypeError('node: methods must be an object of name → config')
    const names = Object.keys(methods)
    const scriptNames: string[] = []
    const nodeNames: string[] = []
    for (const name of names) {
      const config = methods[name] as RpcMethodConfig
      if (config === null || typeof config !== 'object') throw new TypeError(`node ${rel}: the config of ${name} must be an object`)
      ;(config.nodeConfig ? nodeNames : scriptNames).push(name)
    }
    const ids = new RpcMethods(scriptNames, nodeNames)
    const byName = new Map<string, MethodState>()
    const byId = new Map<number, MethodState>()
    for (const name of names) {
      const config = methods[name] as RpcMethodConfig
      const what = `node ${rel}, method ${name}`
      const mode = config.mode ?? 'authority'
      if (!MODES.includes(mode)) throw new TypeError(`${what}: mode must be 'authority', 'any_peer' or 'disabled', got ${String(mode)}`)
      const channel = config.channel ?? 0
      if (!Number.isInteger(channel) || channel < 0) throw new TypeError(`${what}: channel must be an integer ≥ 0`)
      if (config.handler !== undefined && typeof config.handler !== 'function') throw new TypeError(`${what}: handler must be a function`)
      const id = ids.id(name) as number
      const handler = config.handler
      const state: MethodState = {
        name,
        id,
        mode,
        callLocal: config.callLocal === true,
        transferMode: transferModeOf(config.transferMode, what),
        channel,
        handler: handler === undefined ? undefined : (...args: unknown[]) => handler.apply(config, args),
      }
      byName.set(name, state)
      byId.set(id, state)
    }
    const state: NodeState = {
      path: rel,
      methods: ids,
      byName,
      byId,
      authority: 1,
      cacheId: 0,
      confirmed: new Map(),
      handle: undefined as unknown as RpcNode<string>,
      removed: false,
    }
    const handle = new RpcNode<Extract<keyof T, string>>(this, state)
    state.handle = handle as RpcNode<string>
    this._nodes.set(rel, state)
    return handle
  }

  /** The declared node at `path` (absolute or relative to the root), or null. Godot: `get_node_or_null()`. */
  getNode(path: string): RpcNode | null {
    const rel = typeof path === 'string' ? relativePath(path, this.rootPath) : null
    return (rel !== null && this._nodes.get(rel)?.handle) || null
  }

  /**
   * The peer whose call is running: inside a handler the caller's id (this peer's own for a
   * `callLocal` call made here), 0 outside handlers. Godot: `multiplayer.get_remote_sender_id()`.
   */
  get remoteSenderId(): number {
    return this._sender
  }

  /** Same as {@link remoteSenderId}. Godot: `MultiplayerAPI.get_remote_sender_id()`. */
  getRemoteSenderId(): number {
    return this._sender
  }

  /** The connected peers RPCs go to (on a client: 1 and the peers the server announced). Godot: `multiplayer.get_peers()`. */
  getPeers(): number[] {
    return [...this._peers.keys()]
  }

  /** A copy of the counters. Godot has none: it prints an error for each refusal (`ERR_PRINT`). */
  getStats(): SceneRpcStats {
    return { ...this._stats, rejected: { ...this._stats.rejected } }
  }

  /**
   * Why the last `rpc()` / `rpcId()` (or path-cache send) failed, in words; empty until one did.
   * Godot prints these (`ERR_FAIL_COND_V_MSG` in `rpcp`).
   */
  getLastError(): string {
    return this._lastError
  }

  /** The last incoming packet refused, or null. Godot: the last of its error prints for them. */
  get lastRejection(): RpcRejection | null {
    return this._lastRejection
  }

  /**
   * Detaches from the peer: no longer its scene handler, no longer listening to it; calls return
   * `ERR_UNCONFIGURED`. Godot: setting `multiplayer_peer` to another peer.
   */
  close(): void {
    if (this._closed) return
    this._closed = true
    for (const off of this._unsubscribe) off()
    if (this.peer.sceneHandler === this._handler) this.peer.sceneHandler = null
    this._clear()
  }

  // ---- peers ---------------------------------------------------------------------------------

  private _peerConnected(id: number): void {
    this._forgetPeer(id)
    this._peers.set(id, { received: new Map(), offered: new Set() })
  }

  private _peerDisconnected(id: number): void {
    this._forgetPeer(id)
  }

  /** Drops what peer `id` told us and what we told it. Godot: `SceneCacheInterface::on_peer_change`. */
  private _forgetPeer(id: number): void {
    const peer = this._peers.get(id)
    if (!peer) return
    for (const node of peer.offered) node.confirmed.delete(id)
    this._peers.delete(id)
  }

  /** Everything about peers and cache ids forgotten (disconnected from the server). Godot: `SceneCacheInterface::clear`. */
  private _clear(): void {
    this._peers.clear()
    this._assigned.clear()
    this._nextCacheId = 1
    for (const node of this._nodes.values()) {
      node.cacheId = 0
      node.confirmed.clear()
    }
  }

  // ---- calling -------------------------------------------------------------------------------

  /** @internal `rpc()` / `rpc_id()`. Godot: `SceneRPCInterface::rpcp`. */
  _call(node: NodeState, target: number, name: string, args: unknown[]): ErrorCode {
    const peer = this.peer
    if (this._closed) return this._fail(ErrorCode.ERR_UNCONFIGURED, `rpc: this SceneRpc was closed`)
    if (node.removed) return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `rpc: node ${node.path} was removed`)
    if (peer.getConnectionStatus() !== ConnectionStatus.CONNECTED) {
      return this._fail(ErrorCode.ERR_CONNECTION_ERROR, `rpc ${name} on ${node.path}: the peer is not connected`)
    }
    const method = node.byName.get(name)
    if (!method) return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `rpc: ${JSON.stringify(name)} is not an RPC method of node ${node.path}`)
    const own = peer.getUniqueId()
    if (target === own && !method.callLocal) {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `rpc ${name} on ${node.path}: calling oneself (${own}) needs callLocal`)
    }
    const local = method.callLocal && (target === 0 || target === own || (target < 0 && target !== -own))
    let err: ErrorCode = ErrorCode.OK
    if (target !== own) err = this._send(node, method, target, args)
    if (local && method.handler) this._invoke(node, method, args, own)
    return err
  }

  /** Sends a call to `target`'s peers with the path cache's rules. Godot: `SceneRPCInterface::_send_rpc`. */
  private _send(node: NodeState, method: MethodState, target: number, args: unknown[]): ErrorCode {
    const own = this.peer.getUniqueId()
    if (args.length > MAX_RPC_ARGS) return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `rpc ${method.name}: too many arguments (${args.length} > ${MAX_RPC_ARGS})`)
    if (target !== 0 && !this._peers.has(Math.abs(target))) {
      return this._fail(ErrorCode.ERR_INVALID_PARAMETER, `rpc ${method.name} on ${node.path}: peer ${Math.abs(target)} is not connected${Math.abs(target) === own ? ' (it is this peer)' : ''}`)
    }
    const targets = target > 0 ? [target] : [...this._peers.keys()].filter((id) => id !== -target)
    if (targets.length === 0) return ErrorCode.OK
    // The arguments are checked before anything is sent.
    const compactCall = (wide: boolean): ReturnType<typeof encodeRemoteCall> => encodeRemoteCall({ node: node.cacheId, method: method.id, args }, { wideNodeId: wide })
    if (node.cacheId === 0) {
      node.cacheId = this._nextCacheId++
      this._assigned.set(node.cacheId, node)
    }
    const first = compactCall(false)
    if (!first.ok) return this._fail(first.error, `rpc ${method.name} on ${node.path}: ${first.reason}`)
    // Offer the path to every target that has not had it; a call is compact only when all confirmed.
    let allConfirmed = true
    const offer: number[] = []
    for (const id of targets) {
      const confirmed = node.confirmed.get(id)
      if (confirmed === undefined) offer.push(id)
      if (confirmed !== true) allConfirmed = false
    }
    if (offer.length > 0) this._offerPath(node, offer)
    let err: ErrorCode = ErrorCode.OK
    const note = (id: number, result: ErrorCode): void => {
      // A broadcast that meets a peer leaving in between is not the caller's error.
      if (result !== ErrorCode.OK && err === ErrorCode.OK && (target > 0 || result !== ErrorCode.ERR_INVALID_PARAMETER)) err = result
      if (result !== ErrorCode.OK) this._fail(result, `rpc ${method.name} on ${node.path} to peer ${id}: not sent (${result})`)
    }
    if (allConfirmed) {
      for (const id of targets) note(id, this.peer.sendCommand(id, first.bytes, method.transferMode, method.channel))
    } else {
      let wide: Uint8Array | null = null
      let byPath: Uint8Array | null = null
      for (const id of targets) {
        let packet: Uint8Array
        if (node.confirmed.get(id) === true) {
          if (!wide) {
            const encoded = compactCall(true)
            if (!encoded.ok) return this._fail(encoded.error, encoded.reason)
            wide = encoded.bytes
          }
          packet = wide
        } else {
          if (!byPath) {
            const encoded = encodeRemoteCall({ node: node.path, method: method.id, args })
            if (!encoded.ok) return this._fail(encoded.error, encoded.reason)
            byPath = encoded.bytes
          }
          packet = byPath
        }
        note(id, this.peer.sendCommand(id, packet, method.transferMode, method.channel))
      }
    }
    this._stats.sent++
    return err
  }

  /** SIMPLIFY_PATH to each of `peers`, remembered as unconfirmed. Godot: `SceneCacheInterface::_send_confirm_path`. */
  private _offerPath(node: NodeState, peers: number[]): void {
    const packet = encodeSimplifyPath({ checksum: node.methods.checksum, cacheId: node.cacheId, path: node.path })
    if (!packet.ok) {
      this._fail(packet.error, `SIMPLIFY_PATH of ${node.path}: ${packet.reason}`)
      return
    }
    for (const id of peers) {
      const err = this.peer.sendCommand(id, packet.bytes, TransferMode.RELIABLE, 0)
      if (err !== ErrorCode.OK) {
        this._fail(err, `SIMPLIFY_PATH of ${node.path} to peer ${id}: not sent`)
        return
      }
      node.confirmed.set(id, false)
      this._peers.get(id)?.offered.add(node)
    }
  }

  /** @internal Runs a handler with `sender` as the remote sender. */
  private _invoke(node: NodeState, method: MethodState, args: readonly unknown[], sender: number): void {
    const handler = method.handler
    if (!handler) return
    const previous = this._sender
    this._sender = sender
    try {
      const result = handler(...args)
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        ;(result as PromiseLike<unknown>).then(undefined, (err: unknown) => this._handlerError(node, method, sender, err))
      }
    } catch (err) {
      this._handlerError(node, method, sender, err)
    } finally {
      this._sender = previous
    }
  }

  private _handlerError(node: NodeState, method: MethodState, sender: number, err: unknown): void {
    this._stats.handlerErrors++
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err)
    this._log('handlerError', `RPC ${method.name} on ${node.path} from peer ${sender}: the handler failed: ${text}`)
  }

  /** @internal */
  _setAuthority(node: NodeState, id: number, recursive: boolean): void {
    node.authority = id
    if (!recursive) return
    const prefix = `${node.path}/`
    for (const other of this._nodes.values()) if (other.path.startsWith(prefix)) other.authority = id
  }

  /** @internal */
  _removeNode(node: NodeState): void {
    if (node.removed) return
    node.removed = true
    if (this._nodes.get(node.path) === node) this._nodes.delete(node.path)
    if (node.cacheId !== 0) this._assigned.delete(node.cacheId)
    for (const id of node.confirmed.keys()) this._peers.get(id)?.offered.delete(node)
    node.confirmed.clear()
  }

  // ---- receiving -----------------------------------------------------------------------------

  /** A SceneMultiplayer packet for us (inside the peer's poll()). Never throws. */
  private _onScenePacket(from: number, packet: Uint8Array): void {
    if (this._closed) return
    try {
      if (packet.length === 0) return this._reject('malformed', from, 'an empty scene packet')
      // A peer this layer has not seen connect (made after the peer connected): known from now on.
      if (!this._peers.has(from)) this._peers.set(from, { received: new Map(), offered: new Set() })
      switch ((packet[0] as number) & CMD_MASK) {
        case SceneCommand.REMOTE_CALL:
          return this._onRemoteCall(from, packet)
        case SceneCommand.SIMPLIFY_PATH:
          return this._onSimplifyPath(from, packet)
        case SceneCommand.CONFIRM_PATH:
          return this._onConfirmPath(from, packet)
        default:
          return this._reject('unsupported', from, `SceneMultiplayer command ${(packet[0] as number) & CMD_MASK} (spawn, despawn or sync) is not implemented by SceneRpc`)
      }
    } catch (err) {
      // Our bug, not the sender's: still never out of poll().
      this._reject('malformed', from, `internal error: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  /** Godot: `SceneRPCInterface::process_rpc`, `_process_rpc`. */
  private _onRemoteCall(from: number, packet: Uint8Array): void {
    const decoded = decodeRemoteCall(packet, { exactFloats: this._exactFloats })
    if (!decoded.ok) return this._reject('malformed', from, decoded.reason)
    const call = decoded.call
    let node: NodeState | undefined
    if (typeof call.node === 'string') {
      const rel = relativePath(call.node, this.rootPath)
      node = rel === null ? undefined : this._nodes.get(rel)
      if (!node) return this._reject('unknownNode', from, `Failed to get path from RPC: ${call.node} (no such node declared)`)
    } else {
      const path = this._peers.get(from)?.received.get(call.node)
      node = path === undefined ? undefined : this._nodes.get(path)
      if (!node) {
        return this._reject('unknownNode', from, path === undefined ? `ID ${call.node} not found in cache of peer ${from}` : `Failed to get cached node from peer ${from} with cache ID ${call.node} (${path})`)
      }
    }
    const method = node.byId.get(call.method)
    if (!method) return this._reject('unknownMethod', from, `no RPC method with id ${call.method} on node ${node.path}`)
    const allowed = method.mode === 'any_peer' || (method.mode === 'authority' && from === node.authority)
    if (!allowed) {
      return this._reject(
        'permission',
        from,
        `RPC '${method.name}' is not allowed on node ${node.path} from: ${from}. Mode is "${method.mode}", authority is ${node.authority}.`,
      )
    }
    if (!method.handler) return this._reject('noHandler', from, `RPC '${method.name}' on node ${node.path} has no handler here`)
    this._stats.received++
    this._invoke(node, method, call.args, from)
  }

  /** Godot: `SceneCacheInterface::process_simplify_path`. */
  private _onSimplifyPath(from: number, packet: Uint8Array): void {
    const decoded = decodeSimplifyPath(packet)
    if (!decoded.ok) return this._reject('malformed', from, decoded.reason)
    const { checksum, cacheId, path } = decoded.message
    const peer = this._peers.get(from) as PeerState
    if (peer.received.has(cacheId)) return this._reject('cache', from, `Duplicate remote cache ID ${cacheId} for peer ${from}`)
    if (peer.received.size >= MAX_CACHE_IDS_PER_PEER) return this._reject('cache', from, `peer ${from} offered more than ${MAX_CACHE_IDS_PER_PEER} paths`)
    const rel = relativePath(path, this.rootPath)
    const node = rel === null ? undefined : this._nodes.get(rel)
    if (!node) return this._reject('unknownNode', from, `SIMPLIFY_PATH for ${path}: no such node declared`)
    const valid = node.methods.checksum === checksum
    if (!valid) {
      this._stats.checksumMismatches++
      this._log('checksum', `The rpc node checksum failed. Make sure to have the same methods on both nodes. Node path: ${node.path} (peer ${from})`)
    }
    peer.received.set(cacheId, node.path)
    const answer = encodeConfirmPath({ valid, cacheId })
    if (answer.ok) {
      const err = this.peer.sendCommand(from, answer.bytes, TransferMode.RELIABLE, 0)
      if (err !== ErrorCode.OK) this._fail(err, `CONFIRM_PATH of ${node.path} to peer ${from}: not sent`)
    }
  }

  /** Godot: `SceneCacheInterface::process_confirm_path`. */
  private _onConfirmPath(from: number, packet: Uint8Array): void {
    const decoded = decodeConfirmPath(packet)
    if (!decoded.ok) return this._reject('malformed', from, decoded.reason)
    const { valid, cacheId } = decoded.message
    const node = this._assigned.get(cacheId)
    if (!node) return // a node removed since (Godot ignores it too)
    if (!valid) {
      this._stats.checksumMismatches++
      this._log('checksum', `The rpc node checksum failed. Make sure to have the same methods on both nodes. Node path: ${node.path} (peer ${from})`)
    }
    if (!node.confirmed.has(from)) return this._reject('cache', from, `Invalid packet received. Tries to confirm a node which was not requested (${node.path}).`)
    node.confirmed.set(from, true)
  }

  // ---- reporting -----------------------------------------------------------------------------

  private _reject(kind: RpcRejectionKind, from: number, reason: string): void {
    this._stats.rejected[kind]++
    this._lastRejection = { kind, from, reason }
    this._log(kind, `rejected a packet from peer ${from} (${kind}): ${reason}`)
  }

  /** Records a failed call: logged (rate-limited), the code returned. */
  private _fail(code: ErrorCode, reason: string): ErrorCode {
    this._lastError = reason
    this._log(`call:${code}`, reason)
    return code
  }

  /** Logs the first message of each kind, then at most one per `logIntervalMs` with the count skipped. */
  private _log(kind: string, message: string): void {
    const logger = this._logger === undefined ? this.peer.logger : this._logger
    if (!logger) return
    const now = Date.now()
    const state = this._logState.get(kind)
    if (state && now - state.at < this._logInterval) {
      state.unlogged++
      return
    }
    const skipped = state?.unlogged ?? 0
    this._logState.set(kind, { at: now, unlogged: 0 })
    logger.warn(`SceneRpc: ${message}${skipped > 0 ? ` (${skipped} more of this kind since the last message)` : ''}`)
  }
}

function emptyRejections(): Record<RpcRejectionKind, number> {
  return Object.fromEntries(REJECTION_KINDS.map((kind) => [kind, 0])) as Record<RpcRejectionKind, number>
}
