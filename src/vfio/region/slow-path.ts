/**
 * A region's checked path: where its accessors go when their fast path (region.ts) declines,
 * and where its bulk copies go. The offset and the value are checked, with messages that name
 * the access and the region (src/sys/args.ts); then the access is one of its width through the
 * mapped area that holds it, or else a read or write through the device's channel (the
 * kernel's: pread/pwrite on the device fd), whole or an error. The caller checks for use after
 * close first.
 */
import { checkAccess, checkSpan, describeArg, hex } from '../../sys/index.js';
import { areaFor, type MappedArea } from './areas.js';
import type { Width } from './widths.js';
import type { RegionChannel } from './channel.js';
import { SysError, VfioError, VfioErrorCode, VfioTypeError, type RegionInfo } from '../../../structs/index.js';

export class RegionSlowPath {
  readonly #channel: RegionChannel;
  readonly #info: RegionInfo;
  readonly #size: number;
  /** The region in pread/pwrite errors: `BAR0 of 0000:00:03.0`. */
  readonly #name: string;
  /** The region in argument errors: `BAR0 of 0000:00:03.0 (0x100000 bytes)`. */
  readonly #where: string;
  /** The region's mapped areas (the region's own list: empty once it is closed). */
  readonly #areas: readonly MappedArea[];
  readonly #scratch = Buffer.alloc(8);
  /** What the kernel lets us do with the region (VFIO_REGION_INFO_FLAG_READ/WRITE). */
  readonly #access: RegionAccess;

  constructor(
    channel: RegionChannel,
    info: RegionInfo,
    size: number,
    name: string,
    where: string,
    areas: readonly MappedArea[],
    access: RegionAccess,
  ) {
    this.#channel = channel;
    this.#access = access;
    this.#info = info;
    this.#size = size;
    this.#name = name;
    this.#where = where;
    this.#areas = areas;
  }

  /** The checked read of `width.bytes` bytes at `offset`. */
  read<V extends number | bigint>(offset: number, width: Width<V>): V {
    this.#mayRead(width.read);
    this.#takesWidth(width.read, width.bytes);
    checkAccess(width.read, this.#where, offset, width.bytes, this.#size, true);
    const a = areaFor(this.#areas, offset, width.bytes);
    if (a) return width.load(a.window, offset - a.start);
    this.#pread(this.#scratch, width.bytes, offset);
    return width.decode(this.#scratch);
  }

  /** The checked write of `value` in `width.bytes` bytes at `offset`. */
  write<V extends number | bigint>(offset: number, width: Width<V>, value: unknown): void {
    this.#mayWrite(width.write);
    this.#takesWidth(width.write, width.bytes);
    checkAccess(width.write, this.#where, offset, width.bytes, this.#size, true);
    const v = width.check(this.#where, offset, value);
    const a = areaFor(this.#areas, offset, width.bytes);
    if (a) return width.store(a.window, offset - a.start, v);
    width.encode(this.#scratch, v);
    this.#pwrite(this.#scratch, width.bytes, offset);
  }

  /** Copies `length` bytes out of the region. */
  readBytes(offset: number, length: number): Uint8Array {
    this.#mayRead('readBytes');
    checkSpan('readBytes', this.#where, offset, length, this.#size);
    const out = new Uint8Array(length);
    const a = areaFor(this.#areas, offset, length);
    if (a) out.set(a.window.u8.subarray(offset - a.start, offset - a.start + length));
    else if (length > 0) this.#pread(out, length, offset);
    return out;
  }

  /** Copies `data` into the region at `offset`. */
  writeBytes(offset: number, data: Uint8Array): void {
    if (!((data as unknown) instanceof Uint8Array))
      throw new VfioTypeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `writeBytes data ${describeArg(data)} at ${Number.isInteger(offset) ? hex(offset) : describeArg(offset)} in ${this.#where}: expected a Uint8Array (a Buffer is one)`,
      );
    this.#mayWrite('writeBytes');
    checkSpan('writeBytes', this.#where, offset, data.length, this.#size);
    const a = areaFor(this.#areas, offset, data.length);
    if (a) a.window.u8.set(data, offset - a.start);
    else if (data.length > 0) this.#pwrite(data, data.length, offset);
  }

  #mayRead(method: string): void {
    if (!this.#access.readable)
      throw new VfioError(
        VfioErrorCode.WRITE_ONLY,
        `${method} of ${this.#where}: the kernel reports this region as not readable (no VFIO_REGION_INFO_FLAG_READ); only writes reach it`,
      );
  }

  #takesWidth(method: string, bytes: number): void {
    if (bytes === 8 && this.#access.portIo)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${method} of ${this.#where}: an I/O-port BAR takes 1-, 2- and 4-byte accesses only (port I/O has no 8-byte access; the kernel would split it in two): use two 4-byte accesses`,
      );
  }

  #mayWrite(method: string): void {
    if (!this.#access.writable)
      throw new VfioError(
        VfioErrorCode.READ_ONLY,
        `${method} of ${this.#where}: the kernel reports this region as read-only (no VFIO_REGION_INFO_FLAG_WRITE); nothing was written`,
      );
  }

  #pread(into: Uint8Array, length: number, offset: number): void {
    const n = this.#refusedWidth(length, offset, () =>
      this.#channel.readRegion(this.#info, offset, into, length, this.#name),
    );
    if (n !== length)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.#name}: short read of ${n}/${length} bytes at ${hex(offset)}`,
      );
  }

  #pwrite(from: Uint8Array, length: number, offset: number): void {
    const n = this.#refusedWidth(length, offset, () =>
      this.#channel.writeRegion(this.#info, offset, from, length, this.#name),
    );
    if (n !== length)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.#name}: short write of ${n}/${length} bytes at ${hex(offset)}`,
      );
  }

  /** Runs a read or write; EINVAL there means the region does not take that access. */
  #refusedWidth(length: number, offset: number, call: () => number): number {
    try {
      return call();
    } catch (e) {
      if (!(e instanceof SysError && e.errnoName === 'EINVAL')) throw e;
      throw e.withHint(
        `${this.#name} does not take a ${length}-byte access at ${hex(offset)} (the kernel refused it): use another width (most registers take 4-byte accesses) or check the device's documentation`,
        { code: VfioErrorCode.UNSUPPORTED },
      );
    }
  }
}

/** Which directions a region allows. */
export interface RegionAccess {
  readable: boolean;
  writable: boolean;
  /** An I/O-port BAR: no 8-byte accesses. */
  portIo: boolean;
}
