// Godot 4's binary Variant format (`var_to_bytes` / `bytes_to_var`, `PacketPeer.put_var` /
// `get_var`), written from what the format is and checked byte for byte against the real engine.
//
// Every Variant starts with a 4-byte little-endian header: the type id in the low byte, flags in
// bits 16 and up (the 64-bit flag of INT, FLOAT and the real_t math types; the object-as-id flag;
// the kinds of a typed Array's or Dictionary's element types). Strings are a u32 byte length, the
// UTF-8 bytes and zero padding to a multiple of 4.

import { DEFAULT_ENCODE_BUFFER_MAX_SIZE, ErrorCode, type DecodeVarResult, type EncodeVarResult, type VarCodec as CoreVarCodec } from '@wsmp/core'
import { CodecFailure, LITTLE_ENDIAN, Reader, Writer, fail, readUtf8 } from './bytes.js'
import {
  PackedColorArray,
  PackedStringArray,
  PackedVector2Array,
  PackedVector3Array,
  PackedVector4Array,
  TypedArray,
  TypedDictionary,
} from './container-types.js'
import {
  AABB,
  Basis,
  Color,
  Plane,
  Projection,
  Quaternion,
  Rect2,
  Rect2i,
  Transform2D,
  Transform3D,
  Vector2,
  Vector2i,
  Vector3,
  Vector3i,
  Vector4,
  Vector4i,
} from './math-types.js'
import { Callable, EncodedObjectAsID, Float, NodePath, RID, Signal, StringName } from './misc-types.js'
import { MAX_RECURSION_DEPTH, VARIANT_MAX, VariantType, variantTypeName } from './variant-type.js'

const T = VariantType
/** Header flag: INT/FLOAT/real_t math types in 64 bits. Godot: `HEADER_DATA_FLAG_64`. */
const FLAG_64 = 1 << 16
/** Header flag: an Object sent as its instance id. Godot: `HEADER_DATA_FLAG_OBJECT_AS_ID`. */
const FLAG_OBJECT_AS_ID = 1 << 16
/** How a typed container's element type is written. Godot: `ContainerTypeKind`. */
const KIND_NONE = 0
const KIND_BUILTIN = 1
const KIND_CLASS_NAME = 2
/** The class name Godot writes for Object element types when `full_objects` is off. */
const OBJECT_AS_ID_CLASS = 'EncodedObjectAsID'
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n
const TWO_63 = 2 ** 63

// ---- encoding --------------------------------------------------------------------------------

type WriteFn = (w: Writer, value: never, depth: number) => void

/** Classes the codec knows, by constructor: their Variant type and how they are written. */
const classes = new Map<unknown, readonly [VariantType, WriteFn]>()

function define<C>(ctor: abstract new (...args: never[]) => C, type: VariantType, write: (w: Writer, value: C, depth: number) => void): void {
  classes.set(ctor, [type, write as WriteFn])
}

/** A header and `values` as float32 (the wire form of Godot's default single-precision `real_t`). */
function reals(w: Writer, type: VariantType, ...values: number[]): void {
  w.u32(type)
  for (const v of values) w.f32(v)
}

/** An int32 component, or a failure naming it. */
function int32(w: Writer, v: number, what: string): void {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) fail(ErrorCode.ERR_INVALID_PARAMETER, `${what} ${v} is not an int32`)
  w.i32(v)
}

/** An unsigned 64-bit id (RID, ObjectID), or a failure naming it. */
function uint64(w: Writer, v: unknown, what: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > UINT64_MAX) fail(ErrorCode.ERR_INVALID_PARAMETER, `${what} must be a bigint in 0 … 2^64−1, got ${String(v)}`)
  w.u64(v)
}

function ints(w: Writer, type: VariantType, name: string, ...values: number[]): void {
  w.u32(type)
  for (const v of values) int32(w, v, `${name} component`)
}

/**
 * Godot's FLOAT: float32 when the value survives the round trip through float32 (NaN does not:
 * Godot sends NaN as a double), else float64 with the 64-bit flag.
 */
function writeFloat(w: Writer, d: number): void {
  if (Math.fround(d) === d) {
    w.u32(T.FLOAT)
    w.f32(d)
  } else {
    w.u32(T.FLOAT | FLAG_64)
    w.f64(d)
  }
}

/** A JS number: INT when it is a whole number in int64 range, else FLOAT. */
function writeNumber(w: Writer, n: number): void {
  if (!Number.isInteger(n) || n < -TWO_63 || n >= TWO_63) return writeFloat(w, n)
  if (n >= -0x80000000 && n <= 0x7fffffff) {
    w.u32(T.INT)
    w.i32(n)
  } else {
    w.u32(T.INT | FLAG_64)
    w.i64(n)
  }
}

function writeBigInt(w: Writer, n: bigint): void {
  if (n < INT64_MIN || n > INT64_MAX) fail(ErrorCode.ERR_INVALID_PARAMETER, `${n} is outside Godot's int range (int64)`)
  if (n >= -0x80000000n && n <= 0x7fffffffn) {
    w.u32(T.INT)
    w.i32(Number(n))
  } else {
    w.u32(T.INT | FLAG_64)
    w.u64(n)
  }
}

