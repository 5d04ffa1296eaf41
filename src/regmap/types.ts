/**
 * What TypeScript learns from a map written as a `.ts` object literal, with no code generation:
 * `defineRegisterMap` takes the literal through a `const` type parameter, and these types read
 * register names, field names, enum labels, widths and access out of it. A map of type
 * `MapSpec` (parsed JSON, an IP-XACT import) gets the same shapes with plain `string` names.
 */
import type { Access, ClearingEffect, MapSpec } from './spec.js';

/** `T[K]`, or `undefined` when `T` has no `K` (a literal that left it out). */
export type Own<T, K extends PropertyKey> = K extends keyof T ? T[K] : undefined;

/** `Own<T, K>` with `undefined` replaced by `fallback`. */
export type OwnOr<T, K extends PropertyKey, D> =
  Exclude<Own<T, K>, undefined> | (undefined extends Own<T, K> ? D : never);

/** The fields of register spec `R` (none: an empty record). */
export type FieldsOf<R> = [Exclude<Own<R, 'fields'>, undefined>] extends [never]
  ? Record<never, never>
  : Exclude<Own<R, 'fields'>, undefined>;

/** A register's value: a bigint at 64 bits, else a number (both when the width is not known). */
export type RegisterValue<R> = OwnOr<R, 'width', 32> extends infer W ? (W extends 64 ? bigint : number) : never;

/** `N` zeros, to compare small numbers at the type level. */
export type Zeros<N extends number, T extends 0[] = []> = T['length'] extends N ? T : Zeros<N, [...T, 0]>;

/** Whether bits `msb..lsb` span more than 32 bits (`boolean` when not literal numbers). */
export type WideRange<M extends number, L extends number> = number extends M | L
  ? boolean
  : Zeros<M> extends [...Zeros<L>, ...Zeros<32>, ...0[]]
    ? true
    : false;

/** Whether field spec `F` is wider than 32 bits (`boolean` when its bits are not literal numbers). */
export type Wide<F> = F extends { readonly bits: readonly [infer M extends number, infer L extends number] }
  ? WideRange<M, L>
  : F extends { readonly bits: number }
    ? false
    : boolean;

/** A field's number: a bigint when it is wider than 32 bits, else a number. */
export type FieldNumber<F> = Wide<F> extends true ? bigint : Wide<F> extends false ? number : number | bigint;

/** The enum labels of field spec `F`. */
export type FieldLabel<F> = [Exclude<Own<F, 'values'>, undefined>] extends [never]
  ? never
  : Extract<keyof Exclude<Own<F, 'values'>, undefined>, string>;

/** A field's value as `read()` gives it and `write()` takes it: its label, or its number. */
export type FieldValue<F> = FieldLabel<F> | FieldNumber<F>;

/** The access of field `F` of register spec `R`: its own, else the register's, else `rw`. */
export type FieldAccess<R, F> = OwnOr<F, 'access', OwnOr<R, 'access', 'rw'>>;

/** The write effect of field `F` of register spec `R`: its own, else the register's (or `undefined`). */
export type FieldWriteEffect<R, F> = OwnOr<F, 'write', Own<R, 'write'>>;

/** What `read()` returns: `raw`, the register's value, and every field by name; prints as one line. */
export type Decoded<R> = {
  readonly raw: RegisterValue<R>;
  /** One line: `STATUS = 0x00080783 { FD: 1, LU: 1, SPEED: '1000Mb/s' }`. */
  toString(): string;
} & {
  readonly [K in keyof FieldsOf<R>]: FieldValue<FieldsOf<R>[K]>;
};

/** The names of the fields a write may set (not read-only). */
export type WritableField<R> = {
  [K in keyof FieldsOf<R>]: FieldAccess<R, FieldsOf<R>[K]> extends 'ro' ? never : K;
}[keyof FieldsOf<R>] &
  string;

/**
 * Fields for `write()` and `modify()`, by name: a label or a number each (`never` for a register
 * with no writable field, so that neither a stray object nor a number of the wrong type passes).
 */
export type FieldInput<R> = [WritableField<R>] extends [never]
  ? never
  : { readonly [K in WritableField<R>]?: FieldValue<FieldsOf<R>[K]> };

/** The names of the fields `clear()` clears (`oneToClear` or `zeroToClear`). */
export type ClearableField<R> = {
  [K in keyof FieldsOf<R>]: FieldWriteEffect<R, FieldsOf<R>[K]> extends ClearingEffect
    ? K
    : ClearingEffect extends FieldWriteEffect<R, FieldsOf<R>[K]>
      ? K
      : never;
}[keyof FieldsOf<R>] &
  string;

/** `clear()`'s argument: the bits to clear by field (1 = clear that bit; the whole field: its mask). */
export type ClearInput<R> = [ClearableField<R>] extends [never]
  ? never
  : { readonly [K in ClearableField<R>]?: FieldNumber<FieldsOf<R>[K]> };

/** Whether register spec `R` is an array (`true`, `false`, or `boolean` when not known). */
export type IsArray<R> = Own<R, 'count'> extends undefined ? false : Own<R, 'count'> extends number ? true : boolean;

/** The names of the registers of map spec `S`. */
export type RegisterName<S extends MapSpec> = Extract<keyof S['registers'], string>;

/** The names of the register arrays of map spec `S`. */
export type ArrayName<S extends MapSpec> = {
  [K in RegisterName<S>]: IsArray<S['registers'][K]> extends false ? never : K;
}[RegisterName<S>];

/** The access of register spec `R`. */
export type AccessOf<R> = OwnOr<R, 'access', 'rw'> & Access;

/** `T` where register spec `R` may be written, else `never` (a read-only register). */
export type IfWritable<R, T> = AccessOf<R> extends 'ro' ? never : T;
