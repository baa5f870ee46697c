export { MAX_RECURSION_DEPTH, VARIANT_MAX, VariantType, variantTypeName } from './variant-type.js'
export {
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
export { Callable, EncodedObjectAsID, Float, NodePath, RID, Signal, StringName, float } from './misc-types.js'
export {
  PackedColorArray,
  PackedStringArray,
  PackedVector2Array,
  PackedVector3Array,
  PackedVector4Array,
  TypedArray,
  TypedDictionary,
} from './container-types.js'
export {
  decodeVariant,
  decodeVariantAt,
  encodeVariant,
  godotVarCodec,
  variantTypeOf,
  type DecodeVariantAtResult,
  type DecodeVariantOptions,
  type VarCodec,
} from './variant-codec.js'
