/**
 * One register of a map: `RegisterDef` knows its layout and encodes and decodes values with no
 * device; `Register` is one bound to a region (`map.bind(region)`), with the accessors and their
 * guarantees:
 * - each operation is the fewest accesses of exactly the register's access width (a 64-bit
 *   register with `accessWidth: 32` is two 32-bit accesses, lowest address first), never a
 *   narrower access to reach one field;
 * - only `read()` and `modify()` read, and `modify()` refuses a register whose reads have side
 *   effects unless given the value to start from; nothing else reads: properties, `inspect` and
 *   tab completion only look at the map;
 * - `write()`, `modify()` and `clear()` write the neutral value to every field with a write
 *   effect (write-1-to-clear, ...) they were not asked to touch; `clear()` is one write.
 */
import type { RegisterAccess } from './access.js';
import type { Access, ReadEffect, RegisterSpec, RegisterWidth } from './spec.js';
import type { FieldModel, RegisterModel } from './model.js';
import type { ClearInput, ClearableField, Decoded, FieldInput, IfWritable, RegisterValue } from './types.js';
import { decode, decodedPrototype, encode, fieldIn, fieldNamed, outward, rawIn } from './codec.js';
import { ones } from './values.js';
import { RegisterMapError, VfioErrorCode, VfioTypeError } from '../../structs/index.js';
import { hex, INSPECT } from '../sys/index.js';

/** A field as the map describes it. */
export type FieldInfo = FieldModel;

/** `write()`'s options. */
export interface WriteOptions {
  /** What the fields not given start from: the register's reset value (default) or zero. */
  base?: 'reset' | 'zero';
}

/** `modify()`'s options. */
export interface ModifyOptions<R> {
  /** The value to start from instead of reading the register (a raw value or a `read()` result). */
  from?: RegisterValue<R> | Decoded<R>;
}

function readOnce(region: RegisterAccess, offset: number, width: RegisterWidth): bigint {
  if (width === 64) return region.read64(offset);
  return BigInt(width === 32 ? region.read32(offset) : width === 16 ? region.read16(offset) : region.read8(offset));
}

function writeOnce(region: RegisterAccess, offset: number, width: RegisterWidth, value: bigint): void {
  if (width === 64) return region.write64(offset, value);
  const v = Number(value);
  if (width === 32) region.write32(offset, v);
  else if (width === 16) region.write16(offset, v);
  else region.write8(offset, v);
}

/** A register's layout and its pure encode and decode; `Register` adds the device. */
export class RegisterDef<R = RegisterSpec> {
  /** @internal */
  protected readonly model: RegisterModel;
  /** The register's name; an array element's is `NAME[i]`. */
  readonly name: string;
  /** Byte offset in the region. */
  readonly offset: number;
  readonly #proto: object;

  /** @internal Made by `defineRegisterMap` and `bind`. */
  constructor(model: RegisterModel, name = model.name, offset = model.offset) {
    this.model = model;
    this.name = name;
    this.offset = offset;
    this.#proto = decodedPrototype(name, model.width);
  }

  /** Bits. */
  get width(): RegisterWidth {
    return this.model.width;
  }

  /** Bits per access. */
  get accessWidth(): RegisterWidth {
    return this.model.accessWidth;
  }

  /** Who may access it: `ro`, `wo` or `rw`. */
  get access(): Access {
    return this.model.access;
  }

  /** What reading does to it besides reading, if anything. */
  get readEffect(): ReadEffect | undefined {
    return this.model.readEffect;
  }

  /** The value after reset, what `write(fields)` starts from. */
  get reset(): RegisterValue<R> {
    return outward(this.model.reset, this.model.width) as RegisterValue<R>;
  }

  /** The fields, lowest declared first, as the map describes them. */
  get fields(): readonly FieldInfo[] {
    return this.model.fields;
  }

  /** The map's words about the register, if any. */
  get description(): string | undefined {
    return this.model.description;
  }

