/**
 * A device region (BAR, ROM, config space): the parts the kernel lets us mmap are mapped, the
 * rest is reached with pread/pwrite on the device fd, behind one set of accessors. Every
 * access has exactly the stated width (see `MmioWindow`), is bounds- and alignment-checked,
 * and names the region when it is refused.
 */
import { MAP_SHARED, PROT_READ, PROT_WRITE, VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE, type RegionInfo } from '../../structs/index.js';
import { Mapping, MmioWindow, pageSize, sysPread, sysPwrite } from '../sys/index.js';
import { Resource, closeAll } from './resource.js';

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
export function subtractRanges(areas: Array<{ start: number; end: number }>, exclude: Array<{ start: number; end: number }>, page: number): Array<{ start: number; end: number }> {
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
    const offered = (this.info.sparseMmap ?? [{ offset: 0n, size: this.info.size }]).map((a) => ({ start: Number(a.offset), end: Number(a.offset + a.size) }));
    try {
      for (const { start, end } of subtractRanges(offered, exclude, page)) {
        const len = end - start;
        if (start % page !== 0) continue; // the kernel only offers page-aligned areas; skip anything else
        const mapping = new Mapping({
          length: len, prot, flags: MAP_SHARED, fd: this.#fd, offset: this.info.offset + BigInt(start),
          target: `${this.label} [0x${start.toString(16)}, 0x${(start + len).toString(16)})`,
        });
        this.#areas.push({ start, end: start + len, mapping, window: new MmioWindow(mapping.buffer) });
      }
    } catch (e) {
      closeAll(this.#areas.map((a) => () => a.mapping.close()));
      this.#areas.length = 0;
      throw e;
    }
    if (this.#areas.length === 1 && this.#areas[0].start === 0 && this.#areas[0].end >= this.size) this.#whole = this.#areas[0].window;
  }

  #areaFor(offset: number, width: number): MappedArea | undefined {
    for (const a of this.#areas) if (offset >= a.start && offset + width <= a.end) return a;
    return undefined;
  }

  #checkAccess(offset: number, width: number, op: string): void {
    this.check();
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.size) {
      throw new RangeError(`${op} of ${width} bytes at 0x${Number(offset).toString(16)} is outside ${this.label} (0x${this.size.toString(16)} bytes)`);
    }
    if (offset % width !== 0) {
      throw new RangeError(`${op} of ${width} bytes at 0x${offset.toString(16)} in ${this.label} is not ${width}-byte aligned: device registers take aligned accesses only`);
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

  read8(offset: number): number {
    this.#checkAccess(offset, 1, 'read8');
    if (this.#whole) return this.#whole.read8(offset);
    const a = this.#areaFor(offset, 1);
    if (a) return a.window.read8(offset - a.start);
    return this.#pread(offset, 1).readUInt8(0);
  }

  read16(offset: number): number {
    this.#checkAccess(offset, 2, 'read16');
    if (this.#whole) return this.#whole.read16(offset);
    const a = this.#areaFor(offset, 2);
    if (a) return a.window.read16(offset - a.start);
    return this.#pread(offset, 2).readUInt16LE(0);
  }

  read32(offset: number): number {
    this.#checkAccess(offset, 4, 'read32');
    if (this.#whole) return this.#whole.read32(offset);
    const a = this.#areaFor(offset, 4);
    if (a) return a.window.read32(offset - a.start);
    return this.#pread(offset, 4).readUInt32LE(0);
  }

  read64(offset: number): bigint {
    this.#checkAccess(offset, 8, 'read64');
    if (this.#whole) return this.#whole.read64(offset);
    const a = this.#areaFor(offset, 8);
    if (a) return a.window.read64(offset - a.start);
    return this.#pread(offset, 8).readBigUInt64LE(0);
  }

  write8(offset: number, value: number): void {
    this.#checkAccess(offset, 1, 'write8');
    if (this.#whole) return this.#whole.write8(offset, value);
    const a = this.#areaFor(offset, 1);
    if (a) return a.window.write8(offset - a.start, value);
    this.#scratch.writeUInt8(value & 0xff, 0);
    this.#pwrite(offset, 1);
  }

  write16(offset: number, value: number): void {
    this.#checkAccess(offset, 2, 'write16');
    if (this.#whole) return this.#whole.write16(offset, value);
    const a = this.#areaFor(offset, 2);
    if (a) return a.window.write16(offset - a.start, value);
    this.#scratch.writeUInt16LE(value & 0xffff, 0);
    this.#pwrite(offset, 2);
  }

  write32(offset: number, value: number): void {
    this.#checkAccess(offset, 4, 'write32');
    if (this.#whole) return this.#whole.write32(offset, value);
    const a = this.#areaFor(offset, 4);
    if (a) return a.window.write32(offset - a.start, value);
    this.#scratch.writeUInt32LE(value >>> 0, 0);
    this.#pwrite(offset, 4);
  }

  write64(offset: number, value: bigint): void {
    this.#checkAccess(offset, 8, 'write64');
    if (this.#whole) return this.#whole.write64(offset, value);
    const a = this.#areaFor(offset, 8);
    if (a) return a.window.write64(offset - a.start, value);
    this.#scratch.writeBigUInt64LE(BigInt.asUintN(64, value), 0);
    this.#pwrite(offset, 8);
  }

  #checkRange(offset: number, length: number, op: string): void {
    this.check();
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${op} of ${length} bytes at 0x${Number(offset).toString(16)} is outside ${this.label} (0x${this.size.toString(16)} bytes)`);
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
      if (n !== length) throw new Error(`${this.label}: short read of ${n}/${length} bytes at 0x${offset.toString(16)}`);
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
      if (n !== data.length) throw new Error(`${this.label}: short write of ${n}/${data.length} bytes at 0x${offset.toString(16)}`);
    }
  }

  protected release(): void {
    this.#whole = undefined;
    closeAll(this.#areas.map((a) => () => a.mapping.close()));
    this.#areas.length = 0;
  }
}
