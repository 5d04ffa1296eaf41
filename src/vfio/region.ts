/**
 * A device region (BAR, ROM, config space): the parts the kernel lets us mmap are mapped, the
 * rest is reached with pread/pwrite on the device fd, behind one set of accessors. Every
 * access has exactly the stated width (see `MmioWindow`), is bounds- and alignment-checked,
 * and names the region when it is refused. Offsets and lengths are numbers; 8/16/32-bit
 * values are numbers and 64-bit values bigints, and a value that does not fit its width is
 * refused, never truncated (src/sys/args.ts).
 */
import {
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  type RegionInfo,
} from '../../structs/index.js';
import { closeAll, Mapping, MmioWindow, pageSize, Resource, sysPread, sysPwrite } from '../sys/index.js';
import { checkAccess, checkInteger, checkSpan, checkValue, checkValue64, describeArg, hex } from '../sys/args.js';

/** One mmapped part of a region. */
interface MappedArea {
  start: number;
  end: number;
  mapping: Mapping;
  window: MmioWindow;
}

export interface RegionOptions {
  /** Map the mmap-able parts (default true). With false every access is a pread/pwrite. */
  mmap?: boolean;
  /** Byte ranges `[start, end)` not to map (rounded out to pages); reached through pread/pwrite. */
  exclude?: Array<{ start: number; end: number }>;
}

/** `areas` minus the page-rounded `exclude` ranges. */
export function subtractRanges(
  areas: Array<{ start: number; end: number }>,
  exclude: Array<{ start: number; end: number }>,
  page: number,
): Array<{ start: number; end: number }> {
  let out = areas.filter((a) => a.end > a.start);
  for (const x of exclude) {
    const xs = Math.floor(x.start / page) * page;
    const xe = Math.ceil(x.end / page) * page;
    out = out.flatMap((a) => {
      if (xe <= a.start || xs >= a.end) return [a];
      const parts = [];
      if (a.start < xs) parts.push({ start: a.start, end: xs });
      if (xe < a.end) parts.push({ start: xe, end: a.end });
      return parts;
    });
  }
  return out;
}

export class Region extends Resource {
  readonly info: RegionInfo;
  /** Size in bytes. */
  readonly size: number;
  readonly label: string;
  readonly #fd: number;
  readonly #areas: MappedArea[] = [];
  /** Set when one mapping covers the whole region: the fast path. */
  #whole: MmioWindow | undefined;
  readonly #scratch = Buffer.alloc(8);
  /** The region for messages: `BAR0 of 0000:00:03.0 (0x100000 bytes)`. */
  readonly #where: string;

  /** @internal Use `device.region(i)` or `device.bar(n)`. */
  constructor(fd: number, info: RegionInfo, label: string, options: RegionOptions = {}) {
    super();
    this.#fd = fd;
    this.info = info;
    this.label = label;
    this.size = Number(info.size);
    this.#where = `${label} (0x${this.size.toString(16)} bytes)`;
    if (options.mmap !== false && info.flags & VFIO_REGION_INFO_FLAG_MMAP) this.#mapAreas(options.exclude ?? []);
  }

  get name(): string {
    return this.label;
  }

  protected override describe(): string {
    const mapped = this.#areas.map((a) => `0x${a.start.toString(16)}-0x${a.end.toString(16)}`);
    return `0x${this.size.toString(16)} bytes, ${mapped.length ? `mapped ${mapped.join(', ')}` : 'not mapped (pread/pwrite)'}`;
  }

  get readable(): boolean {
    return (this.info.flags & VFIO_REGION_INFO_FLAG_READ) !== 0;
  }

  get writable(): boolean {
    return (this.info.flags & VFIO_REGION_INFO_FLAG_WRITE) !== 0;
  }

  /** The mmapped byte ranges `[start, end)` of the region; the rest goes through pread/pwrite. */
  get mappedAreas(): Array<{ start: number; end: number }> {
    return this.#areas.map(({ start, end }) => ({ start, end }));
  }

  /**
   * Whether `[offset, offset + length)` lies inside one mapped area (false beyond the region's
   * end; a non-integer or negative argument throws).
   */
  isMapped(offset: number, length = 1): boolean {
    this.check();
    checkInteger('isMapped offset', `in ${this.#where}`, offset, 0, Number.MAX_SAFE_INTEGER);
    checkInteger('isMapped length', `in ${this.#where}`, length, 0, Number.MAX_SAFE_INTEGER);
    return this.#areaFor(offset, length) !== undefined;
  }

