// The JS value of every case of test/godot/vectors.gd, and a strict equality for decoded values.
//
// Godot floats are written `float(x)` (ints are plain numbers or bigints): encoding these gives
// Godot's bytes, and decoding Godot's bytes with `exactFloats` gives these back. Components of
// vector-like types are float32 in Godot, hence `f(0.1)` (Math.fround) where Godot rounded.

import {
  AABB,
  Basis,
  Callable,
  Color,
  EncodedObjectAsID,
  Float,
  NodePath,
  PackedColorArray,
  PackedStringArray,
  PackedVector2Array,
  PackedVector3Array,
  PackedVector4Array,
  Plane,
  Projection,
  Quaternion,
  RID,
  Rect2,
  Rect2i,
  Signal,
  StringName,
  Transform2D,
  Transform3D,
  TypedArray,
  TypedDictionary,
  VariantType as T,
  Vector2,
  Vector2i,
  Vector3,
  Vector3i,
  Vector4,
  Vector4i,
  float,
} from '../src/index.js'

const f = Math.fround
const V2 = (x: number, y: number): Vector2 => new Vector2(x, y)
const V3 = (x: number, y: number, z: number): Vector3 => new Vector3(x, y, z)
const V4 = (x: number, y: number, z: number, w: number): Vector4 => new Vector4(x, y, z, w)
const SN = (s: string): StringName => new StringName(s)
const map = (...entries: [unknown, unknown][]): Map<unknown, unknown> => new Map(entries)

/** What a vectors.gd case carries besides its bytes. */
export interface VectorEntry {
  name: string
  hex: string
  /** Byte ranges Godot leaves unwritten (NodePath padding): they hold leftovers. */
  unwritten?: [number, number][]
  /** The instance id of the script's test object, for cases holding it. */
  objectId?: string
}

/** int cases: a safe integer is a number, anything beyond ±(2^53 − 1) a bigint. */
const intCase = (text: string): number | bigint => (Number.isSafeInteger(Number(text)) ? Number(text) : BigInt(text))

