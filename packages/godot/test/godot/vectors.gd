extends SceneTree
# Byte vectors of Godot 4's Variant encoding, from the engine itself.
#
#   godot4 --headless --path packages/godot/test/godot -s res://vectors.gd -- gen
#       one line "VECTOR {json}" per case: name, hex of var_to_bytes(value), the byte ranges
#       Godot leaves uninitialised (NodePath padding), the instance id of the test object
#   godot4 … -- check FILE
#       FILE is JSON {name: hex} written by the TypeScript encoder; each is read with
#       bytes_to_var and compared strictly with the case of that name: "CHECK name OK|FAIL why"
#   godot4 … -- decode FILE
#       FILE is JSON {name: hex} of arbitrary bytes; each is read with bytes_to_var between two
#       stderr markers (Godot prints its error code in between), then "DECODED name hex" of
#       var_to_bytes(result) on stdout
#
# The cases are built first thing in every mode, so object ids are the same in each run.

var obj: Node
var cases: Array = []

func add(name: String, value) -> void:
	cases.append([name, value])

func build() -> void:
	obj = Node.new()
	add("nil", null)
	add("bool_true", true)
	add("bool_false", false)
	for v in [0, 1, -1, 127, -128, 255, 65536, 2147483647, -2147483648, 2147483648, -2147483649,
			4294967296, 1099511627776, 9007199254740991, -9007199254740991, 9007199254740992,
			9007199254740993, -9007199254740993, 9223372036854775807, -9223372036854775808]:
		add("int_" + str(v), v)
	add("float_0", 0.0)
	# -0.0 from text: a literal -0.0 can share the constant slot of 0.0 (they compare equal).
	var neg_zero := "-0.0".to_float()
	add("float_neg0", neg_zero)
	add("float_1", 1.0)
	add("float_1.5", 1.5)
	add("float_-2.25", -2.25)
	add("float_0.1", 0.1)
	add("float_1e300", 1e300)
	# Computed: GDScript reads the literal 3.4028234663852886e38 one bit off.
	add("float_f32max", (2.0 - pow(2.0, -23)) * pow(2.0, 127))
	add("float_f32min_denormal", 1.401298464324817e-45)
	add("float_16777217", 16777217.0)
	add("float_2^53", 9007199254740992.0)
	# A double subnormal (GDScript's parser reads the literal 1e-320 as 0.0, so it is computed).
	var tiny := 1e-300
	add("float_subnormal", tiny * 1e-20)
	add("float_pi", PI)
	add("float_inf", INF)
	add("float_-inf", -INF)
	add("float_nan", NAN)
	add("string_empty", "")
	add("string_a", "a")
	add("string_abc", "abc")
	add("string_abcd", "abcd")
	add("string_hello", "hello world")
	add("string_latin1", "héllo")
	add("string_cjk", "日本語")
	add("string_emoji", "emoji 🎮!")
	add("string_escapes", "tab\tnl\nquote\"back\\")
	add("string_long_ascii", "0123456789".repeat(10))
	add("string_long_unicode", "ÄÖÜ日本🎮".repeat(12))
	add("stringname_empty", &"")
	add("stringname_abc", &"abc")
	add("stringname_unicode", &"ünï")
	add("nodepath_empty", NodePath(""))
	add("nodepath_name", NodePath("A"))
	add("nodepath_abs_sub", NodePath("/root/A:b:c"))
	add("nodepath_parent", NodePath("../Player"))
	add("nodepath_deep", NodePath("A/B/Cdef"))
	add("nodepath_sub_only", NodePath(":position:x"))
	add("nodepath_root", NodePath("/"))
	add("nodepath_unicode", NodePath("Ñodo/子:ü"))
	add("vector2_zero", Vector2(0, 0))
	add("vector2", Vector2(1.5, -2.5))
	add("vector2_rounded", Vector2(0.1, 0.2))
	add("vector2_nan_inf", Vector2(NAN, -INF))
	add("vector2i", Vector2i(1, -1))
	add("vector2i_extremes", Vector2i(2147483647, -2147483648))
	add("rect2", Rect2(1, 2, 3, 4))
	add("rect2_fractions", Rect2(-0.5, 0.25, 100, 1e10))
	add("rect2i", Rect2i(1, 2, 3, 4))
	add("rect2i_extremes", Rect2i(-1, -2, 2147483647, 0))
	add("vector3", Vector3(1, 2, 3))
	add("vector3_fractions", Vector3(-0.5, 0.1, 1e-3))
	add("vector3i", Vector3i(1, -2, 3))
	add("vector4", Vector4(1, 2, 3, 4))
	add("vector4_fractions", Vector4(0.1, -0.2, 0.3, -0.4))
	add("vector4i", Vector4i(-1, 2, -3, 2147483647))
	add("transform2d_identity", Transform2D.IDENTITY)
	add("transform2d", Transform2D(Vector2(1, 2), Vector2(3, 4), Vector2(5, 6)))
	add("plane", Plane(Vector3(1, 2, 3), 4))
	add("quaternion", Quaternion(1, 2, 3, 4))
	add("quaternion_identity", Quaternion.IDENTITY)
	add("aabb", AABB(Vector3(1, 2, 3), Vector3(4, 5, 6)))
	add("basis_identity", Basis.IDENTITY)
	add("basis", Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9)))
	add("transform3d", Transform3D(Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9)), Vector3(10, 11, 12)))
	add("transform3d_identity", Transform3D.IDENTITY)
	add("projection", Projection(Vector4(1, 2, 3, 4), Vector4(5, 6, 7, 8), Vector4(9, 10, 11, 12), Vector4(13, 14, 15, 16)))
	add("projection_identity", Projection.IDENTITY)
	add("color_red", Color(1, 0, 0, 1))
	add("color_fractions", Color(0.1, 0.2, 0.3, 0.4))
	add("rid_empty", RID())
	add("rid_5", rid_from_int64(5))
	add("rid_max", rid_from_int64(-1))
	add("object", obj)
	var no_object: Object = null
	add("object_null", no_object)
	add("callable_empty", Callable())
	add("callable_method", Callable(self, "quit"))
	add("signal_empty", Signal())
	add("signal", Signal(obj, "ready"))
	add("dict_empty", {})
	add("dict_strings", {"a": 1, "b": 2.5})
	add("dict_order", {"z": 1, "a": 2, "m": 3})
	add("dict_mixed_keys", {1: "one", 1.5: "float", Vector2(1, 2): [1, 2], null: true, &"sn": "stringname"})
	add("dict_nested", {"player": {"name": "Ann", "pos": Vector2(1, 2), "tags": ["a", "b"]}})
	var d_si: Dictionary[String, int] = {"a": 1, "b": -2}
	add("dict_typed_string_int", d_si)
	var d_iv: Dictionary[int, Vector2] = {1: Vector2(1, 2), 2: Vector2(3, 4)}
	add("dict_typed_int_vector2", d_iv)
	var d_sv: Dictionary[String, Variant] = {"a": 1, "b": "two"}
	add("dict_typed_key_only", d_sv)
	var d_vf: Dictionary[Variant, float] = {1: 1.0, "x": 2.5}
	add("dict_typed_value_only", d_vf)
	var inner_arr: Array[int] = [1, 2]
	var d_sa: Dictionary[StringName, Array] = {&"list": inner_arr}
	add("dict_typed_nested", d_sa)
	var d_empty: Dictionary[String, int] = {}
	add("dict_typed_empty", d_empty)
	add("array_empty", [])
	add("array_mixed", [1, "a", null, 2.5, true])
	add("array_nested", [[1, [2, [3]]], []])
	add("array_nodepath", [NodePath("A"), 1])
	var a_i: Array[int] = [1, 2, 3]
	add("array_typed_int", a_i)
	var a_ie: Array[int] = []
	add("array_typed_int_empty", a_ie)
	var a_f: Array[float] = [1.0, 2.5, 0.1]
	add("array_typed_float", a_f)
	var a_s: Array[String] = ["a", "bc"]
	add("array_typed_string", a_s)
	var a_sn: Array[StringName] = [&"a", &"b"]
	add("array_typed_stringname", a_sn)
	var a_v2: Array[Vector2] = [Vector2(1, 2), Vector2(-3, 4.5)]
	add("array_typed_vector2", a_v2)
	var a_b: Array[bool] = [true, false]
	add("array_typed_bool", a_b)
	var inner_f: Array[float] = [1.5]
	var a_a: Array[Array] = [inner_f, [1, "x"]]
	add("array_typed_array_of_typed", a_a)
	var a_d: Array[Dictionary] = [{"k": 1}, {}]
	add("array_typed_dictionary", a_d)
	var a_n: Array[Node] = [obj, null]
	add("array_typed_node", a_n)
	var a_o: Array[Object] = [null]
	add("array_typed_object", a_o)
	var a_pba: Array[PackedByteArray] = [PackedByteArray([1, 2]), PackedByteArray()]
	add("array_typed_packedbytes", a_pba)
	add("bytes_empty", PackedByteArray())
	add("bytes_3", PackedByteArray([1, 2, 3]))
	add("bytes_4", PackedByteArray([1, 2, 3, 4]))
	add("bytes_5", PackedByteArray([0, 255, 128, 7, 9]))
	var all_bytes := PackedByteArray()
	for i in 256:
		all_bytes.append(i)
	add("bytes_256", all_bytes)
	add("int32s_empty", PackedInt32Array())
	add("int32s", PackedInt32Array([1, -1, 2147483647, -2147483648]))
	add("int64s_empty", PackedInt64Array())
	add("int64s", PackedInt64Array([1, -1, 9223372036854775807, -9223372036854775808, 9007199254740993]))
	add("float32s_empty", PackedFloat32Array())
	add("float32s", PackedFloat32Array([1.5, 0.1, neg_zero, INF]))
	add("float32s_nan", PackedFloat32Array([NAN]))
	add("float64s_empty", PackedFloat64Array())
	add("float64s", PackedFloat64Array([0.1, 1e300, neg_zero, -INF]))
	add("strings_empty", PackedStringArray())
	add("strings", PackedStringArray(["a", "bcd", ""]))
	add("strings_unicode", PackedStringArray(["héllo", "日本", "🎮"]))
	add("vector2s_empty", PackedVector2Array())
	add("vector2s", PackedVector2Array([Vector2(1, 2), Vector2(3.5, -4)]))
	add("vector3s", PackedVector3Array([Vector3(1, 2, 3), Vector3(0.1, 0.2, 0.3)]))
	add("vector3s_empty", PackedVector3Array())
	add("colors", PackedColorArray([Color(1, 0, 0, 1), Color(0.1, 0.2, 0.3, 0.4)]))
	add("colors_empty", PackedColorArray())
	add("vector4s", PackedVector4Array([Vector4(1, 2, 3, 4), Vector4(-1, 0.5, 0, 1e-3)]))
	add("vector4s_empty", PackedVector4Array())
	var players: Array = []
	for i in 2:
		players.append({"id": i + 2, "position": Vector2(10.5 * i, 20), "velocity": Vector2(-1, 0.5), "hp": 100 - i, "name": "P" + str(i)})
	add("game_state", {"tick": 12345, "players": players})