/** A string body: u32 byte length, UTF-8, zero padding. Godot: `_encode_string`. */
function writeString(w: Writer, s: string): void {
  w.ensure(4)
  const at = w.pos
  w.pos += 4
  const n = w.utf8(s)
  w.view.setUint32(at, n, true)
  w.pad4()
}

/** Bytes of a typed array, little-endian. */
function rawElements(w: Writer, a: Int32Array | BigInt64Array | Float32Array | Float64Array): void {
  if (LITTLE_ENDIAN) return w.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
  for (const v of a) {
    if (typeof v === 'bigint') w.u64(v)
    else if (a instanceof Int32Array) w.i32(v)
    else if (a instanceof Float32Array) w.f32(v)
    else w.f64(v)
  }
}

/** A packed array of vectors or colors: count, then the components as float32. */
function packedFloats(w: Writer, type: VariantType, data: Float32Array | Float64Array, size: number): void {
  w.u32(type)
  w.u32(data.length / size)
  if (data instanceof Float32Array) return rawElements(w, data)
  for (const v of data) w.f32(v)
}

/** The header bits of a typed container's element type. Godot: `_encode_container_type_header`. */
function kindOf(type: VariantType): number {
  return type === T.NIL ? KIND_NONE : type === T.OBJECT ? KIND_CLASS_NAME : KIND_BUILTIN
}

/** A typed container's element type after the header. Godot: `_encode_container_type`. */
function writeContainerType(w: Writer, type: VariantType): void {
  if (type === T.NIL) return
  if (type === T.OBJECT) writeString(w, OBJECT_AS_ID_CLASS)
  else w.u32(type)
}

function checkContainerType(type: unknown, what: string): asserts type is VariantType {
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type >= VARIANT_MAX) {
    fail(ErrorCode.ERR_INVALID_PARAMETER, `${what} ${String(type)} is not a VariantType`)
  }
}

function writeArray(w: Writer, items: readonly unknown[], type: VariantType, depth: number): void {
  w.u32(T.ARRAY | (kindOf(type) << 16))
  writeContainerType(w, type)
  w.u32(items.length)
  for (let i = 0; i < items.length; i++) writeAs(w, items[i], type, depth + 1)
}

function writeDictionary(w: Writer, entries: Iterable<readonly [unknown, unknown]>, size: number, keyType: VariantType, valueType: VariantType, depth: number): void {
  w.u32(T.DICTIONARY | (kindOf(keyType) << 16) | (kindOf(valueType) << 18))
  writeContainerType(w, keyType)
  writeContainerType(w, valueType)
  w.u32(size)
  for (const [key, value] of entries) {
    writeAs(w, key, keyType, depth + 1)
    writeAs(w, value, valueType, depth + 1)
  }
}

function writePlainObject(w: Writer, object: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(object)
  w.u32(T.DICTIONARY)
  w.u32(keys.length)
  for (const key of keys) {
    w.u32(T.STRING)
    writeString(w, key)
    writeVariant(w, object[key], depth + 1)
  }
}