/** The JS value of case `entry.name`, or undefined for a name this table does not know. */
export function expectedValue(entry: VectorEntry): unknown {
  const { name } = entry
  if (name.startsWith('int_')) return intCase(name.slice(4))
  const id = entry.objectId === undefined ? 0n : BigInt(entry.objectId)
  const cases: Record<string, () => unknown> = {
    nil: () => null,
    bool_true: () => true,
    bool_false: () => false,
    float_0: () => float(0),
    float_neg0: () => float(-0),
    float_1: () => float(1),
    'float_1.5': () => float(1.5),
    'float_-2.25': () => float(-2.25),
    'float_0.1': () => float(0.1),
    float_1e300: () => float(1e300),
    float_f32max: () => float(3.4028234663852886e38),
    float_f32min_denormal: () => float(1.401298464324817e-45),
    float_16777217: () => float(16777217),
    'float_2^53': () => float(2 ** 53),
    float_subnormal: () => float(1e-300 * 1e-20),
    float_pi: () => float(Math.PI),
    float_inf: () => float(Infinity),
    'float_-inf': () => float(-Infinity),
    float_nan: () => float(NaN),
    string_empty: () => '',
    string_a: () => 'a',
    string_abc: () => 'abc',
    string_abcd: () => 'abcd',
    string_hello: () => 'hello world',
    string_latin1: () => 'héllo',
    string_cjk: () => '日本語',
    string_emoji: () => 'emoji 🎮!',
    string_escapes: () => 'tab\tnl\nquote"back\\',
    string_long_ascii: () => '0123456789'.repeat(10),
    string_long_unicode: () => 'ÄÖÜ日本🎮'.repeat(12),
    stringname_empty: () => SN(''),
    stringname_abc: () => SN('abc'),
    stringname_unicode: () => SN('ünï'),
    nodepath_empty: () => new NodePath(''),
    nodepath_name: () => new NodePath('A'),
    nodepath_abs_sub: () => new NodePath('/root/A:b:c'),
    nodepath_parent: () => new NodePath('../Player'),
    nodepath_deep: () => new NodePath('A/B/Cdef'),
    nodepath_sub_only: () => new NodePath(':position:x'),
    nodepath_root: () => new NodePath('/'),
    nodepath_unicode: () => new NodePath('Ñodo/子:ü'),
    vector2_zero: () => V2(0, 0),
    vector2: () => V2(1.5, -2.5),
    vector2_rounded: () => V2(f(0.1), f(0.2)),
    vector2_nan_inf: () => V2(NaN, -Infinity),
    vector2i: () => new Vector2i(1, -1),
    vector2i_extremes: () => new Vector2i(2147483647, -2147483648),
    rect2: () => new Rect2(V2(1, 2), V2(3, 4)),
    rect2_fractions: () => new Rect2(V2(-0.5, 0.25), V2(100, f(1e10))),
    rect2i: () => new Rect2i(new Vector2i(1, 2), new Vector2i(3, 4)),
    rect2i_extremes: () => new Rect2i(new Vector2i(-1, -2), new Vector2i(2147483647, 0)),
    vector3: () => V3(1, 2, 3),
    vector3_fractions: () => V3(-0.5, f(0.1), f(1e-3)),
    vector3i: () => new Vector3i(1, -2, 3),
    vector4: () => V4(1, 2, 3, 4),
    vector4_fractions: () => V4(f(0.1), f(-0.2), f(0.3), f(-0.4)),
    vector4i: () => new Vector4i(-1, 2, -3, 2147483647),
    transform2d_identity: () => Transform2D.IDENTITY,
    transform2d: () => new Transform2D(V2(1, 2), V2(3, 4), V2(5, 6)),
    plane: () => new Plane(V3(1, 2, 3), 4),
    quaternion: () => new Quaternion(1, 2, 3, 4),
    quaternion_identity: () => new Quaternion(0, 0, 0, 1),
    aabb: () => new AABB(V3(1, 2, 3), V3(4, 5, 6)),
    basis_identity: () => Basis.IDENTITY,
    basis: () => new Basis(V3(1, 2, 3), V3(4, 5, 6), V3(7, 8, 9)),
    transform3d: () => new Transform3D(new Basis(V3(1, 2, 3), V3(4, 5, 6), V3(7, 8, 9)), V3(10, 11, 12)),
    transform3d_identity: () => Transform3D.IDENTITY,
    projection: () => new Projection(V4(1, 2, 3, 4), V4(5, 6, 7, 8), V4(9, 10, 11, 12), V4(13, 14, 15, 16)),
    projection_identity: () => Projection.IDENTITY,
    color_red: () => new Color(1, 0, 0, 1),
    color_fractions: () => new Color(f(0.1), f(0.2), f(0.3), f(0.4)),
    rid_empty: () => new RID(0n),
    rid_5: () => new RID(5n),
    rid_max: () => new RID(2n ** 64n - 1n),
    object: () => new EncodedObjectAsID(id),
    object_null: () => null,
    callable_empty: () => new Callable(),
    callable_method: () => new Callable(),
    signal_empty: () => new Signal(0n, ''),
    signal: () => new Signal(id, 'ready'),
    dict_empty: () => map(),
    dict_strings: () => map(['a', 1], ['b', float(2.5)]),
    dict_order: () => map(['z', 1], ['a', 2], ['m', 3]),
    dict_mixed_keys: () => map([1, 'one'], [float(1.5), 'float'], [V2(1, 2), [1, 2]], [null, true], [SN('sn'), 'stringname']),
    dict_nested: () => map(['player', map(['name', 'Ann'], ['pos', V2(1, 2)], ['tags', ['a', 'b']])]),
    dict_typed_string_int: () => new TypedDictionary(T.STRING, T.INT, map(['a', 1], ['b', -2])),
    dict_typed_int_vector2: () => new TypedDictionary(T.INT, T.VECTOR2, map([1, V2(1, 2)], [2, V2(3, 4)])),
    dict_typed_key_only: () => new TypedDictionary(T.STRING, T.NIL, map(['a', 1], ['b', 'two'])),
    dict_typed_value_only: () => new TypedDictionary(T.NIL, T.FLOAT, map([1, float(1)], ['x', float(2.5)])),
    dict_typed_nested: () => new TypedDictionary(T.STRING_NAME, T.ARRAY, map([SN('list'), new TypedArray(T.INT, [1, 2])])),
    dict_typed_empty: () => new TypedDictionary(T.STRING, T.INT, map()),
    array_empty: () => [],
    array_mixed: () => [1, 'a', null, float(2.5), true],
    array_nested: () => [[1, [2, [3]]], []],
    array_nodepath: () => [new NodePath('A'), 1],
    array_typed_int: () => new TypedArray(T.INT, [1, 2, 3]),
    array_typed_int_empty: () => new TypedArray(T.INT, []),
    array_typed_float: () => new TypedArray(T.FLOAT, [float(1), float(2.5), float(0.1)]),
    array_typed_string: () => new TypedArray(T.STRING, ['a', 'bc']),
    array_typed_stringname: () => new TypedArray(T.STRING_NAME, [SN('a'), SN('b')]),
    array_typed_vector2: () => new TypedArray(T.VECTOR2, [V2(1, 2), V2(-3, 4.5)]),
    array_typed_bool: () => new TypedArray(T.BOOL, [true, false]),
    array_typed_array_of_typed: () => new TypedArray(T.ARRAY, [new TypedArray(T.FLOAT, [float(1.5)]), [1, 'x']]),
    array_typed_dictionary: () => new TypedArray(T.DICTIONARY, [map(['k', 1]), map()]),
    array_typed_node: () => new TypedArray(T.OBJECT, [new EncodedObjectAsID(id), null]),
    array_typed_object: () => new TypedArray(T.OBJECT, [null]),
    array_typed_packedbytes: () => new TypedArray(T.PACKED_BYTE_ARRAY, [Uint8Array.of(1, 2), new Uint8Array(0)]),
    bytes_empty: () => new Uint8Array(0),
    bytes_3: () => Uint8Array.of(1, 2, 3),
    bytes_4: () => Uint8Array.of(1, 2, 3, 4),
    bytes_5: () => Uint8Array.of(0, 255, 128, 7, 9),
    bytes_256: () => Uint8Array.from({ length: 256 }, (_, i) => i),
    int32s_empty: () => new Int32Array(0),
    int32s: () => Int32Array.of(1, -1, 2147483647, -2147483648),
    int64s_empty: () => new BigInt64Array(0),
    int64s: () => BigInt64Array.of(1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 9007199254740993n),
    float32s_empty: () => new Float32Array(0),
    float32s: () => Float32Array.of(1.5, 0.1, -0, Infinity),
    float32s_nan: () => Float32Array.of(NaN),
    float64s_empty: () => new Float64Array(0),
    float64s: () => Float64Array.of(0.1, 1e300, -0, -Infinity),
    strings_empty: () => new PackedStringArray([]),
    strings: () => new PackedStringArray(['a', 'bcd', '']),
    strings_unicode: () => new PackedStringArray(['héllo', '日本', '🎮']),
    vector2s_empty: () => new PackedVector2Array(),
    vector2s: () => PackedVector2Array.from([V2(1, 2), V2(3.5, -4)]),
    vector3s: () => PackedVector3Array.from([V3(1, 2, 3), V3(0.1, 0.2, 0.3)]),
    vector3s_empty: () => new PackedVector3Array(),
    colors: () => PackedColorArray.from([new Color(1, 0, 0, 1), new Color(0.1, 0.2, 0.3, 0.4)]),
    colors_empty: () => new PackedColorArray(),
    vector4s: () => PackedVector4Array.from([V4(1, 2, 3, 4), V4(-1, 0.5, 0, 1e-3)]),
    vector4s_empty: () => new PackedVector4Array(),
    game_state: () =>
      map(['tick', 12345], ['players', [0, 1].map((i) => map(['id', i + 2], ['position', V2(10.5 * i, 20)], ['velocity', V2(-1, 0.5)], ['hp', 100 - i], ['name', `P${i}`]))]),
  }
  return cases[name]?.()
}