# Byte ranges of a NodePath encoded at `base` that Godot leaves unwritten: the padding after each
# name (Godot's NODE_PATH encoder skips it without zeroing; var_to_bytes shows whatever was there).
func nodepath_padding(np: NodePath, base: int) -> Array:
	var ranges := []
	var at := base + 16
	var parts := []
	for i in np.get_name_count():
		parts.append(String(np.get_name(i)))
	for i in np.get_subname_count():
		parts.append(String(np.get_subname(i)))
	for p in parts:
		var n: int = p.to_utf8_buffer().size()
		at += 4 + n
		var pad := (4 - n % 4) % 4
		if pad > 0:
			ranges.append([at, at + pad])
		at += pad
	return ranges

func unwritten(value) -> Array:
	if value is NodePath:
		return nodepath_padding(value, 0)
	if value is Array and not value.is_typed() and value.size() > 0 and value[0] is NodePath:
		return nodepath_padding(value[0], 8)
	return []

func gen() -> void:
	for c in cases:
		var entry := {"name": c[0], "hex": var_to_bytes(c[1]).hex_encode()}
		var skip := unwritten(c[1])
		if skip.size() > 0:
			entry["unwritten"] = skip
		if c[0] in ["object", "signal", "array_typed_node"]:
			entry["objectId"] = str(obj.get_instance_id())
		print("VECTOR ", JSON.stringify(entry))

