/**
 * A register map as plain data: what `defineRegisterMap` takes, from a `.ts` object literal (its
 * names then typed through a `const` type parameter) or from parsed JSON (validated at load).
 * Values follow the project's rule: an 8/16/32-bit value is a number, a 64-bit one a bigint; in
 * JSON, where neither hex nor bigints exist, any value may be a string (`"0x1f"`, `"31"`), which
 * is how 64-bit values are written there.
 */

/** Who may access a register or field: read-only, write-only, read-write. */
export type Access = 'ro' | 'wo' | 'rw';

/** What reading does besides returning the value: clears it, sets it, or changes it otherwise. */
export type ReadEffect = 'clear' | 'set' | 'modify';

/**
 * What writing a field does besides storing the value (IP-XACT's `modifiedWriteValue`, plus
 * self-clearing): `oneToClear` (a 1 clears the bit, a 0 leaves it), `oneToSet`, `oneToToggle`,
 * `zeroToClear`, `zeroToSet`, `zeroToToggle`, `selfClearing` (a 1 starts an action and reads
 * back as 0 once done, like a reset bit). Each has a neutral value that does nothing: 0 for the
 * `one...` kinds and `selfClearing`, all ones for the `zero...` kinds.
 */
export type WriteEffect =
  'oneToClear' | 'oneToSet' | 'oneToToggle' | 'zeroToClear' | 'zeroToSet' | 'zeroToToggle' | 'selfClearing';

/** The write effects whose fields `clear()` clears. */
export type ClearingEffect = 'oneToClear' | 'zeroToClear';

/** A value in a map: a number or bigint, or in JSON a string (`"0x1f"`, `"31"`). */
export type SpecValue = number | bigint | string;

/** A register width in bits. */
export type RegisterWidth = 8 | 16 | 32 | 64;

/** One field of a register. */
export interface FieldSpec {
  /** The bit (`5`) or the bit range `[msb, lsb]` (`[7, 6]`), as datasheets write `7:6`. */
  readonly bits: number | readonly [number, number];
  /** Default: the register's. */
  readonly access?: Access;
  /** Default: the register's `write`. */
  readonly write?: WriteEffect;
  /** Reading this field's register has this side effect (IP-XACT's `readAction`). */
  readonly readEffect?: ReadEffect;
  /** Enumerated values keyed by label: `{ '10Mb/s': 0, '100Mb/s': 1, '1000Mb/s': 2 }`. */
  readonly values?: { readonly [label: string]: SpecValue };
  /** Free text, kept for people reading the map. */
  readonly description?: string;
}

/** One register, or an array of them (`count` registers, `stride` bytes apart). */
export interface RegisterSpec {
  /** Byte offset in the region (in JSON a number or a string such as `"0x2800"`). */
  readonly offset: number | string;
  /** Bits, default 32. */
  readonly width?: RegisterWidth;
  /**
   * The width of each access, default `width`: a 64-bit register with `accessWidth: 32` is read
   * and written as two 32-bit accesses, lowest address first.
   */
  readonly accessWidth?: RegisterWidth;
  /** Default `rw`. */
  readonly access?: Access;
  /** Reading it clears, sets or changes it: `read()` still reads it; nothing else does. */
  readonly readEffect?: ReadEffect;
  /** The default write effect of its fields. */
  readonly write?: WriteEffect;
  /** The value after reset (default 0): what `write(fields)` starts from. */
  readonly reset?: SpecValue;
  readonly fields?: { readonly [name: string]: FieldSpec };
  /** An array of `count` registers, the first at `offset`. */
  readonly count?: number;
  /** Bytes from one array element to the next (default the register's size in bytes). */
  readonly stride?: number;
  /** Free text, kept for people reading the map. */
  readonly description?: string;
}

/** A register map: a name and registers keyed by name. */
export interface MapSpec {
  /** Names the map in messages and in `vfio read --map NAME`. */
  readonly name: string;
  /** The BAR the registers are in (default 0), for `vfio read --map`. */
  readonly bar?: number;
  /** The smallest region the map fits (checked at `bind`; default: past the last register). */
  readonly size?: number;
  /** Free text, kept for people reading the map. */
  readonly description?: string;
  readonly registers: { readonly [name: string]: RegisterSpec };
}
