/**
 * A BAR's registers held by the model, as its register map describes them: each register keeps
 * its value from its reset value on, and a client's accesses follow the map's rules (read-only
 * and write-only registers and fields, write-one-to-clear and the other write effects,
 * clear-on-read). The model's own code runs on the registers it names (`onRead`, `onWrite`),
 * and reads and sets values with `get` and `set`, which the rules do not bind.
 */
import type { MapModel, MapSpec, RegisterMap, RegisterModel, RegisterName, WriteEffect } from '../../regmap/index.js';
import { VfioErrorCode, VfioRangeError } from '../../../structs/index.js';
import type { AccessWidth, ModelContext } from './model.js';

/** Where a handler runs: the register file (to `get` and `set` values), the model's context, the array element. */
export interface RegisterEvent<S extends MapSpec = MapSpec> {
  regs: RegisterFile<S>;
  ctx: ModelContext;
  /** The element of a register array (0 for a plain register). */
  index: number;
}

/** What the model does when the client reads or writes a register, by register name. */
export interface RegisterHandlers<S extends MapSpec = MapSpec> {
  /** Before a read of the register is answered: set its value here (`regs.set`) if it is computed. */
  onRead?: { readonly [K in RegisterName<S>]?: (event: RegisterEvent<S>) => void };
  /** After a write of the register was stored (access and write effects applied): its new value. */
  onWrite?: { readonly [K in RegisterName<S>]?: (value: bigint, event: RegisterEvent<S>) => void };
}

interface Placed {
  model: RegisterModel;
  index: number;
  offset: number;
  bytes: number;
}

const all = (bits: number) => (1n << BigInt(bits)) - 1n;

/**
 * A model's registers from its register map (a BAR's `registers`): values from the reset values
 * on, the map's access rules and write effects applied to the client's accesses, and the
 * model's handlers run on the registers they name.
 */
export class RegisterFile<S extends MapSpec = MapSpec> {
  readonly #map: MapModel;
  readonly #handlers: RegisterHandlers<S>;
  readonly #values = new Map<string, bigint[]>();
  readonly #placed: Placed[];

  /** Holds `map`'s registers at their reset values; `handlers` must name registers of the map. */
  constructor(map: RegisterMap<S>, handlers: RegisterHandlers<S> = {}) {
    this.#map = map.model;
    this.#handlers = handlers;
    this.#placed = this.#map.registers.flatMap((model) =>
      Array.from({ length: model.count ?? 1 }, (_, index) => ({
        model,
        index,
        offset: model.offset + index * model.stride,
        bytes: model.width / 8,
      })),
    );
    for (const name of [...Object.keys(handlers.onRead ?? {}), ...Object.keys(handlers.onWrite ?? {})])
      if (!this.#map.register.has(name))
        throw new VfioRangeError(VfioErrorCode.REGISTER_MAP, `${this.#map.name} has no register ${name} to handle`);
    this.reset();
  }