# Strict equality: same types, same bits for floats, same element types for typed containers;
# an EncodedObjectAsID equals the object whose id it carries.
func same(a, b) -> bool:
	if typeof(a) == TYPE_OBJECT and a is EncodedObjectAsID:
		return b is Object and b != null and a.object_id == b.get_instance_id()
	if typeof(a) != typeof(b):
		return false
	match typeof(a):
		TYPE_ARRAY:
			if a.is_typed() != b.is_typed() or a.get_typed_builtin() != b.get_typed_builtin() or a.size() != b.size():
				return false
			for i in a.size():
				if not same(a[i], b[i]):
					return false
			return true
		TYPE_DICTIONARY:
			if a.get_typed_key_builtin() != b.get_typed_key_builtin() or a.get_typed_value_builtin() != b.get_typed_value_builtin():
				return false
			var ka: Array = a.keys()
			var kb: Array = b.keys()
			if ka.size() != kb.size():
				return false
			for i in ka.size():
				if not same(ka[i], kb[i]) or not same(a[ka[i]], b[kb[i]]):
					return false
			return true
		TYPE_NODE_PATH:
			return a == b and a.is_absolute() == b.is_absolute()
		TYPE_OBJECT:
			return a == b
		_:
			return var_to_bytes(a) == var_to_bytes(b)

