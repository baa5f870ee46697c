// Hand-made byte strings, mostly malformed, that Godot's bytes_to_var was run on (test/godot/
// vectors.gd "decode" mode). Its outcomes are kept in test/fixtures/decode-cases.json: the error
// code Godot returned, or the bytes of what it decoded, encoded again.

/** A u32 (or int32) little-endian, as hex. */
export const u32 = (n: number): string => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return b.toString('hex')
}
const f32 = (n: number): string => {
  const b = Buffer.alloc(4)
  b.writeFloatLE(n)
  return b.toString('hex')
}
const f64 = (n: number): string => {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(n)
  return b.toString('hex')
}
const i64 = (n: bigint): string => {
  const b = Buffer.alloc(8)
  b.writeBigInt64LE(n)
  return b.toString('hex')
}
/** A string body: length, bytes (hex), zero padding. */
const str = (bodyHex: string, length = bodyHex.length / 2): string => {
  const padded = bodyHex + '00'.repeat((4 - ((bodyHex.length / 2) % 4)) % 4)
  return u32(length) + padded
}
const ascii = (s: string): string => Buffer.from(s, 'utf8').toString('hex')
const header = (type: number, flags = 0): string => u32(type | flags)
const F64 = 1 << 16
const INT = (n: number): string => header(2) + u32(n)
const nest = (levels: number, inner: string): string => (header(28) + u32(1)).repeat(levels) + inner

