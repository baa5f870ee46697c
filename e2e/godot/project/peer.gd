# A scriptable Godot 4 multiplayer peer for the godot-live interop suite.
#
# Run: godot4 --headless --path e2e/godot/project -s res://peer.gd -- mode=server port=9000 …
# Options (key=value after `--`):
#   mode=server|client         what to create (required)
#   port=N bind=ADDR           server: port and bind address (default 127.0.0.1)
#   url=ws://…                 client: the server's URL
#   relay=0|1                  SceneMultiplayer.server_relay (default 1)
#   tls_key=PATH tls_cert=PATH server: TLSOptions.server(key, cert)
#   ca=PATH cn=NAME            client: TLSOptions.client(X509Certificate at PATH, NAME)
#   auth=1 auth_timeout=S      install an auth_callback (it reports what arrives) and its timeout
#   inbound=N outbound=N       inbound_buffer_size / outbound_buffer_size of the WebSocketMultiplayerPeer
#   handshake_timeout=S        handshake_timeout
#   refuse=1                   refuse_new_connections from the start
#   vars=1                     also decode every peer_packet with bytes_to_var: a "var" event with
#                              var_to_bytes of the value (hex), and the value sent back to its sender
#                              with send_bytes(var_to_bytes(value)) (Variant round trips)
#
# It prints one JSON object per line on stdout, each with "ev": the multiplayer signals
# (peer_connected, peer_disconnected, connected_to_server, connection_failed, server_disconnected,
# peer_packet, peer_authenticating, peer_authentication_failed), auth data received (auth_data),
# RPCs received (rpc), the transport's own signals (transport_peer_connected/disconnected) with the
# WebSocket close code and reason where one is known, and "result" for every command.
#
# Commands arrive as JSON lines on stdin, each with "cmd" and an optional "seq" echoed in its
# result: send (send_bytes), put (a raw transport packet, no SceneMultiplayer byte added), rpc,
# rpcv (an RPC whose arguments are bytes_to_var of "args_hex", an Array), set_authority
# (set_multiplayer_authority of /root/Rpc), kick (multiplayer.disconnect_peer), disconnect_peer
# (the transport's, with force), refuse, close, send_auth, complete_auth, status, quit. Stdin
# closing ends the process.
extends SceneTree

var opts := {}
var mp: WebSocketMultiplayerPeer
var sm: SceneMultiplayer
var rpc_node: Node
# peer id -> WeakRef of its WebSocketPeer (a strong reference would keep the TCP connection open
# after Godot drops the peer), and the close code/reason last read from it.
var sockets := {}
var closes := {}
var reader: Thread
var inbox_lock := Mutex.new()
var inbox: Array = []
var quitting := false


func out(event: Dictionary) -> void:
	event["t"] = Time.get_ticks_msec()
	print(JSON.stringify(event))


func opt(name: String, default = "") -> String:
	return str(opts.get(name, default))


func _read_stdin() -> void:
	while true:
		var line := OS.read_string_from_stdin(1 << 22)
		inbox_lock.lock()
		inbox.append(line)
		inbox_lock.unlock()
		if line == "":
			return


