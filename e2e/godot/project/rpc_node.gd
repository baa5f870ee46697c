# A node with RPC methods, added at /root/Rpc on every Godot peer of a scenario so that
# SceneMultiplayer resolves the same path everywhere. Each call received is reported as one
# JSON line through `report` (set by peer.gd).
extends Node

var report: Callable


@rpc("any_peer", "call_remote", "reliable")
func hello(text: String, number: int) -> void:
	report.call({"ev": "rpc", "method": "hello", "from": multiplayer.get_remote_sender_id(), "args": [text, number]})


@rpc("any_peer", "call_remote", "reliable")
func ping(payload: PackedByteArray) -> void:
	report.call({"ev": "rpc", "method": "ping", "from": multiplayer.get_remote_sender_id(), "args": [payload.hex_encode()]})