define(Float, T.FLOAT, (w, v) => writeFloat(w, v.value))
define(StringName, T.STRING_NAME, (w, v) => {
  w.u32(T.STRING_NAME)
  writeString(w, v.value)
})
define(Vector2, T.VECTOR2, (w, v) => reals(w, T.VECTOR2, v.x, v.y))
define(Vector2i, T.VECTOR2I, (w, v) => ints(w, T.VECTOR2I, 'Vector2i', v.x, v.y))
define(Rect2, T.RECT2, (w, v) => reals(w, T.RECT2, v.position.x, v.position.y, v.size.x, v.size.y))
define(Rect2i, T.RECT2I, (w, v) => ints(w, T.RECT2I, 'Rect2i', v.position.x, v.position.y, v.size.x, v.size.y))
define(Vector3, T.VECTOR3, (w, v) => reals(w, T.VECTOR3, v.x, v.y, v.z))
define(Vector3i, T.VECTOR3I, (w, v) => ints(w, T.VECTOR3I, 'Vector3i', v.x, v.y, v.z))
define(Transform2D, T.TRANSFORM2D, (w, v) => reals(w, T.TRANSFORM2D, v.x.x, v.x.y, v.y.x, v.y.y, v.origin.x, v.origin.y))
define(Vector4, T.VECTOR4, (w, v) => reals(w, T.VECTOR4, v.x, v.y, v.z, v.w))
define(Vector4i, T.VECTOR4I, (w, v) => ints(w, T.VECTOR4I, 'Vector4i', v.x, v.y, v.z, v.w))
define(Plane, T.PLANE, (w, v) => reals(w, T.PLANE, v.normal.x, v.normal.y, v.normal.z, v.d))
define(Quaternion, T.QUATERNION, (w, v) => reals(w, T.QUATERNION, v.x, v.y, v.z, v.w))
define(AABB, T.AABB, (w, v) => reals(w, T.AABB, v.position.x, v.position.y, v.position.z, v.size.x, v.size.y, v.size.z))
// Basis and Transform3D go by rows (Godot's storage); the JS classes hold columns.
define(Basis, T.BASIS, (w, { x, y, z }) => reals(w, T.BASIS, x.x, y.x, z.x, x.y, y.y, z.y, x.z, y.z, z.z))
define(Transform3D, T.TRANSFORM3D, (w, { basis: { x, y, z }, origin: o }) =>
  reals(w, T.TRANSFORM3D, x.x, y.x, z.x, x.y, y.y, z.y, x.z, y.z, z.z, o.x, o.y, o.z),
)
define(Projection, T.PROJECTION, (w, { x, y, z, w: c }) =>
  reals(w, T.PROJECTION, x.x, x.y, x.z, x.w, y.x, y.y, y.z, y.w, z.x, z.y, z.z, z.w, c.x, c.y, c.z, c.w),
)
define(Color, T.COLOR, (w, v) => reals(w, T.COLOR, v.r, v.g, v.b, v.a))
define(NodePath, T.NODE_PATH, (w, v) => {
  // The high bit of the name count marks the current format (Godot 3.x wrote a plain string).
  w.u32(T.NODE_PATH)
  w.u32((v.names.length | 0x80000000) >>> 0)
  w.u32(v.subnames.length)
  w.u32(v.absolute ? 1 : 0)
  for (const name of v.names) writeString(w, name)
  for (const name of v.subnames) writeString(w, name)
})
define(RID, T.RID, (w, v) => {
  w.u32(T.RID)
  uint64(w, v.id, 'RID id')
})
define(EncodedObjectAsID, T.OBJECT, (w, v) => {
  w.u32(T.OBJECT | FLAG_OBJECT_AS_ID)
  uint64(w, v.objectId, 'EncodedObjectAsID objectId')
})
define(Callable, T.CALLABLE, (w) => w.u32(T.CALLABLE))
define(Signal, T.SIGNAL, (w, v) => {
  w.u32(T.SIGNAL)
  writeString(w, v.name)
  uint64(w, v.objectId, 'Signal objectId')
})
define(Array, T.ARRAY, (w, v: unknown[], depth) => writeArray(w, v, T.NIL, depth))
define(TypedArray, T.ARRAY, (w, v, depth) => {
  checkContainerType(v.elementType, 'Array element type')
  writeArray(w, v.items, v.elementType, depth)
})
define(Map, T.DICTIONARY, (w, v: Map<unknown, unknown>, depth) => writeDictionary(w, v, v.size, T.NIL, T.NIL, depth))
define(TypedDictionary, T.DICTIONARY, (w, v, depth) => {
  checkContainerType(v.keyType, 'Dictionary key type')
  checkContainerType(v.valueType, 'Dictionary value type')
  writeDictionary(w, v.entries, v.entries.size, v.keyType, v.valueType, depth)
})
define(Object as unknown as new () => Record<string, unknown>, T.DICTIONARY, (w, v, depth) => writePlainObject(w, v, depth))
define(Uint8Array, T.PACKED_BYTE_ARRAY, (w, v) => {
  w.u32(T.PACKED_BYTE_ARRAY)
  w.u32(v.length)
  w.bytes(v)
  w.pad4()
})
define(Int32Array, T.PACKED_INT32_ARRAY, (w, v) => {
  w.u32(T.PACKED_INT32_ARRAY)
  w.u32(v.length)
  rawElements(w, v)
})
define(BigInt64Array, T.PACKED_INT64_ARRAY, (w, v) => {
  w.u32(T.PACKED_INT64_ARRAY)
  w.u32(v.length)
  rawElements(w, v)
})
define(Float32Array, T.PACKED_FLOAT32_ARRAY, (w, v) => {
  w.u32(T.PACKED_FLOAT32_ARRAY)
  w.u32(v.length)
  rawElements(w, v)
})
define(Float64Array, T.PACKED_FLOAT64_ARRAY, (w, v) => {
  w.u32(T.PACKED_FLOAT64_ARRAY)
  w.u32(v.length)
  rawElements(w, v)
})
define(PackedStringArray, T.PACKED_STRING_ARRAY, (w, v) => {
  // Each string carries a NUL terminator inside its length (Godot writes them so; other strings do not).
  w.u32(T.PACKED_STRING_ARRAY)
  w.u32(v.values.length)
  for (const s of v.values) {
    if (typeof s !== 'string') fail(ErrorCode.ERR_INVALID_PARAMETER, `PackedStringArray holds a ${typeof s}, not a string`)
    w.ensure(4)
    const at = w.pos
    w.pos += 4
    const n = w.utf8(s)
    w.u8(0)
    w.view.setUint32(at, n + 1, true)
    w.pad4()
  }
})
define(PackedVector2Array, T.PACKED_VECTOR2_ARRAY, (w, v) => packedFloats(w, T.PACKED_VECTOR2_ARRAY, v.data, 2))
define(PackedVector3Array, T.PACKED_VECTOR3_ARRAY, (w, v) => packedFloats(w, T.PACKED_VECTOR3_ARRAY, v.data, 3))
define(PackedColorArray, T.PACKED_COLOR_ARRAY, (w, v) => packedFloats(w, T.PACKED_COLOR_ARRAY, v.data, 4))
define(PackedVector4Array, T.PACKED_VECTOR4_ARRAY, (w, v) => packedFloats(w, T.PACKED_VECTOR4_ARRAY, v.data, 4))

/** The codec's entry for an object: by its exact class, else by a known base class (a `Buffer` is a Uint8Array). */
function classEntry(value: object): readonly [VariantType, WriteFn] | undefined {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === null) return classes.get(Object)
  const exact = classes.get((proto as { constructor?: unknown }).constructor)
  if (exact) return exact
  for (const [ctor, entry] of classes) {
    if (ctor !== Object && value instanceof (ctor as abstract new () => unknown)) return entry
  }
  return undefined
}

