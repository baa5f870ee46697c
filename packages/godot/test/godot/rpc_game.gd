extends Node
# The RPC methods of the node "Game" in rpc_client.gd. Declared out of order on purpose: the ids
# are the indexes of the names sorted by code point (Beta, alpha, bytes, mixed, move, nothing,
# zeta, ünï). Each reports what it received: "GOT method sender hex(var_to_bytes(args))".

func report(method: String, args: Array) -> void:
	print("GOT ", method, " ", multiplayer.get_remote_sender_id(), " ", var_to_bytes(args).hex_encode())

@rpc("any_peer")
func zeta() -> void:
	report("zeta", [])

@rpc("any_peer")
func alpha(a) -> void:
	report("alpha", [a])

@rpc("any_peer")
func move(pos: Vector2, vel: Vector2, tick: int) -> void:
	report("move", [pos, vel, tick])

@rpc("any_peer")
func Beta(a, b, c, d, e, f, g, h) -> void:
	report("Beta", [a, b, c, d, e, f, g, h])

@rpc("any_peer")
func bytes(data: PackedByteArray) -> void:
	report("bytes", [data])

@rpc("any_peer")
func mixed(a, b, c) -> void:
	report("mixed", [a, b, c])

@rpc("any_peer")
func nothing() -> void:
	report("nothing", [])

@rpc("any_peer")
func ünï(a) -> void:
	report("ünï", [a])

# Not @rpc: rpc_client.gd configures these on the node itself (rpc_config), so their ids have bit 15.
func native_b(a) -> void:
	report("native_b", [a])

func native_a() -> void:
	report("native_a", [])
