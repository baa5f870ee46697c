extends SceneTree
# A Godot 4 client for the RPC capture (test/rpc-engine.test.ts):
#   godot4 --headless --path packages/godot/test/godot -s res://rpc_client.gd -- ws://127.0.0.1:PORT
# It joins the server (peer 1) over WebSocketMultiplayerPeer and, in phases the server starts by
# sending RAW "go<n>", makes RPCs to it with rpc_id(1, …). Before each RPC it sends RAW
# "call <label>", so the server can tell which packets each call made. It ends a phase with RAW
# "end<n>". Phase 1: paths not confirmed yet; phase 2: after the server's CONFIRM_PATH; phase 3:
# 300 more nodes (cache ids past 255); phase 4: the last of them, confirmed (a 16-bit node id).
# Between phases the server may send its own RPCs, which Game's methods report on stdout.

const MANY := 300
var mp: SceneMultiplayer
var game: Node
var many: Node

func _initialize() -> void:
	game = Node.new()
	game.name = "Game"
	game.set_script(load("res://rpc_game.gd"))
	game.rpc_config("native_b", {"rpc_mode": MultiplayerAPI.RPC_MODE_ANY_PEER})
	game.rpc_config("native_a", {"rpc_mode": MultiplayerAPI.RPC_MODE_ANY_PEER})
	root.add_child(game)
	many = Node.new()
	many.name = "Many"
	root.add_child(many)
	mp = get_multiplayer()
	mp.connected_to_server.connect(func(): phase(1))
	mp.connection_failed.connect(func(): finish(3, "connection failed"))
	mp.server_disconnected.connect(func(): finish(0, "server disconnected"))
	mp.peer_packet.connect(_on_packet)
	var peer := WebSocketMultiplayerPeer.new()
	var err := peer.create_client(OS.get_cmdline_user_args()[0])
	if err != OK:
		finish(2, "create_client: " + str(err))
		return
	mp.multiplayer_peer = peer
	# A watchdog: the test normally ends us long before this.
	create_timer(15.0).timeout.connect(func(): finish(4, "timed out"))

func finish(code: int, why: String) -> void:
	print("FINISH ", code, " ", why)
	quit(code)

func _on_packet(_from: int, data: PackedByteArray) -> void:
	var text := data.get_string_from_utf8()
	if text.begins_with("go"):
		phase(int(text.substr(2)))
	elif text == "quit":
		finish(0, "done")

func send(label: String, node: Node, method: String, args: Array) -> void:
	mp.send_bytes(("call " + label).to_utf8_buffer(), 1)
	var err = node.callv("rpc_id", [1, method] + args)
	if err != OK:
		print("RPC_ERROR ", label, " ", err)

func common_calls() -> void:
	send("nothing", game, "nothing", [])
	send("int8", game, "alpha", [5])
	send("bytes", game, "bytes", [PackedByteArray([1, 2, 3])])
	send("native_b", game, "native_b", [7])

func phase(n: int) -> void:
	print("PHASE ", n)
	match n:
		1:
			common_calls()
			send("bool_true", game, "alpha", [true])
			send("bool_false", game, "alpha", [false])
			send("int8_min", game, "alpha", [-128])
			send("int16", game, "alpha", [-200])
			send("int16_max", game, "alpha", [32767])
			send("int32", game, "alpha", [100000])
			send("int32_min", game, "alpha", [-2147483648])
			send("int64", game, "alpha", [1 << 40])
			send("int64_min", game, "alpha", [-9223372036854775808])
			send("float", game, "alpha", [1.5])
			send("float64", game, "alpha", [0.1])
			send("nil", game, "alpha", [null])
			send("string", game, "alpha", ["héllo"])
			send("stringname", game, "alpha", [&"sn"])
			send("vector2", game, "alpha", [Vector2(1, 2)])
			send("color", game, "alpha", [Color(1, 0.5, 0.25, 1)])
			send("array", game, "alpha", [[1, "a", 2.5]])
			var typed: Array[int] = [1, 2]
			send("typed_array", game, "alpha", [typed])
			send("dictionary", game, "alpha", [{"k": Vector3(1, 2, 3), 2: [true]}])
			send("int32s", game, "alpha", [PackedInt32Array([1, -2])])
			send("bytes_empty", game, "bytes", [PackedByteArray()])
			send("move", game, "move", [Vector2(1.5, 2), Vector2(-1, 0), 42])
			send("mixed", game, "mixed", [true, 300, "x"])
			send("eight_args", game, "Beta", [1, 2, 3, 4, 5, 6, 7, 8])
			send("unicode_method", game, "ünï", ["u"])
			send("zeta", game, "zeta", [])
			send("native_a", game, "native_a", [])
		2:
			common_calls()
			send("move", game, "move", [Vector2(3, 4), Vector2(0, -1), 43])
		3:
			for i in MANY:
				var node := Node.new()
				node.name = "N%d" % i
				node.set_script(load("res://rpc_ping.gd"))
				many.add_child(node)
				send("ping_%d" % i, node, "ping", [i])
		4:
			send("ping_last", many.get_child(MANY - 1), "ping", [MANY - 1])
	mp.send_bytes(("end%d" % n).to_utf8_buffer(), 1)
