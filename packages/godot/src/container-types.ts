// Godot containers JS cannot tell apart on its own: typed Arrays and Dictionaries (which carry
// their element types on the wire), PackedStringArray (a string[] would be an Array) and the packed
// arrays of vectors and colors (flat float32 storage, as Godot keeps them).

import { Color, Vector2, Vector3, Vector4, sameNumber } from './math-types.js'
import { type VariantType, variantTypeName } from './variant-type.js'

/**
 * A typed Godot Array (`Array[int]`, `Array[Vector2]` …): the element type travels in the header
 * and Godot rebuilds a typed array from it. `elementType` is a {@link VariantType}; for
 * `VariantType.OBJECT` Godot writes the class as `EncodedObjectAsID` (it never sends class names
 * unless `full_objects` is on), and so does this codec.
 *
 * The elements are encoded as that type: in an `Array[float]` a JS `1` goes as `1.0`, in an
 * `Array[StringName]` a JS string goes as a StringName. An element that cannot be of that type
 * makes the encoding fail.
 *
 * Godot: `Array` with `set_typed`, `TypedArray<T>`.
 */
export class TypedArray<T = unknown> {
  constructor(
    /** The element type (`Array[T]`'s T). */
    readonly elementType: VariantType,
    /** The elements. */
    readonly items: readonly T[],
  ) {}
  /** The number of elements. */
  get length(): number {
    return this.items.length
  }
  /** Iterates over the elements. */
  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]()
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Array[${variantTypeName(this.elementType)}](${this.items.length})`
  }
}

/**
 * A typed Godot Dictionary (`Dictionary[String, int]`): key and value types travel in the header.
 * Either may be `VariantType.NIL`, meaning "any Variant" (`Dictionary[String, Variant]`). Entries
 * are a `Map` (a plain object is accepted and read as string keys).
 *
 * Godot: `Dictionary` with `set_typed`, `TypedDictionary<K, V>`.
 */
export class TypedDictionary<K = unknown, V = unknown> {
  /** The entries, in order. */
  readonly entries: ReadonlyMap<K, V>
  constructor(
    /** The key type (`VariantType.NIL`: any). */
    readonly keyType: VariantType,
    /** The value type (`VariantType.NIL`: any). */
    readonly valueType: VariantType,
    entries: ReadonlyMap<K, V> | Record<string, V> = new Map<K, V>(),
  ) {
    this.entries = entries instanceof Map ? entries : (new Map(Object.entries(entries)) as unknown as Map<K, V>)
  }
  /** The number of entries. */
  get size(): number {
    return this.entries.size
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Dictionary[${variantTypeName(this.keyType)}, ${variantTypeName(this.valueType)}](${this.entries.size})`
  }
}

/**
 * Godot: `PackedStringArray`. A wrapper because a JS `string[]` is sent as a Godot `Array` of
 * Strings (a different type on the wire).
 */
export class PackedStringArray {
  constructor(
    /** The strings. */
    readonly values: readonly string[] = [],
  ) {}
  /** The number of elements. */
  get length(): number {
    return this.values.length
  }
  /** Iterates over the elements. */
  [Symbol.iterator](): Iterator<string> {
    return this.values[Symbol.iterator]()
  }
  /** Whether `other` is the same PackedStringArray (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof PackedStringArray && other.values.length === this.values.length && this.values.every((s, i) => s === other.values[i])
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `PackedStringArray(${this.values.length})`
  }
}

/** Shared shape of the packed arrays of vectors and colors: `size` floats per element, flat. */
abstract class PackedFloats<T> {
  /** The components, element after element (x, y, x, y … for vectors; r, g, b, a … for colors). */
  readonly data: Float32Array | Float64Array
  protected abstract readonly size: number

