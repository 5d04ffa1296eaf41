/**
 * The client's memory as a served device reaches it: the windows of `VFIO_USER_DMA_MAP`, each
 * mapped once from the descriptor the client sent, and reads and writes by DMA address. A
 * window shared without a descriptor is recorded but cannot be reached (the model is told why).
 */
import { constants } from 'node:os';
import {
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  VFIO_USER_DMA_MAP_FLAG_READ,
  VFIO_USER_DMA_MAP_FLAG_WRITE,
  VfioError,
  VfioErrorCode,
} from '../../../structs/index.js';
import { Mapping, closeAll, hex, sysClose } from '../../sys/index.js';
import type { DmaMapRequest, DmaUnmapRequest } from '../payloads.js';
import type { ModelDma } from './model.js';
import type { Refusal } from './served-irqs.js';

interface Window {
  addr: bigint;
  size: bigint;
  flags: number;
  mapping?: Mapping;
}

export class ServedDma implements ModelDma {
  readonly #windows: Window[] = [];
  readonly #name: string;
  readonly #maxWindows: number;

  /** `name` names the model in errors; `maxWindows` is what it told the client it can hold. */
  constructor(name: string, maxWindows: number) {
    this.#name = name;
    this.#maxWindows = maxWindows;
  }

  /**
   * Adds a window; takes ownership of `fds`: none, or the one descriptor of the memory (the
   * session refuses a map with more before it gets here).
   */
  map(m: DmaMapRequest, fds: number[]): Refusal | undefined {
    const fd = fds[0];
    try {
      const end = m.addr + m.size;
      if (this.#windows.some((w) => m.addr < w.addr + w.size && w.addr < end))
        return { errno: constants.errno.EEXIST, why: `DMA ${hex(m.addr)}+${hex(m.size)} overlaps a mapped window` };
      if (this.#windows.length >= this.#maxWindows)
        return { errno: constants.errno.ENOSPC, why: `more than ${this.#maxWindows} DMA windows` };
      const window: Window = { addr: m.addr, size: m.size, flags: m.flags };
      if (fd !== undefined) {
        if (m.size > BigInt(Number.MAX_SAFE_INTEGER))
          return { errno: constants.errno.EINVAL, why: 'a window too large' };
        const prot =
          (m.flags & VFIO_USER_DMA_MAP_FLAG_READ ? PROT_READ : 0) |
          (m.flags & VFIO_USER_DMA_MAP_FLAG_WRITE ? PROT_WRITE : 0);
        window.mapping = new Mapping({
          length: m.size,
          prot,
          flags: MAP_SHARED,
          fd,
          offset: m.offset,
          target: `the client's DMA memory at ${hex(m.addr)}`,
        });
      }
      this.#windows.push(window);
      return undefined;
    } catch (e) {
      return { errno: (e as { errno?: number }).errno ?? constants.errno.EINVAL, why: (e as Error).message };
    } finally {
      // The mapping keeps the memory; the descriptor itself is not needed after mmap.
      closeAll(fds.map((d) => () => sysClose(d, 'a DMA descriptor from the client')));
    }
  }

  /** Removes the window that is exactly `m.addr`/`m.size`. */
  unmap(m: DmaUnmapRequest): Refusal | undefined {
    const i = this.#windows.findIndex((w) => w.addr === m.addr && w.size === m.size);
    if (i < 0) return { errno: constants.errno.ENOENT, why: `no DMA window is ${hex(m.addr)}+${hex(m.size)}` };
    const [w] = this.#windows.splice(i, 1);
    w.mapping?.close();
    return undefined;
  }

  /** Unmaps every window: the client went away. */
  unmapAll(): void {
    const windows = this.#windows.splice(0);
    closeAll(windows.map((w) => () => w.mapping?.close()));
  }

  read(address: bigint, length: number): Uint8Array {
    const { bytes, at } = this.#reach(address, length, VFIO_USER_DMA_MAP_FLAG_READ, 'read');
    return bytes.slice(at, at + length);
  }

  write(address: bigint, data: Uint8Array): void {
    const { bytes, at } = this.#reach(address, data.length, VFIO_USER_DMA_MAP_FLAG_WRITE, 'write');
    bytes.set(data, at);
  }

  #reach(address: bigint, length: number, flag: number, what: string): { bytes: Uint8Array; at: number } {
    const end = address + BigInt(length);
    const w = this.#windows.find((x) => address >= x.addr && end <= x.addr + x.size);
    const span = `${length} bytes at DMA address ${hex(address)}`;
    if (!w)
      throw new VfioError(
        VfioErrorCode.OUT_OF_RANGE,
        `${this.#name} cannot ${what} ${span}: no window the client mapped holds them (a device would fault here)`,
      );
    if (!(w.flags & flag))
      throw new VfioError(
        VfioErrorCode.PERMISSION,
        `${this.#name} cannot ${what} ${span}: the client mapped it without ${what} access`,
      );
    if (!w.mapping)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.#name} cannot ${what} ${span}: the client shared that memory without a descriptor; give it shared memory (QEMU: a memory-backend-memfd with share=on)`,
      );
    return { bytes: w.mapping.u8, at: Number(address - w.addr) };
  }
}