func read_json(path: String) -> Dictionary:
	var text := FileAccess.get_file_as_string(path)
	var parsed = JSON.parse_string(text)
	if typeof(parsed) != TYPE_DICTIONARY:
		printerr("cannot read ", path)
		quit(2)
		return {}
	return parsed

func check(path: String) -> void:
	var encoded := read_json(path)
	for c in cases:
		if not encoded.has(c[0]):
			print("CHECK ", c[0], " MISSING")
			continue
		var value = bytes_to_var(String(encoded[c[0]]).hex_decode())
		if same(value, c[1]):
			print("CHECK ", c[0], " OK")
		else:
			print("CHECK ", c[0], " FAIL got ", var_to_str(value).left(200))

# The ids an EncodedObjectAsID in `value` carries, depth first (var_to_bytes of one would write
# its own instance id instead).
# (Only a few levels down: GDScript's call stack is shallower than the nesting limit.)
func object_ids(value, out: Array, depth := 0) -> Array:
	if typeof(value) == TYPE_OBJECT and value is EncodedObjectAsID:
		out.append(str(value.object_id))
	elif depth > 8:
		pass
	elif typeof(value) == TYPE_ARRAY:
		for item in value:
			object_ids(item, out, depth + 1)
	elif typeof(value) == TYPE_DICTIONARY:
		for key in value:
			object_ids(key, out, depth + 1)
			object_ids(value[key], out, depth + 1)
	return out

func decode(path: String) -> void:
	var inputs := read_json(path)
	for name in inputs.keys():
		printerr("BEGIN ", name)
		var value = bytes_to_var(String(inputs[name]).hex_decode())
		printerr("END ", name)
		print("DECODED ", name, " ", var_to_bytes(value).hex_encode(), " ", ",".join(object_ids(value, [])))

func _initialize() -> void:
	build()
	var args := OS.get_cmdline_user_args()
	var mode: String = args[0] if args.size() > 0 else "gen"
	match mode:
		"gen":
			gen()
		"check":
			check(args[1])
		"decode":
			decode(args[1])
		_:
			printerr("unknown mode ", mode)
			quit(2)
			return
	obj.free()
	quit(0)
