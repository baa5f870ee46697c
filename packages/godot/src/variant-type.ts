/**
 * Godot 4's Variant type ids, as they appear in the first byte of every encoded Variant. The
 * members drop Godot's `TYPE_` prefix (`VariantType.VECTOR2` is `TYPE_VECTOR2`).
 *
 * Godot: `Variant::Type` (core/variant/variant.h), `@GlobalScope.Variant.Type`.
 */
export const VariantType = {
  NIL: 0,
  BOOL: 1,
  INT: 2,
  FLOAT: 3,
  STRING: 4,
  VECTOR2: 5,
  VECTOR2I: 6,
  RECT2: 7,
  RECT2I: 8,
  VECTOR3: 9,
  VECTOR3I: 10,
  TRANSFORM2D: 11,
  VECTOR4: 12,
  VECTOR4I: 13,
  PLANE: 14,
  QUATERNION: 15,
  AABB: 16,
  BASIS: 17,
  TRANSFORM3D: 18,
  PROJECTION: 19,
  COLOR: 20,
  STRING_NAME: 21,
  NODE_PATH: 22,
  RID: 23,
  OBJECT: 24,
  CALLABLE: 25,
  SIGNAL: 26,
  DICTIONARY: 27,
  ARRAY: 28,
  PACKED_BYTE_ARRAY: 29,
  PACKED_INT32_ARRAY: 30,
  PACKED_INT64_ARRAY: 31,
  PACKED_FLOAT32_ARRAY: 32,
  PACKED_FLOAT64_ARRAY: 33,
  PACKED_STRING_ARRAY: 34,
  PACKED_VECTOR2_ARRAY: 35,
  PACKED_VECTOR3_ARRAY: 36,
  PACKED_COLOR_ARRAY: 37,
  PACKED_VECTOR4_ARRAY: 38,
} as const

/** One of Godot's Variant type ids (0 … 38). */
export type VariantType = (typeof VariantType)[keyof typeof VariantType]

/** One past the last type id. Godot: `Variant::VARIANT_MAX`. */
export const VARIANT_MAX = 39

/**
 * How deep values may nest, both ways: the top-level value is at depth 0 and anything deeper than
 * this is refused with `ERR_OUT_OF_MEMORY`, as Godot does.
 *
 * Godot: `Variant::MAX_RECURSION_DEPTH`.
 */
export const MAX_RECURSION_DEPTH = 1024

const names = Object.keys(VariantType)

/** The name of a type id (`'VECTOR2'`), or `'type <n>'` for a number that is none. */
export function variantTypeName(type: number): string {
  return names[type] ?? `type ${type}`
}
