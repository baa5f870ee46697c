# A node with RPC methods, added at /root/Rpc on every Godot peer of a scenario so that
# SceneMultiplayer resolves the same path everywhere (a wsmp peer declares the same node and
# methods with @wsmp/godot's SceneRpc: e2e/godot/support/rpc.ts). Each call received is reported
# as one JSON line through `report` (set by peer.gd).
extends Node

var report: Callable


@rpc("any_peer", "call_remote", "reliable")
func hello(text: String, number: int) -> void:
	report.call({"ev": "rpc", "method": "hello", "from": multiplayer.get_remote_sender_id(), "args": [text, number]})


@rpc("any_peer", "call_remote", "reliable")
func ping(payload: PackedByteArray) -> void:
	report.call({"ev": "rpc", "method": "ping", "from": multiplayer.get_remote_sender_id(), "args": [payload.hex_encode()]})


# Any argument: reported as var_to_bytes([value]), so the test compares it byte for byte.
@rpc("any_peer", "call_remote", "reliable")
func data(value) -> void:
	report.call({"ev": "rpc", "method": "data", "from": multiplayer.get_remote_sender_id(), "hex": var_to_bytes([value]).hex_encode()})


# Only the node's multiplayer authority (1 unless set_authority changed it) may call this.
@rpc("authority", "call_remote", "reliable")
func owner_only(value) -> void:
	report.call({"ev": "rpc", "method": "owner_only", "from": multiplayer.get_remote_sender_id(), "args": [value]})