func _initialize() -> void:
	for arg in OS.get_cmdline_user_args():
		var at: int = arg.find("=")
		if at > 0:
			opts[arg.substr(0, at)] = arg.substr(at + 1)
	reader = Thread.new()
	reader.start(_read_stdin)

	sm = get_multiplayer() as SceneMultiplayer
	rpc_node = preload("res://rpc_node.gd").new()
	rpc_node.name = "Rpc"
	rpc_node.report = out
	root.add_child(rpc_node)

	mp = WebSocketMultiplayerPeer.new()
	if opts.has("inbound"):
		mp.inbound_buffer_size = int(opt("inbound"))
	if opts.has("outbound"):
		mp.outbound_buffer_size = int(opt("outbound"))
	if opts.has("handshake_timeout"):
		mp.handshake_timeout = float(opt("handshake_timeout"))
	if opt("refuse") == "1":
		mp.refuse_new_connections = true

	var err := OK
	var mode := opt("mode")
	if mode == "server":
		var tls: TLSOptions = null
		if opts.has("tls_key"):
			var key := CryptoKey.new()
			var cert := X509Certificate.new()
			var kerr := key.load(opt("tls_key"))
			var cerr := cert.load(opt("tls_cert"))
			if kerr != OK or cerr != OK:
				out({"ev": "ready", "mode": mode, "err": FAILED, "why": "cannot load key/cert %d %d" % [kerr, cerr]})
				quit(2)
				return
			tls = TLSOptions.server(key, cert)
		err = mp.create_server(int(opt("port")), opt("bind", "127.0.0.1"), tls)
	elif mode == "client":
		var tls: TLSOptions = null
		if opts.has("ca"):
			var ca := X509Certificate.new()
			var cerr := ca.load(opt("ca"))
			if cerr != OK:
				out({"ev": "ready", "mode": mode, "err": FAILED, "why": "cannot load CA %d" % cerr})
				quit(2)
				return
			tls = TLSOptions.client(ca, opt("cn"))
		err = mp.create_client(opt("url"), tls)
		if err == OK:
			sockets[1] = weakref(mp.get_peer(1))
	else:
		out({"ev": "ready", "err": ERR_INVALID_PARAMETER, "why": "mode must be server or client"})
		quit(2)
		return
	if err != OK:
		out({"ev": "ready", "mode": mode, "err": err})
		quit(3)
		return

	mp.peer_connected.connect(_on_transport_peer_connected)
	mp.peer_disconnected.connect(_on_transport_peer_disconnected)
	sm.server_relay = opt("relay", "1") != "0"
	if opt("auth") == "1":
		sm.auth_callback = _on_auth
	if opts.has("auth_timeout"):
		sm.auth_timeout = float(opt("auth_timeout"))
	sm.peer_connected.connect(func(id): out({"ev": "peer_connected", "id": id}))
	sm.peer_disconnected.connect(func(id): out(_with_close({"ev": "peer_disconnected", "id": id}, id)))
	sm.connected_to_server.connect(func(): out({"ev": "connected_to_server", "id": sm.get_unique_id()}))
	sm.connection_failed.connect(func(): out(_with_close({"ev": "connection_failed"}, 1)))
	sm.server_disconnected.connect(func(): out(_with_close({"ev": "server_disconnected"}, 1)))
	sm.peer_packet.connect(func(id, data: PackedByteArray): out({"ev": "peer_packet", "from": id, "hex": data.hex_encode()}))
	if opt("vars") == "1":
		sm.peer_packet.connect(_on_var)
	sm.peer_authenticating.connect(func(id): out({"ev": "peer_authenticating", "id": id}))
	sm.peer_authentication_failed.connect(func(id): out(_with_close({"ev": "peer_authentication_failed", "id": id}, id)))
	sm.multiplayer_peer = mp
	out({"ev": "ready", "mode": mode, "err": OK, "id": mp.get_unique_id(), "port": int(opt("port"))})


# Godot's SceneMultiplayer connects to the transport's signals first, so these run after it.
func _on_transport_peer_connected(id: int) -> void:
	if mp.get_unique_id() == 1:
		sockets[id] = weakref(mp.get_peer(id))
	out({"ev": "transport_peer_connected", "id": id})


func _on_transport_peer_disconnected(id: int) -> void:
	out(_with_close({"ev": "transport_peer_disconnected", "id": id}, id))


# vars=1: what bytes_to_var makes of a packet, written back with var_to_bytes, and sent back.
func _on_var(id: int, data: PackedByteArray) -> void:
	var value = bytes_to_var(data)
	var again := var_to_bytes(value)
	out({"ev": "var", "from": id, "type": typeof(value), "hex": again.hex_encode()})
	sm.send_bytes(again, id)


