/**
 * Godot 4's Variant type ids, as they appear in the first byte of every encoded Variant. The
 * members drop Godot's `TYPE_` prefix (`VariantType.VECTOR2` is `TYPE_VECTOR2`).
 *
 * Godot: `Variant::Type` (core/variant/variant.h), `@GlobalScope.Variant.Type`.
 */
export const VariantType = {
  /** Godot: `TYPE_NIL`. */
  NIL: 0,
  /** Godot: `TYPE_BOOL`. */
  BOOL: 1,
  /** Godot: `TYPE_INT`. */
  INT: 2,
  /** Godot: `TYPE_FLOAT`. */
  FLOAT: 3,
  /** Godot: `TYPE_STRING`. */
  STRING: 4,
  /** Godot: `TYPE_VECTOR2`. */
  VECTOR2: 5,
  /** Godot: `TYPE_VECTOR2I`. */
  VECTOR2I: 6,
  /** Godot: `TYPE_RECT2`. */
  RECT2: 7,
  /** Godot: `TYPE_RECT2I`. */
  RECT2I: 8,
  /** Godot: `TYPE_VECTOR3`. */
  VECTOR3: 9,
  /** Godot: `TYPE_VECTOR3I`. */
  VECTOR3I: 10,
  /** Godot: `TYPE_TRANSFORM2D`. */
  TRANSFORM2D: 11,
  /** Godot: `TYPE_VECTOR4`. */
  VECTOR4: 12,
  /** Godot: `TYPE_VECTOR4I`. */
  VECTOR4I: 13,
  /** Godot: `TYPE_PLANE`. */
  PLANE: 14,
  /** Godot: `TYPE_QUATERNION`. */
  QUATERNION: 15,
  /** Godot: `TYPE_AABB`. */
  AABB: 16,
  /** Godot: `TYPE_BASIS`. */
  BASIS: 17,
  /** Godot: `TYPE_TRANSFORM3D`. */
  TRANSFORM3D: 18,
  /** Godot: `TYPE_PROJECTION`. */
  PROJECTION: 19,
  /** Godot: `TYPE_COLOR`. */
  COLOR: 20,
  /** Godot: `TYPE_STRING_NAME`. */
  STRING_NAME: 21,
  /** Godot: `TYPE_NODE_PATH`. */
  NODE_PATH: 22,
  /** Godot: `TYPE_RID`. */
  RID: 23,
  /** Godot: `TYPE_OBJECT`. */
  OBJECT: 24,
  /** Godot: `TYPE_CALLABLE`. */
  CALLABLE: 25,
  /** Godot: `TYPE_SIGNAL`. */
  SIGNAL: 26,
  /** Godot: `TYPE_DICTIONARY`. */
  DICTIONARY: 27,
  /** Godot: `TYPE_ARRAY`. */
  ARRAY: 28,
  /** Godot: `TYPE_PACKED_BYTE_ARRAY`. */
  PACKED_BYTE_ARRAY: 29,
  /** Godot: `TYPE_PACKED_INT32_ARRAY`. */
  PACKED_INT32_ARRAY: 30,
  /** Godot: `TYPE_PACKED_INT64_ARRAY`. */
  PACKED_INT64_ARRAY: 31,
  /** Godot: `TYPE_PACKED_FLOAT32_ARRAY`. */
  PACKED_FLOAT32_ARRAY: 32,
  /** Godot: `TYPE_PACKED_FLOAT64_ARRAY`. */
  PACKED_FLOAT64_ARRAY: 33,
  /** Godot: `TYPE_PACKED_STRING_ARRAY`. */
  PACKED_STRING_ARRAY: 34,
  /** Godot: `TYPE_PACKED_VECTOR2_ARRAY`. */
  PACKED_VECTOR2_ARRAY: 35,
  /** Godot: `TYPE_PACKED_VECTOR3_ARRAY`. */
  PACKED_VECTOR3_ARRAY: 36,
  /** Godot: `TYPE_PACKED_COLOR_ARRAY`. */
  PACKED_COLOR_ARRAY: 37,
  /** Godot: `TYPE_PACKED_VECTOR4_ARRAY`. */
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
