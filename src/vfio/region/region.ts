/**
 * A device region (BAR, ROM, config space): the parts the device offers for mmap are mapped,
 * the rest is reached through the device's channel (channel.ts; the kernel's is pread/pwrite
 * on the device fd), behind one set of accessors. The channel is asked when mapping and on
 * the checked path only, never on a fast path. Every access has exactly the stated width (see
 * `MmioWindow`), is bounds- and alignment-checked, and names the region when it is refused.
 * Offsets and lengths are numbers; 8/16/32-bit values are numbers and 64-bit values bigints,
 * and a value that does not fit its width is refused, never truncated (src/sys/args.ts).
 *
 * Here: the accessors with their fast paths. The mapped areas are in region-areas.ts; the
 * checked path (argument checks, sparse areas, pread/pwrite) in region-slow-path.ts, shared by
 * the widths through their facts in region-widths.ts.
 */
import {
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  type RegionInfo,
} from '../../../structs/index.js';
import { MmioWindow, Resource, checkInteger } from '../../sys/index.js';
import { areaFor, mapAreas, unmapAreas, wholeWindow, type MappedArea } from './areas.js';
import { RegionSlowPath } from './slow-path.js';
import type { RegionChannel } from './channel.js';
import { W16, W32, W64, W8, type Width } from './widths.js';
import { hex } from '../../sys/index.js';

/** How `device.region(i)` and `device.bar(n)` open a region. */
export interface RegionOptions {
  /** Map the mmap-able parts (default true). With false every access is a pread/pwrite. */
  mmap?: boolean;
  /** Byte ranges `[start, end)` not to map (rounded out to pages); reached through pread/pwrite. */
  exclude?: Array<{ start: number; end: number }>;
  /**
   * An I/O-port BAR (`device.bar(n)` sets it from config space): port I/O has no 8-byte access
   * (the kernel would make it two 4-byte ones), so `read64`/`write64` are refused.
   */
  portIo?: boolean;
}

/**
 * A device region (BAR, ROM, config space) from `device.bar(n)` or `device.region(i)`: accesses of
 * exactly 1, 2, 4 or 8 bytes through its mmapped parts, or pread/pwrite elsewhere. Offsets are
 * byte offsets that must be aligned to the access width; a value that does not fit is refused.
 */
export class Region extends Resource {
  /** The region's info as the kernel gave it (`VFIO_DEVICE_GET_REGION_INFO`). */
  readonly info: RegionInfo;
  /** Size in bytes. */
  readonly size: number;
  /** The region for messages: `BAR0 of 0000:00:03.0`. */
  readonly name: string;
  readonly #areas: MappedArea[];
  /**
   * Set when one mapping covers the whole region and the region allows the direction: the fast
   * paths. A read-only region's mapping is PROT_READ, so a store through it would kill the process.
   */
  #wholeRead: MmioWindow | undefined;
  #wholeWrite: MmioWindow | undefined;
  readonly #slow: RegionSlowPath;
  /** The region with its size, for argument errors: `BAR0 of 0000:00:03.0 (0x100000 bytes)`. */
  readonly #where: string;