func _on_auth(id: int, data: PackedByteArray) -> void:
	out({"ev": "auth_data", "from": id, "hex": data.hex_encode()})


# Adds the close code and reason of peer `id`'s WebSocket: read from it while Godot still holds
# it (transport signals are emitted before the peer is dropped), else the last ones read.
func _with_close(event: Dictionary, id: int) -> Dictionary:
	var ref: WeakRef = sockets.get(id)
	var ws: WebSocketPeer = ref.get_ref() if ref != null else null
	if ws != null:
		closes[id] = [ws.get_close_code(), ws.get_close_reason()]
	if closes.has(id):
		event["code"] = closes[id][0]
		event["reason"] = closes[id][1]
	return event


func _process(_delta: float) -> bool:
	inbox_lock.lock()
	var lines := inbox.duplicate()
	inbox.clear()
	inbox_lock.unlock()
	for line in lines:
		if line == "":
			_finish(0)  # stdin closed: the driver is gone
			return true
		var text: String = line.strip_edges()
		if text.is_empty():
			continue
		var cmd = JSON.parse_string(text)
		if typeof(cmd) != TYPE_DICTIONARY:
			out({"ev": "result", "cmd": "?", "err": ERR_PARSE_ERROR, "line": text})
			continue
		_run(cmd)
	return quitting


func _bytes(cmd: Dictionary) -> PackedByteArray:
	return str(cmd.get("hex", "")).hex_decode()


func _run(cmd: Dictionary) -> void:
	var name := str(cmd.get("cmd", ""))
	var result := {"ev": "result", "cmd": name, "seq": cmd.get("seq", 0)}
	var err := OK
	match name:
		"send":
			err = sm.send_bytes(_bytes(cmd), int(cmd.get("to", 0)), int(cmd.get("mode", MultiplayerPeer.TRANSFER_MODE_RELIABLE)), int(cmd.get("channel", 0)))
		"put":
			mp.set_target_peer(int(cmd.get("to", 1)))
			err = mp.put_packet(_bytes(cmd))
		"rpc":
			var args: Array = [str(cmd.get("method"))]
			if str(cmd.get("method")) == "ping":
				args.append(_bytes(cmd))
			else:
				args.append_array(cmd.get("args", []))
				args[2] = int(args[2])
			if cmd.has("to"):
				args.insert(0, int(cmd.get("to")))
				err = rpc_node.callv("rpc_id", args)
			else:
				err = rpc_node.callv("rpc", args)
		"rpcv":
			var call_args: Array = [str(cmd.get("method"))]
			call_args.append_array(bytes_to_var(_bytes({"hex": cmd.get("args_hex", "")})))
			if cmd.has("to"):
				call_args.insert(0, int(cmd.get("to")))
				err = rpc_node.callv("rpc_id", call_args)
			else:
				err = rpc_node.callv("rpc", call_args)
		"set_authority":
			rpc_node.set_multiplayer_authority(int(cmd.get("id")))
		"kick":
			sm.disconnect_peer(int(cmd.get("id")))
		"disconnect_peer":
			mp.disconnect_peer(int(cmd.get("id")), bool(cmd.get("force", false)))
		"refuse":
			mp.refuse_new_connections = bool(cmd.get("on", true))
		"close":
			mp.close()
		"send_auth":
			err = sm.send_auth(int(cmd.get("id")), _bytes(cmd))
		"complete_auth":
			err = sm.complete_auth(int(cmd.get("id")))
		"status":
			result["status"] = mp.get_connection_status()
			result["id"] = mp.get_unique_id()
			result["peers"] = Array(sm.get_peers())
		"quit":
			out(result)
			_finish(int(cmd.get("code", 0)))
			return
		_:
			err = ERR_INVALID_PARAMETER
	result["err"] = err
	out(result)


func _finish(code: int) -> void:
	if quitting:
		return
	quitting = true
	if mp != null:
		sm.multiplayer_peer = null  # detached first, so closing reports nothing
		mp.close()
	quit(code)