  /** Every register back to its reset value. */
  reset(): void {
    for (const r of this.#map.registers) this.#values.set(r.name, Array<bigint>(r.count ?? 1).fill(r.reset));
  }

  /** The value register `name` holds (element `index` of an array). */
  get(name: RegisterName<S>, index = 0): bigint {
    return this.#slot(name, index).values[index];
  }

  /** Sets register `name` (element `index`) as the device does: no access rule applies. */
  set(name: RegisterName<S>, value: number | bigint, index = 0): void {
    const { values, model } = this.#slot(name, index);
    values[index] = BigInt.asUintN(model.width, BigInt(value));
  }

  /** A client's read of `width` bytes at `offset`: what the registers there answer. */
  read(offset: number, width: AccessWidth, ctx: ModelContext): number | bigint {
    let out = 0n;
    for (const p of this.#covering(offset, width)) {
      this.#onRead(p.model.name)?.({ regs: this, ctx, index: p.index });
      const values = this.#values.get(p.model.name)!;
      const shown = this.#readable(p.model, values[p.index]);
      if (p.model.readEffect === 'clear') values[p.index] = 0n;
      else if (p.model.readEffect === 'set') values[p.index] = all(p.model.width);
      out |= this.#bytesOf(shown, p, offset, width);
    }
    return width === 8 ? out : Number(out);
  }

  /** A client's write of `width` bytes at `offset`, with the rules of the registers there. */
  write(offset: number, width: AccessWidth, value: number | bigint, ctx: ModelContext): void {
    for (const p of this.#covering(offset, width)) {
      const values = this.#values.get(p.model.name)!;
      // The access in the register's own bit positions: the bits it reaches, the value there.
      const bits = 8 * (offset - p.offset);
      const place = (x: bigint) => (bits >= 0 ? x << BigInt(bits) : x >> BigInt(-bits));
      const mask = place(all(8 * width)) & all(p.model.width);
      const written = place(BigInt(value));
      const next = this.#written(p.model, values[p.index], written & mask, mask);
      values[p.index] = next;
      this.#onWrite(p.model.name)?.(next, { regs: this, ctx, index: p.index });
      values[p.index] = this.#selfCleared(p.model, values[p.index]);
    }
  }

  #onRead(name: string): ((event: RegisterEvent<S>) => void) | undefined {
    return (this.#handlers.onRead as Record<string, (event: RegisterEvent<S>) => void> | undefined)?.[name];
  }

  #onWrite(name: string): ((value: bigint, event: RegisterEvent<S>) => void) | undefined {
    return (this.#handlers.onWrite as Record<string, (v: bigint, event: RegisterEvent<S>) => void> | undefined)?.[name];
  }

  #slot(name: string, index: number): { values: bigint[]; model: RegisterModel } {
    const model = this.#map.register.get(name);
    const values = this.#values.get(name);
    if (!model || !values || !Number.isInteger(index) || index < 0 || index >= values.length)
      throw new VfioRangeError(VfioErrorCode.REGISTER_MAP, `${this.#map.name} has no register ${name}[${index}]`);
    return { values, model };
  }

  #covering(offset: number, width: number): Placed[] {
    return this.#placed.filter((p) => p.offset < offset + width && offset < p.offset + p.bytes);
  }

  /** The value as the client sees it: write-only registers and fields read as zero. */
  #readable(r: RegisterModel, v: bigint): bigint {
    if (r.access === 'wo') return 0n;
    let out = v;
    for (const f of r.fields) if (f.access === 'wo') out &= ~f.mask;
    return out;
  }

  /** The part of register value `v` that falls in the access's bytes, placed as the access sees it. */
  #bytesOf(v: bigint, p: Placed, offset: number, width: number): bigint {
    const shift = 8 * (p.offset - offset);
    return (shift >= 0 ? v << BigInt(shift) : v >> BigInt(-shift)) & all(8 * width);
  }

  /** The register after a client writes `written` to the bits in `mask`. */
  #written(r: RegisterModel, old: bigint, written: bigint, mask: bigint): bigint {
    if (r.access === 'ro') return old;
    let next = (old & ~mask) | written;
    for (const f of r.fields) {
      const bits = f.mask & mask;
      if (!bits) continue;
      if (f.access === 'ro') next = (next & ~bits) | (old & bits);
      else if (f.write) next = (next & ~bits) | (effect(f.write, old, written) & bits);
    }
    return next;
  }

  #selfCleared(r: RegisterModel, v: bigint): bigint {
    let out = v;
    for (const f of r.fields) if (f.write === 'selfClearing') out &= ~f.mask;
    return out;
  }
}

/** The bits a write effect leaves, from the old value and the bits written. */
function effect(kind: WriteEffect, old: bigint, w: bigint): bigint {
  switch (kind) {
    case 'oneToClear':
      return old & ~w;
    case 'oneToSet':
      return old | w;
    case 'oneToToggle':
      return old ^ w;
    case 'zeroToClear':
      return old & w;
    case 'zeroToSet':
      return old | ~w;
    case 'zeroToToggle':
      return old ^ ~w;
    case 'selfClearing':
      return w;
  }
}
