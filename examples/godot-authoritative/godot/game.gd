extends Node
# The node both sides share, at /root/Main/Game: its @rpc methods are the protocol. The Node
# server (../src/game.ts) declares the same node with the same method names, modes and transfer
# modes (the sorted names give the method ids, and their checksum must match).
#
# Clients ask, the server decides:
#   move and say are called by clients on the server: rpc_id(1, "move", direction). The server
#   implements them; here they only exist so that both sides number the methods alike.
#   welcome, state, chat and player_left are called by the server (the node's multiplayer
#   authority, 1) on the clients; Godot refuses them from anyone else.

signal welcomed(world_size: Vector2, tick_rate: int)
signal state_received(tick: int, positions: Dictionary)
signal chat_received(from_id: int, text: String)
signal player_gone(id: int)


@rpc("any_peer", "call_remote", "reliable")
func move(_direction: Vector2) -> void:
	pass


@rpc("any_peer", "call_remote", "reliable")
func say(_text: String) -> void:
	pass


@rpc("authority", "call_remote", "reliable")
func welcome(world_size: Vector2, tick_rate: int) -> void:
	welcomed.emit(world_size, tick_rate)


@rpc("authority", "call_remote", "unreliable_ordered")
func state(tick: int, positions: Dictionary) -> void:
	state_received.emit(tick, positions)


@rpc("authority", "call_remote", "reliable")
func chat(from_id: int, text: String) -> void:
	chat_received.emit(from_id, text)


@rpc("authority", "call_remote", "reliable")
func player_left(id: int) -> void:
	player_gone.emit(id)
