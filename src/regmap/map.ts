/**
 * `defineRegisterMap(spec)`: a map from plain data, checked at once; `map.bind(region)`: its
 * registers on a region, by name, typed from a `.ts` literal; `dump()`: every register it may
 * read safely, read and decoded, and the ones it left alone with the reason.
 */
import type { MapSpec, RegisterSpec } from './spec.js';
import { mapModel, registerEnd, type MapModel, type RegisterModel } from './model.js';
import { Register, RegisterDef } from './register.js';
import type { RegisterAccess } from './access.js';
import type { ArrayName, Decoded, IsArray, RegisterName } from './types.js';
import { specNumber } from './values.js';
import { RegisterMapError, VfioErrorCode, VfioRangeError } from '../../structs/index.js';
import { hex, INSPECT } from '../sys/index.js';
import { noteBinding } from './bindings.js';

/** An array of registers (`count` of them, `stride` bytes apart): `regs.DB[1]`, `regs.DB.at(1)`. */
export class RegisterArray<R = RegisterSpec> {
  readonly [index: number]: Register<R>;
  /** How many registers. */
  readonly length: number;
  /** Bytes from one to the next. */
  readonly stride: number;
  /** The array's name in the map (`SQTDBL`); its registers are `SQTDBL[0]`, ... */
  readonly name: string;

  /** @internal Made by `bind`. */
  constructor(model: RegisterModel, region: RegisterAccess, offset: number, count: number, stride: number) {
    this.name = model.name;
    this.length = count;
    this.stride = stride;
    for (let i = 0; i < count; i++)
      Object.defineProperty(this, i, {
        value: new Register<R>(model, region, `${model.name}[${i}]`, offset + i * stride),
        enumerable: false,
      });
  }

  /** Register `i`; out of range throws (a register map never guesses an offset). */
  at(i: number): Register<R> {
    if (!Number.isInteger(i) || i < 0 || i >= this.length)
      throw new VfioRangeError(
        VfioErrorCode.OUT_OF_RANGE,
        `${this.name}.at(${String(i)}): expected an index from 0 to ${this.length - 1}`,
      );
    return this[i];
  }

  /** The registers in index order. */
  *[Symbol.iterator](): IterableIterator<Register<R>> {
    for (let i = 0; i < this.length; i++) yield this[i];
  }

  /** One line about the array: never reads it. */
  [INSPECT](): string {
    return `RegisterArray <${this.name}[0..${this.length - 1}], ${this.stride} bytes apart>`;
  }
}

/** The registers of map spec `S`, bound: each a `Register`, or a `RegisterArray` for an array. */
export type BoundRegisters<S extends MapSpec> = {
  readonly [K in RegisterName<S>]: IsArray<S['registers'][K]> extends true
    ? RegisterArray<S['registers'][K]>
    : IsArray<S['registers'][K]> extends false
      ? Register<S['registers'][K]>
      : Register<S['registers'][K]> | RegisterArray<S['registers'][K]>;
};

/** `bind()`'s options. */
export interface BindOptions<S extends MapSpec> {
  /** Per array, a placement found at run time (NVMe doorbells move with CAP.DSTRD). */
  arrays?: { readonly [K in ArrayName<S>]?: ArrayPlacement };
}

/** Where an array's registers are, in place of the map's: the first one's offset, the stride, how many. */
export interface ArrayPlacement {
  offset?: number;
  stride?: number;
  count?: number;
}

/** A decoded register as `dump()` lists it. */
export interface DumpEntry {
  readonly name: string;
  readonly offset: number;
  readonly value: Decoded<RegisterSpec>;
}

/** What `dump()` read, and what it left alone and why; prints one line a register. */
export class RegisterDump {
  /** @internal Made by `dump()`. */
  constructor(
    /** The registers read, decoded, in map order. */
    readonly read: readonly DumpEntry[],
    /** The registers not read: write-only, or reading them has a side effect. */
    readonly skipped: ReadonlyArray<{ readonly name: string; readonly reason: string }>,
  ) {}

  /** One line a register read, then one `not read:` line. */
  toString(): string {
    const lines = this.read.map((e) => String(e.value));
    if (this.skipped.length) lines.push(`not read: ${this.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}`);
    return lines.join('\n');
  }

  /** Prints as `toString()`. */
  [INSPECT](): string {
    return this.toString();
  }
}

/** Why `dump()` does not read a register, or undefined when it may. */
function dumpSkips(m: RegisterModel): string | undefined {
  if (m.access === 'wo') return 'write-only';
  if (m.readEffect === 'clear') return 'reading clears it';
  if (m.readEffect === 'set') return 'reading sets it';
  if (m.readEffect) return 'reading changes it';
  return undefined;
}

/** A map bound to a region: the registers by name, and `dump()`. */
export class BoundMap<S extends MapSpec = MapSpec> {
  /** The map. */
  declare readonly map: RegisterMap<S>;
  /** What it drives. */
  declare readonly region: RegisterAccess;

