/**
 * A device region (BAR, ROM, config space): the parts the kernel lets us mmap are mapped, the
 * rest is reached with pread/pwrite on the device fd, behind one set of accessors. Every
 * access has exactly the stated width (see `MmioWindow`), is bounds- and alignment-checked,
 * and names the region when it is refused.
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

  /** @internal Use `device.region(i)` or `device.bar(n)`. */
  constructor(fd: number, info: RegionInfo, label: string, options: RegionOptions = {}) {
    super();
    this.#fd = fd;
    this.info = info;
    this.label = label;
    this.size = Number(info.size);
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

  /** Whether `[offset, offset + length)` lies inside one mapped area. */
  isMapped(offset: number, length = 1): boolean {
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
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.size) {
      throw new RangeError(
        `${op} of ${width} bytes at 0x${Number(offset).toString(16)} is outside ${this.label} (0x${this.size.toString(16)} bytes)`,
      );
    }
    if (offset % width !== 0) {
      throw new RangeError(
        `${op} of ${width} bytes at 0x${offset.toString(16)} in ${this.label} is not ${width}-byte aligned: device registers take aligned accesses only`,
      );
    }
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

  // Fast path: one mapping covers the region and the offset is a small aligned integer in
  // bounds; `#whole` is cleared on close, so a closed region always takes the checked path.
  // Everything else (checks and their errors, sparse areas, pread/pwrite) is in #read/#write.

  read8(offset: number): number {
    const w = this.#whole;
    if (w !== undefined && offset >>> 0 === offset && offset < this.size) return w.read8(offset);
    return this.#read(offset, 1) as number;
  }

  read16(offset: number): number {
    const w = this.#whole;
    if (w !== undefined && offset >>> 0 === offset && (offset & 1) === 0 && offset + 2 <= this.size)
      return w.read16(offset);
    return this.#read(offset, 2) as number;
  }

  read32(offset: number): number {
    const w = this.#whole;
    if (w !== undefined && offset >>> 0 === offset && (offset & 3) === 0 && offset + 4 <= this.size)
      return w.read32(offset);
    return this.#read(offset, 4) as number;
  }

  read64(offset: number): bigint {
    const w = this.#whole;
    if (w !== undefined && offset >>> 0 === offset && (offset & 7) === 0 && offset + 8 <= this.size)
      return w.read64(offset);
    return this.#read(offset, 8) as bigint;
  }

  write8(offset: number, value: number): void {
    const w = this.#whole;
    if (w !== undefined && offset >>> 0 === offset && offset < this.size) return w.write8(offset, value);
    this.#write(offset, 1, value);
  }

  write16(offset: number, value: number): void {
    const w = this.#whole;
    if (w !== undefined && offset >>> 0 === offset && (offset & 1) === 0 && offset + 2 <= this.size)
      return w.write16(offset, value);
    this.#write(offset, 2, value);
  }

  write32(offset: number, value: number): void {
    const w = this.#whole;
    if (w !== undefined && offset >>> 0 === offset && (offset & 3) === 0 && offset + 4 <= this.size)
      return w.write32(offset, value);
    this.#write(offset, 4, value);
  }

  write64(offset: number, value: bigint): void {
    const w = this.#whole;
    if (w !== undefined && offset >>> 0 === offset && (offset & 7) === 0 && offset + 8 <= this.size)
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
  #write(offset: number, width: 1 | 2 | 4 | 8, value: number | bigint): void {
    this.#checkAccess(offset, width, `write${width * 8}`);
    const a = this.#areaFor(offset, width);
    const o = offset - (a?.start ?? 0);
    if (width === 8) {
      if (a) return a.window.write64(o, value as bigint);
      this.#scratch.writeBigUInt64LE(BigInt.asUintN(64, value as bigint), 0);
    } else {
      const v = value as number;
      if (a) return width === 1 ? a.window.write8(o, v) : width === 2 ? a.window.write16(o, v) : a.window.write32(o, v);
      if (width === 1) this.#scratch.writeUInt8(v & 0xff, 0);
      else if (width === 2) this.#scratch.writeUInt16LE(v & 0xffff, 0);
      else this.#scratch.writeUInt32LE(v >>> 0, 0);
    }
    this.#pwrite(offset, width);
  }

  #checkRange(offset: number, length: number, op: string): void {
    this.check();
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.size
    ) {
      throw new RangeError(
        `${op} of ${length} bytes at 0x${Number(offset).toString(16)} is outside ${this.label} (0x${this.size.toString(16)} bytes)`,
      );
    }
  }

  /** Copies `length` bytes out of the region (a bulk copy: the CPU picks the access widths). */
  readBytes(offset: number, length: number): Uint8Array {
    this.#checkRange(offset, length, 'readBytes');
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

  /** Copies `data` into the region at `offset` (a bulk copy). */
  writeBytes(offset: number, data: Uint8Array): void {
    this.#checkRange(offset, data.length, 'writeBytes');
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