/** Why an object cannot be sent. */
function refuse(value: object): never {
  const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
  fail(
    ErrorCode.ERR_INVALID_PARAMETER,
    `cannot encode a ${name}: Godot Objects are not sent by value (only as an EncodedObjectAsID); ` +
      'use a plain object, Map, array, typed array or one of the Variant classes',
  )
}

/**
 * Writes `value` as a Variant nested `depth` levels deep.
 *
 * Godot: `encode_variant` (full_objects = false).
 */
export function writeVariant(w: Writer, value: unknown, depth: number): void {
  if (depth > MAX_RECURSION_DEPTH) fail(ErrorCode.ERR_OUT_OF_MEMORY, `nesting deeper than ${MAX_RECURSION_DEPTH} levels (or a cycle)`)
  switch (typeof value) {
    case 'number':
      return writeNumber(w, value)
    case 'string':
      w.u32(T.STRING)
      return writeString(w, value)
    case 'boolean':
      w.u32(T.BOOL)
      return w.u32(value ? 1 : 0)
    case 'bigint':
      return writeBigInt(w, value)
    case 'undefined':
      return w.u32(T.NIL)
    case 'object': {
      if (value === null) return w.u32(T.NIL)
      const entry = classEntry(value)
      if (!entry) refuse(value)
      return entry[1](w, value as never, depth)
    }
    default:
      fail(ErrorCode.ERR_INVALID_PARAMETER, `cannot encode a ${typeof value}`)
  }
}

/** Writes an element of a typed container as its `type` (numbers as that number type, strings as String or StringName). */
function writeAs(w: Writer, value: unknown, type: VariantType, depth: number): void {
  if (type === T.NIL) return writeVariant(w, value, depth)
  if (depth > MAX_RECURSION_DEPTH) fail(ErrorCode.ERR_OUT_OF_MEMORY, `nesting deeper than ${MAX_RECURSION_DEPTH} levels (or a cycle)`)
  const mismatch = (): never =>
    fail(ErrorCode.ERR_INVALID_PARAMETER, `a ${describeValue(value)} cannot be an element of type ${variantTypeName(type)} in a typed Array or Dictionary`)
  switch (type) {
    case T.FLOAT:
      if (typeof value === 'number') return writeFloat(w, value)
      if (value instanceof Float) return writeFloat(w, value.value)
      return mismatch()
    case T.INT:
      if (typeof value === 'bigint' || (typeof value === 'number' && variantTypeOf(value) === T.INT)) return writeVariant(w, value, depth)
      return mismatch()
    case T.STRING:
    case T.STRING_NAME: {
      const s = typeof value === 'string' ? value : value instanceof StringName ? value.value : mismatch()
      w.u32(type)
      return writeString(w, s)
    }
    case T.OBJECT:
      if (value == null || value instanceof EncodedObjectAsID) return writeVariant(w, value, depth)
      return mismatch()
    default:
      if (variantTypeOf(value) !== type) mismatch()
      return writeVariant(w, value, depth)
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return `${typeof value} (${String(value)})`
  return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
}

/**
 * The Variant type `value` is sent as, or `undefined` for a value the codec refuses.
 * `null`/`undefined` → NIL, booleans → BOOL, whole numbers in int64 range and bigints → INT, other
 * numbers and {@link Float} → FLOAT, strings → STRING, arrays → ARRAY, `Map`s and plain objects →
 * DICTIONARY, typed arrays → their packed arrays, the Variant classes → their types.
 */
export function variantTypeOf(value: unknown): VariantType | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && value >= -TWO_63 && value < TWO_63 ? T.INT : T.FLOAT
    case 'string':
      return T.STRING
    case 'boolean':
      return T.BOOL
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? T.INT : undefined
    case 'undefined':
      return T.NIL
    case 'object':
      return value === null ? T.NIL : classEntry(value)?.[0]
    default:
      return undefined
  }
}

// ---- decoding --------------------------------------------------------------------------------

/** Options of {@link decodeVariant}. */
export interface DecodeVariantOptions {
  /**
   * Give every Godot `float` as a {@link Float} instead of a plain number, so that `1.0` stays a
   * float when it is encoded again (a plain `1` would go back as an int). Defaults to false.
   */
  exactFloats?: boolean
}

/** Marks an element a typed container drops (Godot refuses it and goes on). */
const DROP = Symbol('drop')

/** Reads Variants, tracking the Godot type of the last one read (JS numbers do not tell int from float). */
export class VariantReader extends Reader {
  /** The Godot type of the value the last `variant()` returned. */
  type: VariantType = T.NIL
  exactFloats = false

  /** One Variant, nested `depth` levels deep. Godot: `decode_variant` (allow_objects = false). */
  variant(depth: number): unknown {
    if (depth > MAX_RECURSION_DEPTH) fail(ErrorCode.ERR_OUT_OF_MEMORY, `Variant nested deeper than ${MAX_RECURSION_DEPTH} levels`)
    this.need(4, 'Variant header')
    const header = this.u32()
    const type = header & 0xff
    if (type >= VARIANT_MAX) fail(ErrorCode.ERR_INVALID_DATA, `unknown Variant type ${type} at offset ${this.pos - 4}`)
    const value = this.body(header, type as VariantType, depth)
    this.type = type as VariantType
    return value
  }

