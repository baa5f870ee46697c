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
} from './variant-codec.js'
/** `@wsmp/core`'s var codec interface, which {@link godotVarCodec} implements. */
export type { VarCodec } from '@wsmp/core'
export { md5, md5Hex } from './md5.js'
export {
  CONFIRM_PATH_SIZE,
  MAX_RPC_ARGS,
  NODE_RPC_FLAG,
  RpcMethods,
  compareCodePoints,
  decodeCompressedVariant,
  decodeConfirmPath,
  decodeRemoteCall,
  decodeSimplifyPath,
  encodeCompressedVariant,
  encodeConfirmPath,
  encodeRemoteCall,
  encodeSimplifyPath,
  rpcChecksum,
  type ConfirmPath,
  type DecodeConfirmPathResult,
  type DecodeRemoteCallResult,
  type DecodeSimplifyPathResult,
  type DecodedRemoteCall,
  type EncodeRemoteCallOptions,
  type RemoteCall,
  type SimplifyPath,
} from './rpc.js'
export {
  RpcNode,
  SceneRpc,
  type RpcMethodConfig,
  type RpcMode,
  type RpcRejection,
  type RpcRejectionKind,
  type RpcTransferMode,
  type SceneRpcOptions,
  type SceneRpcPeer,
  type SceneRpcStats,
} from './scene-rpc.js'
