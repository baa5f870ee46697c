extends Node
# One RPC method, for the many nodes rpc_client.gd makes to get path-cache ids past 255.

@rpc("any_peer")
func ping(n: int) -> void:
	print("GOT ping ", multiplayer.get_remote_sender_id(), " ", n)
