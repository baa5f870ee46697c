// Godot's math value types as small immutable JS classes. Components are plain numbers; the
// codec writes the float ones as float32 (Godot's default `real_t`) and the `…i` ones as int32.

/** Equal numbers, NaN included (so a decoded NaN equals itself; 0 and -0 are equal). */
export function sameNumber(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b)
}

/** Godot: `Vector2`. */
export class Vector2 {
  constructor(
    /** The x component. */
    readonly x: number,
    /** The y component. */
    readonly y: number,
  ) {}
  /** Whether `other` is the same Vector2 (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Vector2 && sameNumber(this.x, other.x) && sameNumber(this.y, other.y)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Vector2(${this.x}, ${this.y})`
  }
}

/** Godot: `Vector2i` (int32 components). */
export class Vector2i {
  constructor(
    /** The x component (int32). */
    readonly x: number,
    /** The y component (int32). */
    readonly y: number,
  ) {}
  /** Whether `other` is the same Vector2i (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Vector2i && this.x === other.x && this.y === other.y
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Vector2i(${this.x}, ${this.y})`
  }
}

/** Godot: `Vector3`. */
export class Vector3 {
  constructor(
    /** The x component. */
    readonly x: number,
    /** The y component. */
    readonly y: number,
    /** The z component. */
    readonly z: number,
  ) {}
  /** Whether `other` is the same Vector3 (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Vector3 && sameNumber(this.x, other.x) && sameNumber(this.y, other.y) && sameNumber(this.z, other.z)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Vector3(${this.x}, ${this.y}, ${this.z})`
  }
}

/** Godot: `Vector3i` (int32 components). */
export class Vector3i {
  constructor(
    /** The x component (int32). */
    readonly x: number,
    /** The y component (int32). */
    readonly y: number,
    /** The z component (int32). */
    readonly z: number,
  ) {}
  /** Whether `other` is the same Vector3i (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Vector3i && this.x === other.x && this.y === other.y && this.z === other.z
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Vector3i(${this.x}, ${this.y}, ${this.z})`
  }
}

/** Godot: `Vector4`. */
export class Vector4 {
  constructor(
    /** The x component. */
    readonly x: number,
    /** The y component. */
    readonly y: number,
    /** The z component. */
    readonly z: number,
    /** The w component. */
    readonly w: number,
  ) {}
  /** Whether `other` is the same Vector4 (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return (
      other instanceof Vector4 &&
      sameNumber(this.x, other.x) &&
      sameNumber(this.y, other.y) &&
      sameNumber(this.z, other.z) &&
      sameNumber(this.w, other.w)
    )
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Vector4(${this.x}, ${this.y}, ${this.z}, ${this.w})`
  }
}

/** Godot: `Vector4i` (int32 components). */
export class Vector4i {
  constructor(
    /** The x component (int32). */
    readonly x: number,
    /** The y component (int32). */
    readonly y: number,
    /** The z component (int32). */
    readonly z: number,
    /** The w component (int32). */
    readonly w: number,
  ) {}
  /** Whether `other` is the same Vector4i (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Vector4i && this.x === other.x && this.y === other.y && this.z === other.z && this.w === other.w
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Vector4i(${this.x}, ${this.y}, ${this.z}, ${this.w})`
  }
}

/** Godot: `Quaternion` (x, y, z, w, in that order on the wire). */
export class Quaternion {
  constructor(
    /** The x component. */
    readonly x: number,
    /** The y component. */
    readonly y: number,
    /** The z component. */
    readonly z: number,
    /** The w (real) component. */
    readonly w: number,
  ) {}
  /** Whether `other` is the same Quaternion (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return (
      other instanceof Quaternion &&
      sameNumber(this.x, other.x) &&
      sameNumber(this.y, other.y) &&
      sameNumber(this.z, other.z) &&
      sameNumber(this.w, other.w)
    )
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Quaternion(${this.x}, ${this.y}, ${this.z}, ${this.w})`
  }
}

/** Godot: `Color` (r, g, b, a; always float32 on the wire, whatever Godot's `real_t`). */
export class Color {
  constructor(
    /** Red, 0 … 1. */
    readonly r: number,
    /** Green, 0 … 1. */
    readonly g: number,
    /** Blue, 0 … 1. */
    readonly b: number,
    /** Alpha (opacity), 0 … 1; defaults to 1. */
    readonly a: number = 1,
  ) {}
  /** Whether `other` is the same Color (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return (
      other instanceof Color &&
      sameNumber(this.r, other.r) &&
      sameNumber(this.g, other.g) &&
      sameNumber(this.b, other.b) &&
      sameNumber(this.a, other.a)
    )
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Color(${this.r}, ${this.g}, ${this.b}, ${this.a})`
  }
}

/** Godot: `Rect2` (a position and a size). */
export class Rect2 {
  constructor(
    /** The corner with the smallest coordinates. */
    readonly position: Vector2,
    /** The width and height. */
    readonly size: Vector2,
  ) {}
  /** Whether `other` is the same Rect2 (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Rect2 && this.position.equals(other.position) && this.size.equals(other.size)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Rect2(${this.position.x}, ${this.position.y}, ${this.size.x}, ${this.size.y})`
  }
}

/** Godot: `Rect2i` (int32 position and size). */
export class Rect2i {
  constructor(
    /** The corner with the smallest coordinates. */
    readonly position: Vector2i,
    /** The width and height. */
    readonly size: Vector2i,
  ) {}
  /** Whether `other` is the same Rect2i (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Rect2i && this.position.equals(other.position) && this.size.equals(other.size)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Rect2i(${this.position.x}, ${this.position.y}, ${this.size.x}, ${this.size.y})`
  }
}

/** Godot: `Plane` (a normal and the distance `d` from the origin). */
export class Plane {
  constructor(
    /** The normal. */
    readonly normal: Vector3,
    /** The distance from the origin, along the normal. */
    readonly d: number,
  ) {}
  /** Whether `other` is the same Plane (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Plane && this.normal.equals(other.normal) && sameNumber(this.d, other.d)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Plane(${this.normal.x}, ${this.normal.y}, ${this.normal.z}, ${this.d})`
  }
}

/** Godot: `AABB` (a position and a size). */
export class AABB {
  constructor(
    /** The corner with the smallest coordinates. */
    readonly position: Vector3,
    /** The width, height and depth. */
    readonly size: Vector3,
  ) {}
  /** Whether `other` is the same AABB (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof AABB && this.position.equals(other.position) && this.size.equals(other.size)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `AABB(${this.position.x}, ${this.position.y}, ${this.position.z}, ${this.size.x}, ${this.size.y}, ${this.size.z})`
  }
}

/**
 * Godot: `Transform2D`, given by its three columns as GDScript's `Transform2D(x_axis, y_axis,
 * origin)` is. The wire holds x.x, x.y, y.x, y.y, origin.x, origin.y.
 */
export class Transform2D {
  constructor(
    /** The x axis (first column). */
    readonly x: Vector2,
    /** The y axis (second column). */
    readonly y: Vector2,
    /** The translation (third column). */
    readonly origin: Vector2,
  ) {}
  /** The identity transform. */
  static readonly IDENTITY = new Transform2D(new Vector2(1, 0), new Vector2(0, 1), new Vector2(0, 0))
  /** Whether `other` is the same Transform2D (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Transform2D && this.x.equals(other.x) && this.y.equals(other.y) && this.origin.equals(other.origin)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Transform2D(${this.x}, ${this.y}, ${this.origin})`
  }
}

/**
 * Godot: `Basis`, given by its three columns as GDScript's `Basis(x_axis, y_axis, z_axis)` is. Godot
 * stores and sends it by rows: the wire holds x.x, y.x, z.x, then x.y, y.y, z.y, then x.z, y.z, z.z.
 */
export class Basis {
  constructor(
    /** The x axis (first column). */
    readonly x: Vector3,
    /** The y axis (second column). */
    readonly y: Vector3,
    /** The z axis (third column). */
    readonly z: Vector3,
  ) {}
  /** The identity basis. */
  static readonly IDENTITY = new Basis(new Vector3(1, 0, 0), new Vector3(0, 1, 0), new Vector3(0, 0, 1))
  /** Whether `other` is the same Basis (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Basis && this.x.equals(other.x) && this.y.equals(other.y) && this.z.equals(other.z)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Basis(${this.x}, ${this.y}, ${this.z})`
  }
}

/** Godot: `Transform3D` (a basis and an origin). */
export class Transform3D {
  constructor(
    /** The rotation, scale and shear. */
    readonly basis: Basis,
    /** The translation. */
    readonly origin: Vector3,
  ) {}
  /** The identity transform. */
  static readonly IDENTITY = new Transform3D(Basis.IDENTITY, new Vector3(0, 0, 0))
  /** Whether `other` is the same Transform3D (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Transform3D && this.basis.equals(other.basis) && this.origin.equals(other.origin)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Transform3D(${this.basis}, ${this.origin})`
  }
}

/**
 * Godot: `Projection`, a 4×4 matrix given by its four columns as GDScript's `Projection(x, y, z, w)`
 * is; the wire holds the columns one after the other.
 */
export class Projection {
  constructor(
    /** The first column. */
    readonly x: Vector4,
    /** The second column. */
    readonly y: Vector4,
    /** The third column. */
    readonly z: Vector4,
    /** The fourth column. */
    readonly w: Vector4,
  ) {}
  /** The identity matrix. */
  static readonly IDENTITY = new Projection(new Vector4(1, 0, 0, 0), new Vector4(0, 1, 0, 0), new Vector4(0, 0, 1, 0), new Vector4(0, 0, 0, 1))
  /** Whether `other` is the same Projection (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Projection && this.x.equals(other.x) && this.y.equals(other.y) && this.z.equals(other.z) && this.w.equals(other.w)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Projection(${this.x}, ${this.y}, ${this.z}, ${this.w})`
  }
}
