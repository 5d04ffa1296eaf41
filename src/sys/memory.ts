/**
 * Memory mappings (`mmap`) as owned objects, and typed views over raw memory without copies.
 */
import { koffi, VfioErrorCode, VfioRangeError } from '../../structs/index.js';
import { MAP_FAILED_ADDRESS, sysMmap, sysMunmap } from './calls.js';
import { Resource } from './resource.js';

export { MAP_FAILED_ADDRESS };

/** Arguments of `mmap`. */
export interface MmapOptions {
  length: number | bigint;
  prot: number;
  flags: number;
  fd?: number;
  offset?: number | bigint;
  /** What is being mapped, for error messages (`BAR0 of 0000:00:03.0`). */
  target?: string;
  /** Hint used when the mapping fails. */
  hint?: string;
}

/**
 * A region of the address space from `mmap`, unmapped on `close()`. Views are created on demand
 * and must not be used after close (the memory is gone; reads would fault).
 */
export class Mapping extends Resource {
  readonly address: bigint;
  readonly length: number;
  readonly target: string;
  #buffer: ArrayBuffer | undefined;

  constructor(opts: MmapOptions) {
    super();
    const length = Number(opts.length);
    if (!Number.isSafeInteger(length) || length <= 0)
      throw new VfioRangeError(
        VfioErrorCode.OUT_OF_RANGE,
        `mmap of ${opts.target ?? 'memory'}: length must be a positive integer, got ${opts.length}`,
      );
    const addr = sysMmap(
      length,
      opts.prot,
      opts.flags,
      opts.fd ?? -1,
      BigInt(opts.offset ?? 0),
      opts.target,
      opts.hint,
    );
    this.address = addr;
    this.length = length;
    this.target = opts.target ?? 'anonymous memory';
  }

  get name(): string {
    return `mapping of ${this.target}`;
  }

  /** The whole mapping as an ArrayBuffer (no copy). */
  get buffer(): ArrayBuffer {
    this.check();
    this.#buffer ??= koffi.view(this.address, this.length);
    return this.#buffer;
  }

  /** The mapping as bytes (no copy). */
  get u8(): Uint8Array {
    return new Uint8Array(this.buffer);
  }

  /** The mapping as 32-bit words (no copy); the length is rounded down to whole words. */
  get u32(): Uint32Array {
    return new Uint32Array(this.buffer, 0, this.length >>> 2);
  }

  /** The mapping as 64-bit words (no copy); the length is rounded down to whole words. */
  get u64(): BigUint64Array {
    return new BigUint64Array(this.buffer, 0, Math.floor(this.length / 8));
  }

  protected release(): void {
    this.#buffer = undefined;
    sysMunmap(this.address, this.length, this.target);
  }
}

/** A typed view of `length` bytes at a raw address (no copy); `length` must fit in memory. */
export function rawView(address: bigint, length: number): ArrayBuffer {
  return koffi.view(address, length);
}

/**
 * The address of a JavaScript buffer's bytes, for structures that carry a user pointer
 * (`allowed_iovas` of iommufd). Valid while the buffer is alive; ArrayBuffer memory does not move.
 */
export function bufferAddress(buf: Uint8Array): bigint {
  return koffi.address(buf);
}