  /** The value after a header of type `type`. */
  private body(header: number, type: VariantType, depth: number): unknown {
    const wide = (header & FLAG_64) !== 0
    switch (type) {
      case T.NIL:
        return null
      case T.BOOL:
        this.need(4, 'bool')
        return this.u32() !== 0
      case T.INT:
        if (wide) {
          this.need(8, 'int64')
          return this.i64()
        }
        this.need(4, 'int32')
        return this.i32()
      case T.FLOAT: {
        this.need(wide ? 8 : 4, 'float')
        const d = wide ? this.f64() : this.f32()
        return this.exactFloats ? new Float(d) : d
      }
      case T.STRING:
        return this.string()
      case T.VECTOR2:
        this.reals(2, wide, 'Vector2')
        return new Vector2(this.real(wide), this.real(wide))
      case T.VECTOR2I:
        this.need(8, 'Vector2i')
        return new Vector2i(this.i32(), this.i32())
      case T.RECT2:
        this.reals(4, wide, 'Rect2')
        return new Rect2(new Vector2(this.real(wide), this.real(wide)), new Vector2(this.real(wide), this.real(wide)))
      case T.RECT2I:
        this.need(16, 'Rect2i')
        return new Rect2i(new Vector2i(this.i32(), this.i32()), new Vector2i(this.i32(), this.i32()))
      case T.VECTOR3:
        this.reals(3, wide, 'Vector3')
        return this.vector3(wide)
      case T.VECTOR3I:
        this.need(12, 'Vector3i')
        return new Vector3i(this.i32(), this.i32(), this.i32())
      case T.TRANSFORM2D:
        this.reals(6, wide, 'Transform2D')
        return new Transform2D(
          new Vector2(this.real(wide), this.real(wide)),
          new Vector2(this.real(wide), this.real(wide)),
          new Vector2(this.real(wide), this.real(wide)),
        )
      case T.VECTOR4:
        this.reals(4, wide, 'Vector4')
        return this.vector4(wide)
      case T.VECTOR4I:
        this.need(16, 'Vector4i')
        return new Vector4i(this.i32(), this.i32(), this.i32(), this.i32())
      case T.PLANE:
        this.reals(4, wide, 'Plane')
        return new Plane(this.vector3(wide), this.real(wide))
      case T.QUATERNION:
        this.reals(4, wide, 'Quaternion')
        return new Quaternion(this.real(wide), this.real(wide), this.real(wide), this.real(wide))
      case T.AABB:
        this.reals(6, wide, 'AABB')
        return new AABB(this.vector3(wide), this.vector3(wide))
      case T.BASIS:
        this.reals(9, wide, 'Basis')
        return this.basis(wide)
      case T.TRANSFORM3D:
        this.reals(12, wide, 'Transform3D')
        return new Transform3D(this.basis(wide), this.vector3(wide))
      case T.PROJECTION:
        this.reals(16, wide, 'Projection')
        return new Projection(this.vector4(wide), this.vector4(wide), this.vector4(wide), this.vector4(wide))
      case T.COLOR:
        // Always float32, whatever the header says.
        this.need(16, 'Color')
        return new Color(this.f32(), this.f32(), this.f32(), this.f32())
      case T.STRING_NAME:
        return new StringName(this.string())
      case T.NODE_PATH:
        return this.nodePath()
      case T.RID:
        this.need(8, 'RID')
        return new RID(this.u64())
      case T.OBJECT: {
        if (!(header & FLAG_OBJECT_AS_ID)) fail(ErrorCode.ERR_UNAUTHORIZED, `an Object sent by value at offset ${this.pos - 4}: objects are not decoded (Godot's allow_objects is off)`)
        this.need(8, 'Object id')
        const id = this.u64()
        return id === 0n ? null : new EncodedObjectAsID(id)
      }
      case T.CALLABLE:
        return new Callable()
      case T.SIGNAL: {
        const name = this.string()
        this.need(8, 'Signal object id')
        return new Signal(this.u64(), name)
      }
      case T.DICTIONARY:
        return this.dictionary(header, depth)
      case T.ARRAY:
        return this.array(header, depth)
      case T.PACKED_BYTE_ARRAY: {
        this.need(4, 'PackedByteArray size')
        const n = this.i32()
        if (n < 0 || n > this.left) fail(ErrorCode.ERR_INVALID_DATA, `PackedByteArray of ${n} bytes with ${Math.max(0, this.left)} left`)
        const bytes = this.src.slice(this.pos, this.pos + n)
        // Godot counts the padding even when the data ends before it.
        this.pos += n + (-n & 3)
        return bytes
      }
      case T.PACKED_INT32_ARRAY:
        return new Int32Array(this.elements(4, 'PackedInt32Array', (i) => this.view.getInt32(i, true)))
      case T.PACKED_INT64_ARRAY:
        return new BigInt64Array(this.elements(8, 'PackedInt64Array', (i) => this.view.getBigInt64(i, true)))
      case T.PACKED_FLOAT32_ARRAY:
        return new Float32Array(this.elements(4, 'PackedFloat32Array', (i) => this.view.getFloat32(i, true)))
      case T.PACKED_FLOAT64_ARRAY:
        return new Float64Array(this.elements(8, 'PackedFloat64Array', (i) => this.view.getFloat64(i, true)))
      case T.PACKED_STRING_ARRAY: {
        this.need(4, 'PackedStringArray size')
        const n = this.i32()
        const values: string[] = []
        // A negative count reads as empty (Godot's loop does not run); each string takes 4 bytes or more.
        for (let i = 0; i < n; i++) values.push(this.string())
        return new PackedStringArray(values)
      }
      case T.PACKED_VECTOR2_ARRAY:
        return new PackedVector2Array(this.floats(2, wide, 'PackedVector2Array'))
      case T.PACKED_VECTOR3_ARRAY:
        return new PackedVector3Array(this.floats(3, wide, 'PackedVector3Array'))
      case T.PACKED_COLOR_ARRAY:
        return new PackedColorArray(this.floats(4, false, 'PackedColorArray'))
      default:
        return new PackedVector4Array(this.floats(4, wide, 'PackedVector4Array'))
    }
  }