  /** `raw` decoded, as `read()` gives it (no device access). */
  decode(raw: RegisterValue<R>): Decoded<R> {
    return decode(this.model, rawIn(this.model, raw, `${this.where} decode`), this.#proto) as Decoded<R>;
  }

  /** The value `write(fields, options)` would write (no device access). */
  encode(fields: FieldInput<R>, options: WriteOptions = {}): RegisterValue<R> {
    return outward(this.#encode(fields, options, 'encode'), this.model.width) as RegisterValue<R>;
  }

  #encode(fields: unknown, options: WriteOptions, method: string): bigint {
    const base = options.base === 'zero' ? 0n : this.model.reset;
    if (options.base !== undefined && options.base !== 'zero' && options.base !== 'reset')
      throw new VfioTypeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `${this.where} ${method}: base must be 'reset' or 'zero'`,
      );
    return encode(this.model, base, fields, `${this.where} ${method}`);
  }

  /** @internal Shared with `Register`. */
  protected encodeFor(fields: unknown, options: WriteOptions, method: string): bigint {
    return this.#encode(fields, options, method);
  }

  /** @internal */
  protected decodeRaw(raw: bigint): Decoded<R> {
    return decode(this.model, raw, this.#proto) as Decoded<R>;
  }

  /** @internal `e1000e.STATUS` (`nvme.SQTDBL[1]`): the register in messages. */
  protected get where(): string {
    return this.name === this.model.name ? this.model.where : `${this.model.where.split('.')[0]}.${this.name}`;
  }

  /** One line about the register's layout: never reads it. */
  [INSPECT](): string {
    const m = this.model;
    const fields = m.fields.map((f) => `${f.name}[${f.msb === f.lsb ? f.msb : `${f.msb}:${f.lsb}`}]`);
    const split = m.accessWidth !== m.width ? ` as ${m.width / m.accessWidth} x ${m.accessWidth}-bit` : '';
    const effect = m.readEffect ? `, reads ${m.readEffect === 'modify' ? 'change' : m.readEffect} it` : '';
    return `${this.constructor.name} <${this.where} at ${hex(this.offset)}> { ${m.width}-bit${split} ${m.access}${effect}${fields.length ? `; ${fields.join(' ')}` : ''} }`;
  }
}

/** A register bound to a region: `read()`, `write()`, `modify()`, `clear()`. */
export class Register<R = RegisterSpec> extends RegisterDef<R> {
  readonly #region: RegisterAccess;
  #accesses = 0;

  /** @internal Made by `map.bind(region)`. */
  constructor(model: RegisterModel, region: RegisterAccess, name?: string, offset?: number) {
    super(model, name, offset);
    this.#region = region;
  }

  /** How many device accesses this object has made (reads and writes). */
  get accesses(): number {
    return this.#accesses;
  }

  // Every method that reaches the device first counts its accesses, a store to this object.
  // Node's REPL previews an expression before Enter by evaluating it with V8's side-effect
  // check, which lets loads run (an MMIO read is a load) but stops at the first store to an
  // object that existed before: a preview of `regs.ICR.read()` ends at that count, before the
  // device is reached.

  #readRaw(): bigint {
    const m = this.model;
    const n = m.width / m.accessWidth;
    this.#accesses += n;
    if (n === 1) return readOnce(this.#region, this.offset, m.width);
    let v = 0n;
    for (let i = 0; i < n; i++)
      v |= readOnce(this.#region, this.offset + (i * m.accessWidth) / 8, m.accessWidth) << BigInt(i * m.accessWidth);
    return v;
  }

  #writeRaw(value: bigint): void {
    const m = this.model;
    const n = m.width / m.accessWidth;
    this.#accesses += n;
    if (n === 1) return writeOnce(this.#region, this.offset, m.width, value);
    const mask = ones(m.accessWidth);
    for (let i = 0; i < n; i++)
      writeOnce(
        this.#region,
        this.offset + (i * m.accessWidth) / 8,
        m.accessWidth,
        (value >> BigInt(i * m.accessWidth)) & mask,
      );
  }

  #refuse(method: string, why: string): never {
    throw new RegisterMapError(`${this.where} ${method}: ${why}`);
  }