export const decodeCases: Record<string, string> = {
  empty: '',
  header_1_byte: '02',
  header_3_bytes: '020000',
  type_39: header(39),
  type_255: 'ff000000',
  header_byte1_ignored: '0201000005000000',
  header_high_bits_ignored: '0200008005000000',
  nil_with_trailing: '00000000deadbeef',
  bool_2_is_true: header(1) + u32(2),
  bool_truncated: header(1) + '0100',
  int_truncated: header(2) + '05',
  int64_truncated: header(2, F64) + u32(5),
  int64_small: header(2, F64) + i64(5n),
  int_trailing: INT(5) + 'ffffffff',
  float_truncated: header(3) + '0000',
  float64_truncated: header(3, F64) + f32(1),
  string_negative_length: header(4) + 'ffffffff',
  string_too_long: header(4) + u32(100) + ascii('abcd'),
  string_missing_padding: header(4) + u32(1) + ascii('a'),
  string_nul_inside: header(4) + str(ascii('a') + '00' + ascii('b')),
  string_nul_first: header(4) + str('00' + ascii('a')),
  string_nul_then_invalid: header(4) + str(ascii('a') + '00ff'),
  string_bom: header(4) + str('efbbbf' + ascii('a')),
  string_bom_twice: header(4) + str('efbbbfefbbbf'),
  string_invalid_ff: header(4) + str('ff'),
  string_overlong: header(4) + str('c080'),
  string_surrogate: header(4) + str('eda080'),
  string_above_10ffff: header(4) + str('f4908080'),
  string_truncated_utf8: header(4) + str('c3'),
  string_lone_continuation: header(4) + str('80'),
  string_noncharacter: header(4) + str('efbfbe'),
  string_cr_lf: header(4) + str('0d0a'),
  stringname_invalid_utf8: header(21) + str('ff'),
  vector2_truncated: header(5) + f32(1),
  vector2_double: header(5, F64) + f64(0.1) + f64(-2.5),
  vector2_double_truncated: header(5, F64) + f64(0.1),
  vector2i_truncated: header(6) + u32(1),
  rect2_double: header(7, F64) + f64(1) + f64(2) + f64(3) + f64(0.1),
  vector3_double: header(9, F64) + f64(1e300) + f64(2) + f64(3),
  transform2d_truncated: header(11) + f32(1).repeat(5),
  basis_double: header(17, F64) + [1, 2, 3, 4, 5, 6, 7, 8, 9].map(f64).join(''),
  transform3d_truncated: header(18) + f32(1).repeat(11),
  projection_double: header(19, F64) + Array.from({ length: 16 }, (_, i) => f64(i)).join(''),
  color_flag_ignored: header(20, F64) + [0.5, 0.25, 1, 1].map(f32).join(''),
  color_truncated: header(20, F64) + f32(1),
  nodepath_old_format: header(22) + u32(1) + ascii('abcd'),
  nodepath_truncated: header(22) + u32(0x80000001),
  nodepath_obsolete_property_flag: header(22) + u32(0x80000001) + u32(0) + u32(2) + str(ascii('A')) + str(ascii('b')),
  nodepath_name_missing: header(22) + u32(0x80000002) + u32(0) + u32(1) + str(ascii('A')),
  nodepath_huge_counts: header(22) + u32(0xffffffff) + u32(0xffffffff) + u32(0),
  nodepath_count_wraps: header(22) + u32(0x80000000) + u32(0xffffffff) + u32(2),
  rid_truncated: header(23) + u32(1),
  object_by_value: header(24) + str(ascii('Node')) + u32(0),
  object_by_value_empty: header(24) + u32(0),
  object_id_0: header(24, 1 << 16) + i64(0n),
  object_id_5: header(24, 1 << 16) + i64(5n),
  object_id_truncated: header(24, 1 << 16) + u32(5),
  callable_with_trailing: header(25) + 'ffffffff',
  signal_truncated_id: header(26) + str(ascii('a')) + u32(5),
  signal_ok: header(26) + str(ascii('a')) + i64(5n),
  dict_truncated_count: header(27),
  dict_count_high_bit: header(27) + u32(0x80000001) + INT(1) + INT(2),
  dict_duplicate_keys: header(27) + u32(2) + INT(1) + INT(2) + INT(1) + INT(3),
  dict_missing_value: header(27) + u32(1) + INT(1),
  dict_huge_count: header(27) + u32(0x7fffffff) + INT(1) + INT(2),
  dict_typed_bad_key_dropped: header(27, (1 << 16) | (1 << 18)) + u32(4) + u32(2) + u32(1) + INT(1) + INT(2),
  dict_typed_bad_value_kept: header(27, (1 << 16) | (1 << 18)) + u32(4) + u32(2) + u32(1) + header(4) + str(ascii('a')) + header(4) + str(ascii('b')),
  dict_typed_stringname_key: header(27, (1 << 16) | (1 << 18)) + u32(4) + u32(2) + u32(1) + header(21) + str(ascii('a')) + INT(1),
  dict_typed_int_key_to_float: header(27, 1 << 16) + u32(3) + u32(1) + INT(3) + INT(4),
  dict_typed_type_39: header(27, 1 << 16) + u32(39) + u32(0),
  dict_typed_type_negative: header(27, 1 << 16) + u32(-1) + u32(0),
  dict_typed_class_name: header(27, 2 << 18) + str(ascii('Node')) + u32(1) + INT(1) + header(0),
  array_truncated_count: header(28),
  array_count_high_bit: header(28) + u32(0x80000001) + INT(1),
  array_huge_count: header(28) + u32(0x7fffffff) + INT(1),
  array_typed_wrong_dropped: header(28, 1 << 16) + u32(2) + u32(2) + INT(1) + header(4) + str(ascii('a')),
  array_typed_float_from_int: header(28, 1 << 16) + u32(3) + u32(1) + INT(16777217),
  array_typed_float_from_int64: header(28, 1 << 16) + u32(3) + u32(2) + header(2, F64) + i64((1n << 60n) + (1n << 36n) + 1n) + header(2, F64) + i64(-(2n ** 63n)),
  array_typed_string_from_stringname: header(28, 1 << 16) + u32(4) + u32(1) + header(21) + str(ascii('x')),
  array_typed_stringname_from_string: header(28, 1 << 16) + u32(21) + u32(1) + header(4) + str(ascii('x')),
  array_typed_object_nil_kept: header(28, 1 << 16) + u32(24) + u32(2) + header(0) + header(24, 1 << 16) + i64(7n),
  array_typed_object_int_dropped: header(28, 2 << 16) + str(ascii('Node')) + u32(1) + INT(1),
  array_typed_script_kind: header(28, 3 << 16) + str(ascii('res://x.gd')) + u32(1) + header(0),
  array_typed_nil_builtin: header(28, 1 << 16) + u32(0) + u32(1) + INT(1),
  array_typed_type_39: header(28, 1 << 16) + u32(39) + u32(0),
  array_typed_class_name_truncated: header(28, 2 << 16) + u32(20) + ascii('Node'),
  array_element_error: header(28) + u32(2) + INT(1) + header(39),
  array_unpadded_bytes_last: header(28) + u32(1) + header(29) + u32(1) + '7f',
  array_unpadded_bytes_then_more: header(28) + u32(2) + header(29) + u32(1) + '7f' + INT(1),
  bytes_negative: header(29) + 'ffffffff',
  bytes_too_long: header(29) + u32(5) + '01020304',
  bytes_unpadded_end: header(29) + u32(1) + '7f',
  int32s_negative: header(30) + 'ffffffff',
  int32s_huge: header(30) + u32(0x3fffffff),
  int32s_overflow: header(30) + u32(0x20000000),
  int32s_truncated: header(30) + u32(2) + u32(1),
  int64s_truncated: header(31) + u32(1) + u32(1),
  float32s_truncated: header(32) + u32(1) + '0000',
  float64s_overflow: header(33) + u32(0x10000000),
  strings_negative_count: header(34) + 'ffffffff',
  strings_without_nul: header(34) + u32(1) + str(ascii('a')),
  strings_truncated: header(34) + u32(2) + str(ascii('a') + '00'),
  vector2s_double: header(35, F64) + u32(1) + f64(0.1) + f64(2),
  vector2s_truncated: header(35) + u32(2) + f32(1).repeat(3),
  vector3s_double: header(36, F64) + u32(1) + f64(1) + f64(2) + f64(0.1),
  vector3s_overflow: header(36) + u32(0x7fffffff),
  colors_flag_ignored: header(37, F64) + u32(1) + [1, 0.5, 0.25, 1].map(f32).join(''),
  colors_truncated: header(37) + u32(1) + f32(1),
  vector4s_double: header(38, F64) + u32(1) + f64(1) + f64(2) + f64(3) + f64(0.1),
  vector4s_truncated: header(38) + u32(1),
  depth_1024_arrays_ok: nest(1024, header(28) + u32(0)),
  depth_1025_arrays_fail: nest(1025, header(28) + u32(0)),
  depth_1024_then_nil_ok: nest(1024, header(0)),
  depth_1025_then_nil_fail: nest(1025, header(0)),
  depth_dictionary_values: (header(27) + u32(1) + header(0)).repeat(1025) + header(0),
}