  /** @internal Use `device.region(i)` or `device.bar(n)`. `channel` is how the region reaches its device. */
  constructor(channel: RegionChannel, info: RegionInfo, name: string, options: RegionOptions = {}) {
    super();
    this.info = info;
    this.name = name;
    this.size = Number(info.size);
    this.#where = `${name} (${hex(this.size)} bytes)`;
    const mmap = options.mmap !== false && (info.flags & VFIO_REGION_INFO_FLAG_MMAP) !== 0;
    this.#areas = mmap ? mapAreas(channel, info, name, options.exclude ?? []) : [];
    const whole = wholeWindow(this.#areas, this.size);
    this.#wholeRead = this.readable ? whole : undefined;
    this.#wholeWrite = this.writable ? whole : undefined;
    const access = { readable: this.readable, writable: this.writable, portIo: options.portIo === true };
    this.#slow = new RegionSlowPath(channel, info, this.size, name, this.#where, this.#areas, access);
  }

  protected override describe(): string {
    const mapped = this.#areas.map((a) => `${hex(a.start)}-${hex(a.end)}`);
    return `${hex(this.size)} bytes, ${mapped.length ? `mapped ${mapped.join(', ')}` : 'not mapped (pread/pwrite)'}`;
  }

  /** Whether the kernel lets the region be read (`VFIO_REGION_INFO_FLAG_READ`). */
  get readable(): boolean {
    return (this.info.flags & VFIO_REGION_INFO_FLAG_READ) !== 0;
  }

  /** Whether the kernel lets the region be written (`VFIO_REGION_INFO_FLAG_WRITE`). */
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
    return areaFor(this.#areas, offset, length) !== undefined;
  }

  // Fast path: one mapping covers the region, the offset is a small aligned integer in bounds
  // and a written value fits the width; `#wholeRead`/`#wholeWrite` are cleared on close, so a closed region always
  // takes the checked path. The typeof tests keep `>>>` from throwing on a bigint; the JIT
  // folds them for the number it sees. For write64, asUintN is the cheapest range test measured
  // (two bigint comparisons cost several ns more). Everything else (checks and their errors,
  // sparse areas, pread/pwrite) is in #read/#write.
  // The eight are written out per width on purpose: each is a small method with its width's
  // constants and one monomorphic MmioWindow call, which TurboFan inlines whole into the
  // caller's loop; a shared helper taking the width would put a polymorphic call on every access.

  /** Reads the byte at `offset`. */
  read8(offset: number): number {
    const w = this.#wholeRead;
    if (w !== undefined && typeof offset === 'number' && offset >>> 0 === offset && offset < this.size)
      return w.read8(offset);
    return this.#read(offset, W8);
  }

  /** Reads 16 bits, little-endian, at `offset` (a multiple of 2). */
  read16(offset: number): number {
    const w = this.#wholeRead;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 1) === 0 &&
      offset + 2 <= this.size
    )
      return w.read16(offset);
    return this.#read(offset, W16);
  }

  /** Reads 32 bits, little-endian, at `offset` (a multiple of 4), as an unsigned number. */
  read32(offset: number): number {
    const w = this.#wholeRead;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 3) === 0 &&
      offset + 4 <= this.size
    )
      return w.read32(offset);
    return this.#read(offset, W32);
  }

  /** Reads 64 bits, little-endian, at `offset` (a multiple of 8), as a bigint; refused on port I/O. */
  read64(offset: number): bigint {
    const w = this.#wholeRead;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      (offset & 7) === 0 &&
      offset + 8 <= this.size
    )
      return w.read64(offset);
    return this.#read(offset, W64);
  }

  /** Writes the byte `value` (0 to 0xff) at `offset`. */
  write8(offset: number, value: number): void {
    const w = this.#wholeWrite;
    if (
      w !== undefined &&
      typeof offset === 'number' &&
      offset >>> 0 === offset &&
      offset < this.size &&
      typeof value === 'number' &&
      (value & 0xff) === value
    )
      return w.write8(offset, value);
    this.#write(offset, W8, value);
  }

  /** Writes 16 bits (0 to 0xffff), little-endian, at `offset` (a multiple of 2). */
  write16(offset: number, value: number): void {
    const w = this.#wholeWrite;
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
    this.#write(offset, W16, value);
  }

  /** Writes 32 bits (0 to 0xffffffff), little-endian, at `offset` (a multiple of 4). */
  write32(offset: number, value: number): void {
    const w = this.#wholeWrite;
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
    this.#write(offset, W32, value);
  }

  /** Writes 64 bits (a bigint below 2^64), little-endian, at `offset` (a multiple of 8); refused on port I/O. */
  write64(offset: number, value: bigint): void {
    const w = this.#wholeWrite;
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
    this.#write(offset, W64, value);
  }

  /** The checked read (region-slow-path.ts), after the use-after-close check. */
  #read<V extends number | bigint>(offset: number, width: Width<V>): V {
    this.check();
    return this.#slow.read(offset, width);
  }

  /** The checked write (region-slow-path.ts), after the use-after-close check. */
  #write<V extends number | bigint>(offset: number, width: Width<V>, value: unknown): void {
    this.check();
    this.#slow.write(offset, width, value);
  }

  /** Copies `length` bytes out of the region (a bulk copy: the CPU picks the access widths). */
  readBytes(offset: number, length: number): Uint8Array {
    this.check();
    return this.#slow.readBytes(offset, length);
  }

  /** Copies `data` (a Uint8Array, such as a Buffer) into the region at `offset` (a bulk copy). */
  writeBytes(offset: number, data: Uint8Array): void {
    this.check();
    this.#slow.writeBytes(offset, data);
  }

  protected release(): void {
    this.#wholeRead = undefined;
    this.#wholeWrite = undefined;
    unmapAreas(this.#areas);
  }
}