  /** Reads the register (one access, or its parts lowest address first) and decodes it. */
  read(): Decoded<R> {
    if (this.model.access === 'wo') this.#refuse('read', 'the register is write-only');
    return this.decodeRaw(this.#readRaw());
  }

  /**
   * Writes a raw value as it is, or fields onto the reset value (`{ base: 'zero' }`: onto zero),
   * every write-effect field not given at its neutral value. No read.
   */
  write(value: IfWritable<R, RegisterValue<R> | FieldInput<R>>, options: WriteOptions = {}): void {
    if (this.model.access === 'ro') this.#refuse('write', 'the register is read-only');
    const v =
      typeof value === 'object'
        ? this.encodeFor(value, options, 'write')
        : rawIn(this.model, value, `${this.where} write`);
    this.#writeRaw(v);
  }

  /**
   * Sets the given fields and keeps the others: one read and one write, or with `{ from }` no
   * read. Refused, before any access, on a register whose reads have side effects (or a
   * write-only one) unless `from` is given. Write-effect fields not given get their neutral value.
   */
  modify(fields: FieldInput<R>, options: ModifyOptions<R> = {}): void {
    const m = this.model;
    if (m.access === 'ro') this.#refuse('modify', 'the register is read-only');
    let base: bigint;
    if (options.from !== undefined) {
      const from = typeof options.from === 'object' ? (options.from as { raw: unknown }).raw : options.from;
      base = rawIn(m, from, `${this.where} modify from`);
    } else if (m.readEffect)
      this.#refuse(
        'modify',
        `reading the register ${m.readEffect === 'modify' ? 'changes' : `${m.readEffect}s`} it, so modify() does not read it: pass { from: value } (a value read before), or use write()${m.effectMask ? ' or clear()' : ''}`,
      );
    else if (m.access === 'wo')
      this.#refuse('modify', 'the register is write-only: pass { from: value }, or use write()');
    else {
      encode(m, 0n, fields, `${this.where} modify`); // a wrong field or value throws before the read
      base = this.#readRaw();
    }
    this.#writeRaw(encode(m, base!, fields, `${this.where} modify`));
  }

  /**
   * Clears write-1-to-clear (and write-0-to-clear) fields: one write, no read. Give field names
   * to clear whole fields, or `{ FIELD: bits }` to clear some of a field's bits. Every other
   * write-effect field is written neutral; a register with plain writable fields is refused
   * (one write would overwrite them: use `modify()`).
   */
  clear(...fields: ClearableField<R>[]): void;
  clear(bits: ClearInput<R>): void;
  clear(...args: unknown[]): void {
    const m = this.model;
    const what = `${this.where} clear`;
    const plain = m.fields.filter((f) => f.access !== 'ro' && f.write === undefined).map((f) => f.name);
    if (m.access === 'ro') this.#refuse('clear', 'the register is read-only');
    if (plain.length)
      this.#refuse(
        'clear',
        `its fields ${plain.join(', ')} are plain read-write: one write would overwrite them; use modify()`,
      );
    const bits: Array<[string, unknown]> =
      typeof args[0] === 'object' && args[0] !== null
        ? Object.entries(args[0])
        : args.map((name) => [String(name), undefined]);
    if (bits.length === 0) this.#refuse('clear', 'name the fields to clear');
    let value = m.neutral;
    for (const [name, given] of bits) {
      const f = fieldNamed(m, name, what);
      if (f.write !== 'oneToClear' && f.write !== 'zeroToClear')
        this.#refuse('clear', `${name} is not write-1-to-clear or write-0-to-clear (${f.write ?? 'a plain field'})`);
      const chosen = (given === undefined ? ones(f.width) : fieldIn(m, f, given, what)) << BigInt(f.lsb);
      value = f.write === 'oneToClear' ? value | chosen : value & ~chosen;
    }
    this.#writeRaw(value);
  }
}