  /** Checks that `n` real_t components follow: float64 ones with the 64-bit flag, else float32. */
  private reals(n: number, wide: boolean, what: string): void {
    this.need(n * (wide ? 8 : 4), what)
  }

  /** One real_t component (checked by `reals` first). */
  private real(wide: boolean): number {
    return wide ? this.f64() : this.f32()
  }

  private vector3(wide: boolean): Vector3 {
    return new Vector3(this.real(wide), this.real(wide), this.real(wide))
  }

  private vector4(wide: boolean): Vector4 {
    return new Vector4(this.real(wide), this.real(wide), this.real(wide), this.real(wide))
  }

  /** A Basis sent by rows, as columns. */
  private basis(wide: boolean): Basis {
    const rows = [this.vector3(wide), this.vector3(wide), this.vector3(wide)] as const
    const [a, b, c] = rows
    return new Basis(new Vector3(a.x, b.x, c.x), new Vector3(a.y, b.y, c.y), new Vector3(a.z, b.z, c.z))
  }

  /** A string body. Godot: `_decode_string` (length and padding must be there: `ERR_FILE_EOF`). */
  string(): string {
    this.need(4, 'string length')
    const n = this.i32()
    const size = n + (-n & 3)
    if (n < 0 || size > this.left) fail(ErrorCode.ERR_FILE_EOF, `string of ${n} bytes (padded ${size}) at offset ${this.pos - 4} with ${Math.max(0, this.left)} left`)
    const s = readUtf8(this.src, this.pos, n)
    if (s === null) fail(ErrorCode.ERR_INVALID_DATA, `string at offset ${this.pos} is not valid UTF-8`)
    this.pos += size
    return s
  }

  private nodePath(): NodePath {
    this.need(4, 'NodePath')
    const first = this.u32()
    // Godot 3's form (a plain string, high bit clear) is refused by Godot 4 too.
    if (!(first & 0x80000000)) fail(ErrorCode.ERR_INVALID_DATA, 'NodePath in the old (Godot 3) format')
    this.need(8, 'NodePath')
    const nameCount = first & 0x7fffffff
    let subCount = this.u32()
    const flags = this.u32()
    // Flag 2: an obsolete form that kept the property apart from the subnames (one more subname).
    if (flags & 2) subCount = (subCount + 1) >>> 0
    const total = (nameCount + subCount) >>> 0
    const names: string[] = []
    const subnames: string[] = []
    for (let i = 0; i < total; i++) (i < nameCount ? names : subnames).push(this.string())
    return NodePath.fromParts(names, subnames, (flags & 1) !== 0)
  }

  /** A typed container's element type after the header. Godot: `_decode_container_type`. */
  private containerType(kind: number): VariantType {
    if (kind === KIND_NONE) return T.NIL
    if (kind === KIND_BUILTIN) {
      this.need(4, 'container element type')
      const type = this.i32()
      if (type < 0 || type >= VARIANT_MAX) fail(ErrorCode.ERR_INVALID_DATA, `container element type ${type} is not a Variant type`)
      return type as VariantType
    }
    // A class name or a script path: an Object type (Godot reads both as EncodedObjectAsID when objects are off).
    this.string()
    return T.OBJECT
  }

  /**
   * What a typed container keeps of an element of Godot type `from`: the element, converted where
   * Godot converts (int → float through float32, String ↔ StringName), or DROP where Godot refuses
   * it. Godot: `ContainerTypeValidate::validate`.
   */
  private accept(value: unknown, from: VariantType, to: VariantType): unknown {
    if (to === T.NIL || from === to) return value
    if (from === T.NIL && to === T.OBJECT) return value
    if (to === T.STRING && from === T.STRING_NAME) return (value as StringName).value
    if (to === T.STRING_NAME && from === T.STRING) return new StringName(value as string)
    if (to === T.FLOAT && from === T.INT) {
      const f = int64ToFloat32(value as number | bigint)
      return this.exactFloats ? new Float(f) : f
    }
    return DROP
  }

  private array(header: number, depth: number): unknown[] | TypedArray {
    const type = this.containerType((header >>> 16) & 3)
    this.need(4, 'Array size')
    // The high bit (once "shared") is ignored.
    const n = this.u32() & 0x7fffffff
    const items: unknown[] = []
    for (let i = 0; i < n; i++) {
      const item = this.accept(this.variant(depth + 1), this.type, type)
      if (item !== DROP) items.push(item)
    }
    return type === T.NIL ? items : new TypedArray(type, items)
  }

