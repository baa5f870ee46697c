// Godot values that JS has no type for: a float that must stay a float, StringName, NodePath,
// RID, Signal, Callable and an Object sent as its id.

import { sameNumber } from './math-types.js'

/**
 * A number the codec must send as Godot `float` even when it is a whole number (JS numbers that
 * are integers go as `int`). `float(3)` is the short form.
 *
 * Godot: `float` (`Variant::FLOAT`).
 */
export class Float {
  constructor(
    /** The number. */
    readonly value: number,
  ) {}
  /** The number, so a Float works in arithmetic. */
  valueOf(): number {
    return this.value
  }
  /** Whether `other` is the same Float (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Float && sameNumber(this.value, other.value)
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return Number.isInteger(this.value) ? `${this.value}.0` : String(this.value)
  }
}

/** Wraps `value` so the codec sends it as Godot `float`: `float(1)` is `1.0` in Godot, not `1`. */
export function float(value: number): Float {
  return new Float(value)
}

/** Godot: `StringName` (`&"name"`): on the wire a string with its own type id. */
export class StringName {
  constructor(
    /** The name. */
    readonly value: string,
  ) {}
  /** Whether `other` is the same StringName (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof StringName && this.value === other.value
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return this.value
  }
}

/**
 * Godot: `NodePath`: node names (`names`), property subnames (`subnames`, after `:`) and whether
 * it starts at the root (`absolute`). `new NodePath('/root/Player:position:x')` parses the text
 * form as Godot's `NodePath(String)` does; {@link NodePath.fromParts} builds one from its parts.
 */
export class NodePath {
  /** The node names (`'/root/A:b'` → `['root', 'A']`). */
  readonly names: readonly string[]
  /** The property subnames, after `:` (`'/root/A:b'` → `['b']`). */
  readonly subnames: readonly string[]
  /** Whether the path starts at the root (`/`). */
  readonly absolute: boolean

  /**
   * Parses a path as Godot does: a leading `/` makes it absolute, `/` separates names (repeated
   * slashes count as one), the first `:` starts the subnames (`:`-separated; one trailing `:` is
   * allowed). Throws `SyntaxError` for an empty subname in the middle (`'a::b'`), which Godot
   * refuses too.
   */
  constructor(path = '') {
    let text = path
    const subnames: string[] = []
    const colon = text.indexOf(':')
    if (colon >= 0) {
      const parts = text.slice(colon + 1).split(':')
      for (const [i, part] of parts.entries()) {
        if (part !== '') subnames.push(part)
        else if (i !== parts.length - 1) throw new SyntaxError(`invalid NodePath ${JSON.stringify(path)}: empty subname`)
      }
      text = text.slice(0, colon)
    }
    this.absolute = text.startsWith('/')
    this.names = text.split('/').filter((name) => name !== '')
    this.subnames = subnames
  }

  /** A path from its parts, as the wire carries them. */
  static fromParts(names: readonly string[], subnames: readonly string[] = [], absolute = false): NodePath {
    const path = new NodePath()
    Object.assign(path, { names: [...names], subnames: [...subnames], absolute })
    return path
  }

  /** True for the empty path (`NodePath("")`). */
  isEmpty(): boolean {
    return this.names.length === 0 && this.subnames.length === 0 && !this.absolute
  }

  /** Whether `other` is the same NodePath (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return (
      other instanceof NodePath &&
      this.absolute === other.absolute &&
      sameStrings(this.names, other.names) &&
      sameStrings(this.subnames, other.subnames)
    )
  }

  /** The text form, as Godot's `String(NodePath)`: `/a/b:c:d`. */
  toString(): string {
    const names = (this.absolute ? '/' : '') + this.names.join('/')
    return this.subnames.length > 0 ? `${names}:${this.subnames.join(':')}` : names
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i])
}

/** Godot: `RID`, a server resource id (an unsigned 64-bit number; 0 is the invalid RID). */
export class RID {
  constructor(
    /** The id (unsigned 64-bit; 0 is the invalid RID). */
    readonly id: bigint = 0n,
  ) {}
  /** Whether `other` is the same RID (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof RID && this.id === other.id
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `RID(${this.id})`
  }
}

/**
 * Godot: `Signal`: a signal name and the id of the object that has it (an instance id, meaningful
 * only inside the Godot process that sent it).
 */
export class Signal {
  constructor(
    /** The instance id of the object that has the signal. */
    readonly objectId: bigint,
    /** The signal name. */
    readonly name: string,
  ) {}
  /** Whether `other` is the same Signal (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Signal && this.objectId === other.objectId && this.name === other.name
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `Signal(${this.objectId}, ${this.name})`
  }
}

/**
 * Godot: `Callable`. Godot sends a Callable as its type id alone (no target, no method), and reads
 * one back as an empty `Callable()`; so does this codec, and every `Callable` here is that empty one.
 */
export class Callable {
  /** Whether `other` is the same Callable (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof Callable
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return 'Callable()'
  }
}

/**
 * A Godot Object sent as its instance id: what `var_to_bytes(node)` writes (Godot never sends an
 * Object's contents unless `full_objects` is on) and what `bytes_to_var` gives back, an
 * `EncodedObjectAsID`. The id means something only inside the Godot process that sent it.
 *
 * Godot: `EncodedObjectAsID`.
 */
export class EncodedObjectAsID {
  constructor(
    /** The instance id (unsigned 64-bit) in the Godot process that sent it. */
    readonly objectId: bigint,
  ) {}
  /** Whether `other` is the same EncodedObjectAsID (same class, equal parts; NaN equals NaN). */
  equals(other: unknown): boolean {
    return other instanceof EncodedObjectAsID && this.objectId === other.objectId
  }
  /** A readable form, in GDScript's constructor style. */
  toString(): string {
    return `EncodedObjectAsID(${this.objectId})`
  }
}