  /** @internal Use `map.bind(region)`. */
  constructor(map: RegisterMap<S>, model: MapModel, region: RegisterAccess, options: BindOptions<S>) {
    // Not enumerable: Object.keys(regs) lists the registers only.
    Object.defineProperty(this, 'map', { value: map });
    Object.defineProperty(this, 'region', { value: region });
    const arrays = (options.arrays ?? {}) as Record<string, ArrayPlacement | undefined>;
    for (const name of Object.keys(arrays))
      if (model.register.get(name)?.count === undefined)
        throw new RegisterMapError(`register map ${model.name} bind: ${name} is not an array of registers`);
    const where = region.name ?? 'the region';
    for (const m of model.registers) {
      const a = arrays[m.name];
      const count = a?.count === undefined ? m.count : specNumber(a.count, `${m.where} count`);
      const stride = a?.stride === undefined ? m.stride : specNumber(a.stride, `${m.where} stride`);
      const offset = a?.offset === undefined ? m.offset : specNumber(a.offset, `${m.where} offset`);
      const bytes = m.accessWidth / 8;
      if (offset % bytes !== 0 || stride % bytes !== 0 || stride < m.width / 8 || count === 0)
        throw new RegisterMapError(
          `register map ${model.name} bind: ${m.name} at ${hex(offset)}, stride ${stride}, count ${count}: offset and stride must be multiples of ${bytes}, the stride at least ${m.width / 8}, the count at least 1`,
        );
      const end = registerEnd({ ...m, offset }, count ?? 1, stride);
      if (end > region.size)
        throw new RegisterMapError(
          `register map ${model.name} bind: ${m.name} ends at ${hex(end)}, past the end of ${where} (${hex(region.size)} bytes)`,
        );
      const value = count === undefined ? new Register(m, region) : new RegisterArray(m, region, offset, count, stride);
      Object.defineProperty(this, m.name, { value, enumerable: true });
    }
    const regs = this as unknown as Record<string, Register | RegisterArray>;
    noteBinding(region, {
      mapName: model.name,
      *registers() {
        for (const m of model.registers) {
          const r = regs[m.name];
          if (r instanceof RegisterArray) yield* r;
          else yield r;
        }
      },
    });
  }

  /**
   * The register named `name`, or `NAME[i]` of an array: for names known only at run time (a
   * command line, a map from JSON). Unknown names throw, listing the map's.
   */
  get(name: string): Register {
    const m = /^([A-Za-z_$][\w$]*)(?:\[(\d+)\])?$/.exec(name);
    const model = m ? this.map.model.register.get(m[1]) : undefined;
    if (!m || !model)
      throw new RegisterMapError(
        `register map ${this.map.name} has no register '${name}' (its registers: ${this.map.model.registers.map((r) => r.name).join(', ')})`,
      );
    const r = (this as unknown as Record<string, Register | RegisterArray>)[m[1]];
    if (r instanceof RegisterArray) {
      if (m[2] === undefined)
        throw new RegisterMapError(`${this.map.name}.${m[1]} is an array of ${r.length}: name one, ${m[1]}[0]`);
      return r.at(Number(m[2]));
    }
    if (m[2] !== undefined) throw new RegisterMapError(`${this.map.name}.${m[1]} is not an array`);
    return r;
  }

  /**
   * Reads and decodes every register it may read safely (not write-only, no read side
   * effect), array elements included, in map order; lists the others with the reason.
   */
  dump(): RegisterDump {
    const read: DumpEntry[] = [];
    const skipped: Array<{ name: string; reason: string }> = [];
    for (const m of this.map.model.registers) {
      const r = (this as unknown as Record<string, Register | RegisterArray>)[m.name];
      const regs = r instanceof RegisterArray ? [...r] : [r];
      const why = dumpSkips(m);
      if (why) skipped.push({ name: m.name, reason: why });
      else for (const one of regs) read.push({ name: one.name, offset: one.offset, value: one.read() });
    }
    return new RegisterDump(read, skipped);
  }

  /** One line naming the map, the region and the registers: reads nothing. */
  [INSPECT](): string {
    const names = Object.keys(this);
    return `BoundMap <${this.map.name} on ${this.region.name ?? 'a region'}> { ${names.length} registers: ${names.join(', ')} }`;
  }
}

/** A checked register map. `bind(region)` gives its registers on a device. */
export class RegisterMap<S extends MapSpec = MapSpec> {
  /** The spec it was made from, as given. */
  readonly spec: S;
  /** @internal */
  readonly model: MapModel;
  /** The registers' layouts, with `encode`/`decode` and no device. */
  readonly registers: { readonly [K in RegisterName<S>]: RegisterDef<S['registers'][K]> };

  /** @internal Use `defineRegisterMap`. */
  constructor(spec: S) {
    this.model = mapModel(spec);
    this.spec = spec;
    this.registers = Object.fromEntries(
      this.model.registers.map((m) => [m.name, new RegisterDef(m)]),
    ) as unknown as RegisterMap<S>['registers'];
  }

  /** The map's name (`e1000e`). */
  get name(): string {
    return this.model.name;
  }

  /** The BAR the map describes (default 0). */
  get bar(): number {
    return this.model.bar;
  }

  /** Binds the map to `region` (a `Region`: `dev.bar(map.bar)`). Checks every register fits; reads nothing. */
  bind(region: RegisterAccess, options: BindOptions<S> = {}): BoundMap<S> & BoundRegisters<S> {
    return new BoundMap(this, this.model, region, options) as BoundMap<S> & BoundRegisters<S>;
  }

  /** The spec as JSON takes it: 64-bit values as hex strings. */
  toJSON(): unknown {
    return JSON.parse(JSON.stringify(this.spec, (_k, v: unknown) => (typeof v === 'bigint' ? hex(v) : v)));
  }

  /** One line: name, BAR, how many registers. */
  [INSPECT](): string {
    return `RegisterMap <${this.name}, BAR${this.bar}> { ${this.model.registers.length} registers }`;
  }
}

/**
 * Checks `spec` and returns its map; throws `RegisterMapError` naming the register and field of
 * the first thing wrong. From a `.ts` literal, register, field and enum names are typed; from
 * parsed JSON (`defineRegisterMap(JSON.parse(text))`) they are checked at run time.
 */
export function defineRegisterMap<const S extends MapSpec>(spec: S): RegisterMap<S> {
  return new RegisterMap(spec);
}