  private dictionary(header: number, depth: number): Map<unknown, unknown> | TypedDictionary {
    const keyType = this.containerType((header >>> 16) & 3)
    const valueType = this.containerType((header >>> 18) & 3)
    this.need(4, 'Dictionary size')
    const n = this.u32() & 0x7fffffff
    const entries = new Map<unknown, unknown>()
    for (let i = 0; i < n; i++) {
      const key = this.accept(this.variant(depth + 1), this.type, keyType)
      // Godot checks keys only: a value of the wrong type is kept as it is.
      const value = this.variant(depth + 1)
      if (key !== DROP) entries.set(key, value)
    }
    return keyType === T.NIL && valueType === T.NIL ? entries : new TypedDictionary(keyType, valueType, entries)
  }

  /**
   * A packed array of numbers: an int32 count (negative, or too large for 32-bit sizes: invalid),
   * then `size`-byte elements. Copies into fresh storage, so the value does not pin the packet.
   */
  private elements<E>(size: number, what: string, read: (at: number) => E): ArrayBuffer | E[] {
    this.need(4, `${what} size`)
    const n = this.i32()
    if (n < 0 || n > 0x7fffffff / size || n * size > this.left) fail(ErrorCode.ERR_INVALID_DATA, `${what} of ${n} elements with ${Math.max(0, this.left)} bytes left`)
    const start = this.pos
    this.pos += n * size
    if (LITTLE_ENDIAN) return this.src.slice(start, start + n * size).buffer
    const out: E[] = []
    for (let i = 0; i < n; i++) out.push(read(start + i * size))
    return out
  }

  /** Vector/Color components: float64 with the 64-bit flag, else float32. */
  private floats(components: number, wide: boolean, what: string): Float32Array | Float64Array {
    const size = components * (wide ? 8 : 4)
    const raw = this.elements(size, what, () => 0)
    if (!Array.isArray(raw)) return wide ? new Float64Array(raw) : new Float32Array(raw)
    const out = wide ? new Float64Array(raw.length * components) : new Float32Array(raw.length * components)
    const start = this.pos - raw.length * size
    for (let i = 0; i < out.length; i++) out[i] = wide ? this.view.getFloat64(start + i * 8, true) : this.view.getFloat32(start + i * 4, true)
    return out
  }
}

/**
 * An int64 rounded to float32 once, as C++'s `(float)` conversion does (Godot turns the ints of an
 * `Array[float]` into floats that way). Going through a double first could round twice.
 */
function int64ToFloat32(v: number | bigint): number {
  if (typeof v === 'number') return Math.fround(v)
  const negative = v < 0n
  let m = negative ? -v : v
  const bits = m.toString(2).length
  if (bits > 53) {
    // Keep 53 bits and fold the rest into a sticky low bit (round to odd): then one rounding
    // to float32 gives the correctly rounded result.
    const shift = BigInt(bits - 53)
    const kept = m >> shift
    m = ((kept << shift) === m ? kept : kept | 1n) << shift
  }
  const f = Math.fround(Number(m))
  return negative ? -f : f
}

// ---- API -------------------------------------------------------------------------------------

const shared = new Writer()

/** Runs `fill` on a writer limited to `maxSize` bytes and returns its bytes, or the failure. */
export function encodeWith(fill: (w: Writer) => void, maxSize: number, what: string): EncodeVarResult {
  // A getter or Proxy may encode while we encode: such a nested call gets a writer of its own.
  const w = shared.busy ? new Writer() : shared
  w.busy = true
  try {
    w.reset(maxSize)
    fill(w)
    return { ok: true, bytes: w.result() }
  } catch (err) {
    if (err instanceof CodecFailure) return { ok: false, error: err.code, reason: `${what}: ${err.reason}` }
    return { ok: false, error: ErrorCode.ERR_INVALID_PARAMETER, reason: `${what}: ${(err as Error)?.message ?? String(err)}` }
  } finally {
    w.busy = false
    // Do not keep a buffer grown by one huge value.
    if (w === shared && w.buf.length > 1 << 20) {
      w.buf = new Uint8Array(256)
      w.view = new DataView(w.buf.buffer)
    }
  }
}

/**
 * Encodes a JS value as a Godot 4 Variant, byte for byte what Godot's `var_to_bytes` /
 * `PacketPeer.put_var` write for the same Godot value.
 *
 * Mapping (see the package README for the whole table): `null`/`undefined` → NIL; booleans →
 * bool; whole numbers in int64 range → int (int32 form when it fits, else int64), other numbers →
 * float (float32 when exact, else float64, as Godot); {@link Float} forces float; bigint → int;
 * strings → String; arrays → Array; `Map` and plain objects → Dictionary; `Uint8Array`,
 * `Int32Array`, `BigInt64Array`, `Float32Array`, `Float64Array` → the packed arrays; the classes
 * of this package → their Variant types (vector-like ones as float32, Godot's default `real_t`).
 *
 * Fails (never throws) with `ERR_INVALID_PARAMETER` for what Godot cannot receive (functions,
 * symbols, class instances this codec does not know, ints beyond int64, int32 components out of
 * range), `ERR_OUT_OF_MEMORY` for nesting deeper than 1024 levels (Godot's limit) and past
 * `maxSize` bytes (Godot's `encode_buffer_max_size`, 8 MiB by default).
 *
 * Godot: `encode_variant` (full_objects = false), `var_to_bytes`.
 */