  #mapAreas(exclude: Array<{ start: number; end: number }>): void {
    const prot = (this.readable ? PROT_READ : 0) | (this.writable ? PROT_WRITE : 0);
    const page = pageSize();
    const offered = (this.info.sparseMmap ?? [{ offset: 0n, size: this.info.size }]).map((a) => ({
      start: Number(a.offset),
      end: Number(a.offset + a.size),
    }));
    try {
      for (const { start, end } of subtractRanges(offered, exclude, page)) {
        const len = end - start;
        if (start % page !== 0) continue; // the kernel only offers page-aligned areas; skip anything else
        const mapping = new Mapping({
          length: len,
          prot,
          flags: MAP_SHARED,
          fd: this.#fd,
          offset: this.info.offset + BigInt(start),
          target: `${this.label} [0x${start.toString(16)}, 0x${(start + len).toString(16)})`,
        });
        this.#areas.push({ start, end: start + len, mapping, window: new MmioWindow(mapping.buffer) });
      }
    } catch (e) {
      closeAll(this.#areas.map((a) => () => a.mapping.close()));
      this.#areas.length = 0;
      throw e;
    }
    if (this.#areas.length === 1 && this.#areas[0].start === 0 && this.#areas[0].end >= this.size)
      this.#whole = this.#areas[0].window;
  }

  #areaFor(offset: number, width: number): MappedArea | undefined {
    for (const a of this.#areas) if (offset >= a.start && offset + width <= a.end) return a;
    return undefined;
  }

  #checkAccess(offset: number, width: number, op: string): void {
    this.check();
    checkAccess(op, this.#where, offset, width, this.size, true);
  }

  #pread(offset: number, width: number): Buffer {
    const n = sysPread(this.#fd, this.#scratch, width, this.info.offset + BigInt(offset), this.label);
    if (n !== width) throw new Error(`${this.label}: short read of ${n}/${width} bytes at 0x${offset.toString(16)}`);
    return this.#scratch;
  }

  #pwrite(offset: number, width: number): void {
    const n = sysPwrite(this.#fd, this.#scratch, width, this.info.offset + BigInt(offset), this.label);
    if (n !== width) throw new Error(`${this.label}: short write of ${n}/${width} bytes at 0x${offset.toString(16)}`);
  }

  // Fast path: one mapping covers the region, the offset is a small aligned integer in bounds
  // and a written value fits the width; `#whole` is cleared on close, so a closed region always
  // takes the checked path. The typeof tests keep `>>>` from throwing on a bigint; the JIT
  // folds them for the number it sees. For write64, asUintN is the cheapest range test measured
  // (two bigint comparisons cost several ns more). Everything else (checks and their errors, sparse areas,
  // pread/pwrite) is in #read/#write.

  read8(offset: number): number {
    const w = this.#whole;
    if (w !== undefined && typeof offset === 'number' && offset >>> 0 === offset && offset < this.size)
      return w.read8(offset);
    return this.#read(offset, 1) as number;
  }

  read16(offset: number): number {
    const w = this.#whole;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 1) === 0 &&
      offset + 2 <= this.size
    )
      return w.read16(offset);
    return this.#read(offset, 2) as number;
  }