  constructor(data: Float32Array | Float64Array | ArrayLike<number>, size: number) {
    this.data = data instanceof Float32Array || data instanceof Float64Array ? data : Float32Array.from(data)
    if (this.data.length % size !== 0) throw new RangeError(`expected a multiple of ${size} components, got ${this.data.length}`)
  }
  /** The number of elements. */
  get length(): number {
    return this.data.length / this.size
  }
  /** The element at `index`, or `undefined` outside the array. */
  at(index: number): T | undefined {
    const i = index < 0 ? index + this.length : index
    return Number.isInteger(i) && i >= 0 && i < this.length ? this.make(i * this.size) : undefined
  }
  /** Iterates over the elements. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.data.length; i += this.size) yield this.make(i)
  }
  /** Whether `other` is the same PackedFloats (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    if (!(other instanceof PackedFloats) || other.constructor !== this.constructor || other.data.length !== this.data.length) return false
    for (let i = 0; i < this.data.length; i++) if (!sameNumber(this.data[i] as number, other.data[i] as number)) return false
    return true
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `${this.constructor.name}(${this.length})`
  }
  protected abstract make(offset: number): T
  protected c(i: number): number {
    return this.data[i] as number
  }
}

/**
 * Godot: `PackedVector2Array`, stored flat (`data` = x0, y0, x1, y1 …). Build one with
 * `PackedVector2Array.from([new Vector2(1, 2), …])` or from the flat components.
 */
export class PackedVector2Array extends PackedFloats<Vector2> {
  protected readonly size = 2
  constructor(data: Float32Array | Float64Array | ArrayLike<number> = []) {
    super(data, 2)
  }
  /** An array of the given Vector2s. */
  static from(vectors: Iterable<Vector2>): PackedVector2Array {
    return new PackedVector2Array([...vectors].flatMap((v) => [v.x, v.y]))
  }
  protected make(o: number): Vector2 {
    return new Vector2(this.c(o), this.c(o + 1))
  }
}

/** Godot: `PackedVector3Array`, stored flat (`data` = x0, y0, z0, x1 …). */
export class PackedVector3Array extends PackedFloats<Vector3> {
  protected readonly size = 3
  constructor(data: Float32Array | Float64Array | ArrayLike<number> = []) {
    super(data, 3)
  }
  /** An array of the given Vector3s. */
  static from(vectors: Iterable<Vector3>): PackedVector3Array {
    return new PackedVector3Array([...vectors].flatMap((v) => [v.x, v.y, v.z]))
  }
  protected make(o: number): Vector3 {
    return new Vector3(this.c(o), this.c(o + 1), this.c(o + 2))
  }
}

/** Godot: `PackedVector4Array`, stored flat (`data` = x0, y0, z0, w0, x1 …). */
export class PackedVector4Array extends PackedFloats<Vector4> {
  protected readonly size = 4
  constructor(data: Float32Array | Float64Array | ArrayLike<number> = []) {
    super(data, 4)
  }
  /** An array of the given Vector4s. */
  static from(vectors: Iterable<Vector4>): PackedVector4Array {
    return new PackedVector4Array([...vectors].flatMap((v) => [v.x, v.y, v.z, v.w]))
  }
  protected make(o: number): Vector4 {
    return new Vector4(this.c(o), this.c(o + 1), this.c(o + 2), this.c(o + 3))
  }
}

/** Godot: `PackedColorArray`, stored flat (`data` = r0, g0, b0, a0, r1 …), always float32. */
export class PackedColorArray extends PackedFloats<Color> {
  protected readonly size = 4
  constructor(data: Float32Array | Float64Array | ArrayLike<number> = []) {
    super(data, 4)
  }
  /** An array of the given Colors. */
  static from(colors: Iterable<Color>): PackedColorArray {
    return new PackedColorArray([...colors].flatMap((c) => [c.r, c.g, c.b, c.a]))
  }
  protected make(o: number): Color {
    return new Color(this.c(o), this.c(o + 1), this.c(o + 2), this.c(o + 3))
  }
}

export { PackedFloats }