export function encodeVariant(value: unknown, maxSize: number = DEFAULT_ENCODE_BUFFER_MAX_SIZE): EncodeVarResult {
  return encodeWith((w) => writeVariant(w, value, 0), maxSize, 'encodeVariant')
}

/** The outcome of {@link decodeVariantAt}: the value and how many bytes it took, or an error. */
export type DecodeVariantAtResult =
  | {
      /** Decoded. */
      ok: true
      /** The value. */
      value: unknown
      /** The Godot type it had (a JS number may be either int or float). */
      type: VariantType
      /**
       * Bytes used, padding included: Godot's `r_len`. It may reach past the end of the data
       * only when a PackedByteArray ends there without its padding (Godot accepts that too).
       */
      length: number
    }
  | {
      /** Not a valid Variant. */
      ok: false
      /** Godot's error: `ERR_INVALID_DATA` mostly, `ERR_FILE_EOF` for a string that runs past the end, `ERR_UNAUTHORIZED` for an Object sent by value, `ERR_OUT_OF_MEMORY` for nesting deeper than 1024. */
      error: ErrorCode
      /** Why, in words. */
      reason: string
    }

/** A failure for input that is not bytes, or an offset outside them; else undefined. */
export function checkInput(bytes: unknown, offset: number, what: string): { ok: false; error: ErrorCode; reason: string } | undefined {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: ErrorCode.ERR_INVALID_PARAMETER, reason: `${what}: expected a Uint8Array` }
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    return { ok: false, error: ErrorCode.ERR_INVALID_PARAMETER, reason: `${what}: offset ${offset} is outside the ${bytes.length} bytes` }
  }
  return undefined
}

/**
 * Decodes one Variant starting at `offset` of `bytes`, reporting its length: for formats that put
 * Variants one after another. Never throws.
 *
 * Godot: `decode_variant` with `r_len` (allow_objects = false).
 */
export function decodeVariantAt(bytes: Uint8Array, offset = 0, options?: DecodeVariantOptions): DecodeVariantAtResult {
  const bad = checkInput(bytes, offset, 'decodeVariant')
  if (bad) return bad
  const r = new VariantReader(bytes, offset, bytes.length)
  r.exactFloats = options?.exactFloats ?? false
  try {
    const value = r.variant(0)
    return { ok: true, value, type: r.type, length: r.pos - offset }
  } catch (err) {
    if (err instanceof CodecFailure) return { ok: false, error: err.code, reason: `decodeVariant: ${err.reason}` }
    // Not a failure the decoder knows: a bug (or a stack too small for deep nesting).
    return { ok: false, error: ErrorCode.ERR_BUG, reason: `decodeVariant: internal error: ${(err as Error)?.message ?? String(err)}` }
  }
}

/**
 * Decodes a Godot 4 Variant (what `var_to_bytes` / `put_var` wrote) into JS values: the reverse of
 * {@link encodeVariant}, with Dictionaries as `Map`s (their keys may be any Variant), ints as
 * numbers (bigints beyond ±2^53), floats as numbers (or {@link Float}s with `exactFloats`).
 * Bytes after the value are ignored, as Godot's `bytes_to_var` and `get_var` ignore them.
 *
 * Fails (never throws) as Godot fails, with Godot's error: `ERR_INVALID_DATA` (truncated data, an
 * unknown type, malformed UTF-8, a Godot 3 NodePath), `ERR_FILE_EOF` (a string longer than the
 * data), `ERR_UNAUTHORIZED` (an Object sent with its properties: Godot's allow_objects is off),
 * `ERR_OUT_OF_MEMORY` (nesting deeper than 1024 levels). Typed containers keep Godot's rules: an
 * element of the wrong type is dropped, an int in an `Array[float]` becomes a float (rounded
 * through float32, as Godot does).
 *
 * Godot: `decode_variant` (allow_objects = false), `bytes_to_var`.
 */
export function decodeVariant(bytes: Uint8Array, options?: DecodeVariantOptions): DecodeVarResult {
  const result = decodeVariantAt(bytes, 0, options)
  return result.ok ? { ok: true, value: result.value } : result
}

/**
 * `@wsmp/core`'s var codec interface (`{ name, encode(value, maxSize), decode(bytes) }`), what
 * `putVar`/`getVar` use and {@link godotVarCodec} implements. The same type as core's.
 */
export type VarCodec = CoreVarCodec

/**
 * Godot's Variant encoding as `@wsmp/core`'s {@link VarCodec}, for `putVar`/`getVar` that talk
 * to Godot: `new WebSocketMultiplayerPeer({ varCodec: godotVarCodec })`. With `'scene'` framing a
 * `putVar` arrives in Godot as `peer_packet`, read with `bytes_to_var`; `getVar` reads what Godot
 * sends with `send_bytes(var_to_bytes(v))`.
 *
 * Godot: `var_to_bytes` / `bytes_to_var` (`PacketPeer.put_var` / `get_var`).
 */
export const godotVarCodec: VarCodec = {
  name: 'godot',
  encode: (value, maxSize) => encodeVariant(value, maxSize),
  decode: (bytes) => decodeVariant(bytes),
}
