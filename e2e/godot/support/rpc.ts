// The wsmp side of the RPC scenarios: a SceneRpc on a WsmpPeer with the node peer.gd has at
// /root/Rpc (project/rpc_node.gd: data, hello, owner_only, ping), recording the calls its handlers
// run (with the remote sender) and every scene packet in and out, for the path-cache checks.
import { SceneRpc, decodeRemoteCall, type RpcMethodConfig, type RpcNode } from '@wsmp/godot'
import { WAIT_MS, toHex, until } from './godot.js'
import type { WsmpPeer } from './wsmp.js'

/** A call a handler ran. */
export interface RpcCall {
  method: string
  from: number
  args: unknown[]
}

/** The methods of project/rpc_node.gd, by name. */
export type RpcNodeMethod = 'data' | 'hello' | 'owner_only' | 'ping'

/** A SceneRpc on a wsmp peer with /root/Rpc declared as in rpc_node.gd. */
export class WsmpRpc {
  readonly rpc: SceneRpc
  readonly node: RpcNode<RpcNodeMethod>
  /** Calls run here, in order. */
  readonly calls: RpcCall[] = []
  /** Scene packets received (RPC and path cache), as [from, hex]. */
  readonly incoming: [number, string][] = []
  /** Scene packets sent, as [target, hex]. */
  readonly outgoing: [number, string][] = []

  /**
   * Attaches to `peer` (before it connects, or at least before a poll ran, so that it hears
   * every peer_connected). `methods` replaces the node's method set (checksum scenarios).
   */
  constructor(
    readonly peer: WsmpPeer,
    methods?: Partial<Record<RpcNodeMethod, RpcMethodConfig>>,
  ) {
    const wsmp = peer.peer
    this.rpc = new SceneRpc(wsmp, { logger: null })
    const handler = wsmp.sceneHandler as NonNullable<typeof wsmp.sceneHandler>
    wsmp.sceneHandler = {
      onScenePacket: (from, packet) => {
        this.incoming.push([from, toHex(packet)])
        handler.onScenePacket(from, packet)
      },
    }
    const send = wsmp.sendCommand.bind(wsmp)
    wsmp.sendCommand = (target, packet, mode, channel) => {
      this.outgoing.push([target, toHex(packet)])
      return send(target, packet, mode, channel)
    }
    const record =
      (method: string) =>
      (...args: unknown[]): void => {
        this.calls.push({ method, from: this.rpc.remoteSenderId, args })
      }
    const all: Record<RpcNodeMethod, RpcMethodConfig> = {
      data: { mode: 'any_peer', handler: record('data') },
      hello: { mode: 'any_peer', handler: record('hello') },
      owner_only: { mode: 'authority', handler: record('owner_only') },
      ping: { mode: 'any_peer', handler: record('ping') },
    }
    this.node = this.rpc.node('/root/Rpc', (methods ?? all) as Record<RpcNodeMethod, RpcMethodConfig>)
  }

  /** Waits for a call of `method` (from `from`, when given) that satisfies `match`. */
  waitCall(method: RpcNodeMethod, from?: number, match: (call: RpcCall) => boolean = () => true, timeoutMs = WAIT_MS): Promise<RpcCall> {
    return until(
      () => this.calls.find((c) => c.method === method && (from === undefined || c.from === from) && match(c)),
      `${this.peer.name} to run ${method} from ${from ?? 'anyone'}`,
      timeoutMs,
    )
  }

  /** The REMOTE_CALL packets received from `from`, decoded. */
  callsFrom(from: number): { node: number | string; nodeIdBytes: number; hex: string }[] {
    return this.incoming
      .filter(([peer, hex]) => peer === from && (parseInt(hex.slice(0, 2), 16) & 7) === 0)
      .map(([, hex]) => {
        const decoded = decodeRemoteCall(Buffer.from(hex, 'hex'))
        if (!decoded.ok) throw new Error(`a REMOTE_CALL from ${from} does not decode: ${decoded.reason}`)
        return { node: decoded.call.node, nodeIdBytes: decoded.call.nodeIdBytes, hex }
      })
  }

  /** The packets sent to `target` whose command (low 3 bits of byte 0) is `command`. */
  sentTo(target: number, command: number): string[] {
    return this.outgoing.filter(([to, hex]) => to === target && (parseInt(hex.slice(0, 2), 16) & 7) === command).map(([, hex]) => hex)
  }
}