/** `bytes` with the ranges Godot leaves unwritten set to zero (what this codec writes there). */
export function zeroUnwritten(bytes: Uint8Array, ranges: readonly [number, number][] = []): Uint8Array {
  const copy = bytes.slice()
  for (const [start, end] of ranges) copy.fill(0, start, end)
  return copy
}

/** `value` with every {@link Float} replaced by its number: what decoding without `exactFloats` gives. */
export function withoutFloats(value: unknown): unknown {
  if (value instanceof Float) return value.value
  if (Array.isArray(value)) return value.map(withoutFloats)
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [withoutFloats(k), withoutFloats(v)]))
  if (value instanceof TypedArray) return new TypedArray(value.elementType, value.items.map(withoutFloats))
  if (value instanceof TypedDictionary) return new TypedDictionary(value.keyType, value.valueType, withoutFloats(value.entries) as Map<unknown, unknown>)
  return value
}

/**
 * Strict equality of decoded values: same JS types and classes, Map entries in the same order,
 * numbers by `Object.is` (NaN equals NaN, 0 differs from -0), typed arrays element by element.
 */
export function same(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false
  if (typeof a === 'number') return Object.is(a, b)
  if (typeof a !== 'object' || a === null || b === null) return a === b
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  if (a instanceof Float) return Object.is(a.value, (b as Float).value)
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((v, i) => same(v, (b as unknown[])[i]))
  if (a instanceof Map) {
    const other = [...(b as Map<unknown, unknown>)]
    return a.size === other.length && [...a].every(([k, v], i) => same(k, other[i]?.[0]) && same(v, other[i]?.[1]))
  }
  if (a instanceof TypedArray) return a.elementType === (b as TypedArray).elementType && same(a.items, (b as TypedArray).items)
  if (a instanceof TypedDictionary) {
    const o = b as TypedDictionary
    return a.keyType === o.keyType && a.valueType === o.valueType && same(a.entries, o.entries)
  }
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>
    const y = b as unknown as ArrayLike<unknown>
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (!same(x[i], y[i])) return false
    return true
  }
  if (a instanceof PackedVector2Array || a instanceof PackedVector3Array || a instanceof PackedVector4Array || a instanceof PackedColorArray) {
    return same(a.data, (b as typeof a).data)
  }
  if ('equals' in a && typeof a.equals === 'function') return (a as { equals(o: unknown): boolean }).equals(b)
  return false
}

/** A readable rendering of a value for failure messages. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
    if (v instanceof Map) return { Map: [...v] }
    if (ArrayBuffer.isView(v)) return { [v.constructor.name]: Array.from(v as unknown as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? `${x}n` : x)) }
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && v.constructor !== Object) return { [v.constructor.name]: { ...v } }
    return v
  })
}
