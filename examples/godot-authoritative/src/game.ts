// An authoritative game server for Godot 4 clients, in TypeScript: a wsmp server (peer 1) that
// owns the game state and talks to the clients with Godot's rpc(), both ways.
//
// The Godot client (godot/game.gd) has a node at /root/Main/Game with these @rpc methods; this
// server declares the same node with the same methods (the names decide the method ids):
//
//   clients → server (any_peer):   move(direction: Vector2)    say(text: String)
//   server → clients (authority):  welcome(world_size, tick_rate)   state(tick, positions)
//                                  chat(from_id, text)              player_left(id)
//
// Clients only ask: the server validates every request, simulates, and broadcasts the state. A
// client calling an authority method on the server (say, state) is refused and counted by
// SceneRpc, as Godot would refuse it.
import { ErrorCode, WebSocketMultiplayerPeer } from '@wsmp/server'
import { SceneRpc, Vector2, type RpcNode } from '@wsmp/godot'

/** The world, in pixels. */
export const WORLD = new Vector2(640, 360)
/** Pixels per second at full input. */
export const SPEED = 200
/** The longest chat line. */
export const MAX_CHAT = 120

/** One player: what the server knows and decides. */
export interface Player {
  readonly id: number
  position: Vector2
  /** The last direction asked for (length ≤ 1). */
  direction: Vector2
  /** When this player last chatted (ms), for the rate limit. */
  lastChat: number
}

/** Options of {@link GameServer}. */
export interface GameServerOptions {
  /** State broadcasts per second. Default 20. */
  tickRate?: number
  /** Where the server tells what happens (joins, leaves, chat, refusals). Default: nothing. */
  log?: (line: string) => void
}

type GameMethod = 'chat' | 'move' | 'player_left' | 'say' | 'state' | 'welcome'

/** The game: a wsmp server with the Game node, its players and its tick. */
export class GameServer {
  readonly peer = new WebSocketMultiplayerPeer({ logger: null })
  /** The RPC layer (Godot: `multiplayer`). */
  readonly multiplayer = new SceneRpc(this.peer, { logger: { warn: (line) => this.log(line) } })
  readonly game: RpcNode<GameMethod>
  readonly players = new Map<number, Player>()
  /** Requests refused by the game's own rules (bad direction, chat too long or too fast). */
  refused = 0
  tick = 0
  private readonly tickRate: number
  private readonly log: (line: string) => void
  private timer: ReturnType<typeof setInterval> | null = null

  constructor(options: GameServerOptions = {}) {
    this.tickRate = options.tickRate ?? 20
    this.log = options.log ?? (() => undefined)
    const mp = this.multiplayer
    this.game = mp.node('/root/Main/Game', {
      // Asked by clients: rpc_id(1, "move", direction).
      move: { mode: 'any_peer', handler: (direction) => this.move(mp.remoteSenderId, direction) },
      // Asked by clients: rpc_id(1, "say", text).
      say: { mode: 'any_peer', handler: (text) => this.say(mp.remoteSenderId, text) },
      // Run by the clients; only the authority (this server, 1) may call them.
      welcome: { mode: 'authority' },
      state: { mode: 'authority', transferMode: 'unreliable_ordered' },
      chat: { mode: 'authority' },
      player_left: { mode: 'authority' },
    })
    this.peer.on('peer_connected', (id) => this.join(id))
    this.peer.on('peer_disconnected', (id) => this.leave(id))
  }

  /** Listens on `port` (0 picks one) and starts ticking. */
  async start(port = 9080, host = '127.0.0.1'): Promise<ErrorCode> {
    const err = await this.peer.createServer(port, host)
    if (err !== ErrorCode.OK) return err
    this.timer = setInterval(() => this.step(), 1000 / this.tickRate)
    return ErrorCode.OK
  }

  /** The port it listens on. */
  get port(): number {
    return this.peer.getLocalPort()
  }

  /** Stops ticking and closes every connection. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.peer.close()
  }

  private join(id: number): void {
    const position = new Vector2(40 + Math.random() * (WORLD.x - 80), 40 + Math.random() * (WORLD.y - 80))
    this.players.set(id, { id, position, direction: new Vector2(0, 0), lastChat: 0 })
    this.game.rpcId(id, 'welcome', WORLD, this.tickRate)
    this.log(`player ${id} joined (${this.players.size} playing)`)
  }

  private leave(id: number): void {
    if (!this.players.delete(id)) return
    this.game.rpc('player_left', id)
    this.log(`player ${id} left (${this.players.size} playing)`)
  }

  /** A client's input: any Vector2 of length ≤ 1 (longer ones are shortened), else refused. */
  private move(id: number, direction: unknown): void {
    const player = this.players.get(id)
    if (!player || !(direction instanceof Vector2) || !Number.isFinite(direction.x) || !Number.isFinite(direction.y)) {
      this.refuse(id, `move: ${String(direction)} is not a direction`)
      return
    }
    const length = Math.hypot(direction.x, direction.y)
    player.direction = length > 1 ? new Vector2(direction.x / length, direction.y / length) : direction
  }

  /** A chat line: a non-empty string up to MAX_CHAT characters, at most two a second per player. */
  private say(id: number, text: unknown): void {
    const player = this.players.get(id)
    const line = typeof text === 'string' ? text.trim() : ''
    const now = Date.now()
    if (!player || line === '' || line.length > MAX_CHAT || now - player.lastChat < 500) {
      this.refuse(id, 'say: empty, too long or too fast')
      return
    }
    player.lastChat = now
    this.game.rpc('chat', id, line)
    this.log(`chat ${id}: ${line}`)
  }

  private refuse(id: number, why: string): void {
    this.refused++
    this.log(`refused from ${id}: ${why}`)
  }

  /** One tick: poll (handlers run inside), simulate, broadcast the state. */
  private step(): void {
    this.peer.poll()
    const dt = 1 / this.tickRate
    for (const player of this.players.values()) {
      const { position: p, direction: d } = player
      const x = Math.min(WORLD.x, Math.max(0, p.x + d.x * SPEED * dt))
      const y = Math.min(WORLD.y, Math.max(0, p.y + d.y * SPEED * dt))
      if (x !== p.x || y !== p.y) player.position = new Vector2(x, y)
    }
    this.tick++
    if (this.players.size === 0) return
    // Godot receives a Dictionary {id: Vector2}; the newest state is what matters.
    const positions = new Map<number, Vector2>([...this.players].map(([id, player]) => [id, player.position]))
    this.game.rpc('state', this.tick, positions)
  }
}
