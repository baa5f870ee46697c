extends Node2D
# The Godot 4 client of the example: joins the Node server, sends its input with
# rpc_id(1, "move", direction) and chat lines with rpc_id(1, "say", text), and draws the state the
# server broadcasts with rpc("state", tick, positions).
#
# Arguments after `--` (all optional):
#   --url=ws://127.0.0.1:9080   the server
#   --bot                       play by itself (the headless test): move right, say hello once
#                               --players=N players are in the game (default 1), report
#   --cheat                     (with --bot) also call the server's authority-only `state`: refused
# Events are printed as JSON lines (for the test). Arrow keys move; Enter sends the chat line.

@onready var game: Node = $Game

var opts := {}
var my_id := 0
var world := Vector2(640, 360)
var positions := {}
var last_direction := Vector2.ZERO
var start_x := -1.0
var welcomed := false
var moved := false
var heard_self := false
var said_hello := false
var lines: Array[String] = []
var chat_box: LineEdit
var chat_log: Label


func out(event: Dictionary) -> void:
	print(JSON.stringify(event))


func bot() -> bool:
	return opts.has("bot")


func _ready() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--"):
			var kv := arg.substr(2).split("=", true, 1)
			opts[kv[0]] = kv[1] if kv.size() > 1 else "1"
	game.welcomed.connect(_on_welcome)
	game.state_received.connect(_on_state)
	game.chat_received.connect(_on_chat)
	game.player_gone.connect(func(id: int): positions.erase(id); out({"ev": "player_left", "id": id}); queue_redraw())
	_make_ui()

	var peer := WebSocketMultiplayerPeer.new()
	var err := peer.create_client(str(opts.get("url", "ws://127.0.0.1:9080")))
	if err != OK:
		out({"ev": "error", "err": err})
		get_tree().quit(2)
		return
	multiplayer.connected_to_server.connect(_on_connected)
	multiplayer.connection_failed.connect(func(): out({"ev": "connection_failed"}); get_tree().quit(3))
	multiplayer.server_disconnected.connect(_on_server_gone)
	multiplayer.multiplayer_peer = peer
	if bot():
		# A watchdog: the test ends the game long before this.
		get_tree().create_timer(20.0).timeout.connect(func(): out({"ev": "timeout"}); get_tree().quit(4))


func _on_connected() -> void:
	my_id = multiplayer.get_unique_id()
	out({"ev": "connected", "id": my_id})
	if bot():
		game.rpc_id(1, "move", Vector2.RIGHT)
		if opts.has("cheat"):
			# Only the server may call state: the server refuses this (and counts it).
			game.rpc_id(1, "state", 999999, {my_id: Vector2.ZERO})


func _on_server_gone() -> void:
	out({"ev": "server_disconnected"})
	if bot():
		get_tree().quit(0)


func _on_welcome(world_size: Vector2, tick_rate: int) -> void:
	world = world_size
	welcomed = true
	out({"ev": "welcome", "from": multiplayer.get_remote_sender_id(), "world": [world_size.x, world_size.y], "tick_rate": tick_rate})


func _on_state(tick: int, new_positions: Dictionary) -> void:
	positions = new_positions
	queue_redraw()
	if not positions.has(my_id):
		return
	var me: Vector2 = positions[my_id]
	if bot() and not said_hello and positions.size() >= int(opts.get("players", "1")):
		said_hello = true
		game.rpc_id(1, "say", "hello from %d" % my_id)
	if start_x < 0:
		start_x = me.x
		out({"ev": "state", "tick": tick, "me": [me.x, me.y], "players": positions.size()})
	elif not moved and me.x >= start_x + 20.0:
		moved = true
		out({"ev": "moved", "tick": tick, "me": [me.x, me.y], "players": positions.size()})
	_check_done()


func _on_chat(from_id: int, text: String) -> void:
	out({"ev": "chat", "from": from_id, "text": text, "sender": multiplayer.get_remote_sender_id()})
	lines.append("%d: %s" % [from_id, text])
	if lines.size() > 6:
		lines.pop_front()
	chat_log.text = "\n".join(lines)
	if from_id == my_id:
		heard_self = true
	_check_done()


func _check_done() -> void:
	if bot() and welcomed and moved and heard_self:
		out({"ev": "done"})
		heard_self = false  # report once


func _process(_delta: float) -> void:
	if bot() or my_id == 0 or chat_box.has_focus():
		return
	var direction := Input.get_vector("ui_left", "ui_right", "ui_up", "ui_down")
	if direction != last_direction:
		last_direction = direction
		game.rpc_id(1, "move", direction)


func _draw() -> void:
	draw_rect(Rect2(Vector2.ZERO, world), Color(0.3, 0.3, 0.35), false, 2.0)
	for id in positions:
		var color := Color.from_hsv(fmod(float(id) * 0.618, 1.0), 0.6, 0.95)
		draw_circle(positions[id], 14.0, color)
		if id == my_id:
			draw_arc(positions[id], 16.0, 0.0, TAU, 32, Color.WHITE, 2.0)


func _make_ui() -> void:
	var ui := CanvasLayer.new()
	add_child(ui)
	chat_log = Label.new()
	chat_log.position = Vector2(8, 8)
	ui.add_child(chat_log)
	chat_box = LineEdit.new()
	chat_box.placeholder_text = "Enter: chat"
	chat_box.position = Vector2(8, 320)
	chat_box.size = Vector2(300, 30)
	chat_box.text_submitted.connect(func(text: String):
		if text.strip_edges() != "":
			game.rpc_id(1, "say", text)
		chat_box.clear()
		chat_box.release_focus())
	ui.add_child(chat_box)