  read32(offset: number): number {
    const w = this.#whole;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 3) === 0 &&
      offset + 4 <= this.size
    )
      return w.read32(offset);
    return this.#read(offset, 4) as number;
  }

  read64(offset: number): bigint {
    const w = this.#whole;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 7) === 0 &&
      offset + 8 <= this.size
    )
      return w.read64(offset);
    return this.#read(offset, 8) as bigint;
  }

  write8(offset: number, value: number): void {
    const w = this.#whole;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      offset < this.size &&
      typeof value === 'number' &&
      (value & 0xff) === value
    )
      return w.write8(offset, value);
    this.#write(offset, 1, value);
  }

  write16(offset: number, value: number): void {
    const w = this.#whole;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 1) === 0 &&
      offset + 2 <= this.size &&
      typeof value === 'number' &&
      (value & 0xffff) === value
    )
      return w.write16(offset, value);
    this.#write(offset, 2, value);
  }

  write32(offset: number, value: number): void {
    const w = this.#whole;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 3) === 0 &&
      offset + 4 <= this.size &&
      typeof value === 'number' &&
      value >>> 0 === value
    )
      return w.write32(offset, value);
    this.#write(offset, 4, value);
  }

  write64(offset: number, value: bigint): void {
    const w = this.#whole;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 7) === 0 &&
      offset + 8 <= this.size &&
      typeof value === 'bigint' &&
      BigInt.asUintN(64, value) === value
    )
      return w.write64(offset, value);
    this.#write(offset, 8, value);
  }

  /** The checked access of `width` bytes: a mapped area, or pread on the device fd. */
  #read(offset: number, width: 1 | 2 | 4 | 8): number | bigint {
    this.#checkAccess(offset, width, `read${width * 8}`);
    const a = this.#areaFor(offset, width);
    if (a) {
      const o = offset - a.start;
      return width === 1
        ? a.window.read8(o)
        : width === 2
          ? a.window.read16(o)
          : width === 4
            ? a.window.read32(o)
            : a.window.read64(o);
    }
    const b = this.#pread(offset, width);
    return width === 1
      ? b.readUInt8(0)
      : width === 2
        ? b.readUInt16LE(0)
        : width === 4
          ? b.readUInt32LE(0)
          : b.readBigUInt64LE(0);
  }

  /** The checked write of `width` bytes: a mapped area, or pwrite on the device fd. */
  #write(offset: number, width: 1 | 2 | 4 | 8, value: unknown): void {
    const op = `write${width * 8}`;
    this.#checkAccess(offset, width, op);
    const a = this.#areaFor(offset, width);
    const o = offset - (a?.start ?? 0);
    if (width === 8) {
      const v = checkValue64(op, this.#where, offset, value);
      if (a) return a.window.write64(o, v);
      this.#scratch.writeBigUInt64LE(v, 0);
    } else {
      const v = checkValue(op, this.#where, offset, value, width);
      if (a) return width === 1 ? a.window.write8(o, v) : width === 2 ? a.window.write16(o, v) : a.window.write32(o, v);
      if (width === 1) this.#scratch.writeUInt8(v, 0);
      else if (width === 2) this.#scratch.writeUInt16LE(v, 0);
      else this.#scratch.writeUInt32LE(v, 0);
    }
    this.#pwrite(offset, width);
  }

  /** Copies `length` bytes out of the region (a bulk copy: the CPU picks the access widths). */
  readBytes(offset: number, length: number): Uint8Array {
    this.check();
    checkSpan('readBytes', this.#where, offset, length, this.size);
    const out = new Uint8Array(length);
    const a = this.#areaFor(offset, length);
    if (a) out.set(a.window.u8.subarray(offset - a.start, offset - a.start + length));
    else if (length > 0) {
      const n = sysPread(this.#fd, out, length, this.info.offset + BigInt(offset), this.label);
      if (n !== length)
        throw new Error(`${this.label}: short read of ${n}/${length} bytes at 0x${offset.toString(16)}`);
    }
    return out;
  }

  /** Copies `data` (a Uint8Array, such as a Buffer) into the region at `offset` (a bulk copy). */
  writeBytes(offset: number, data: Uint8Array): void {
    this.check();
    if (!((data as unknown) instanceof Uint8Array))
      throw new TypeError(
        `writeBytes data ${describeArg(data)} at ${Number.isInteger(offset) ? hex(offset) : describeArg(offset)} in ${this.#where}: expected a Uint8Array (a Buffer is one)`,
      );
    checkSpan('writeBytes', this.#where, offset, data.length, this.size);
    const a = this.#areaFor(offset, data.length);
    if (a) a.window.u8.set(data, offset - a.start);
    else if (data.length > 0) {
      const n = sysPwrite(this.#fd, data, data.length, this.info.offset + BigInt(offset), this.label);
      if (n !== data.length)
        throw new Error(`${this.label}: short write of ${n}/${data.length} bytes at 0x${offset.toString(16)}`);
    }
  }

  protected release(): void {
    this.#whole = undefined;
    closeAll(this.#areas.map((a) => () => a.mapping.close()));
    this.#areas.length = 0;
  }
}
