/**
 * PCI configuration space over any accessor (VFIO's config region, a file, a test buffer):
 * 8/16/32-bit reads and writes, the command register, capability walks and BAR decoding.
 */
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_IO_MASK,
  PCI_BASE_ADDRESS_MEM_MASK,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CAPABILITY_LIST,
  PCI_CAP_LIST_NEXT,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_COMMAND,
  PCI_DEVICE_ID,
  PCI_EXT_CAP_ID,
  PCI_EXT_CAP_NEXT,
  PCI_EXT_CAP_VER,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MASK,
  PCI_HEADER_TYPE_NORMAL,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_VENDOR_ID,
  VfioError,
  VfioErrorCode,
} from '../../structs/index.js';
import { checkAccess, checkValue } from '../sys/index.js';
import { hex } from '../sys/index.js';

/** Raw config-space access of 1, 2 or 4 bytes, little-endian. */
export interface ConfigAccessor {
  /** Bytes of config space (256, or 4096 for PCIe). */
  readonly size: number;
  /** What the space is, for messages (`config of 0000:00:03.0`); default `the N-byte config space`. */
  readonly name?: string;
  /** Reads `width` bytes at `offset`; `ConfigSpace` has checked that they lie inside and are aligned. */
  read(offset: number, width: 1 | 2 | 4): number;
  /** Writes `value` in `width` bytes at `offset`; `ConfigSpace` has checked the offset and that the value fits. */
  write(offset: number, width: 1 | 2 | 4, value: number): void;
}

/** A capability found by walking a list: its id and its offset in config space. */
export interface PciCapability {
  id: number;
  offset: number;
  /** Only for extended capabilities. */
  version?: number;
}

/** A decoded base address register. */
export interface PciBar {
  index: number;
  io: boolean;
  is64: boolean;
  prefetchable: boolean;
  /** Bus address the BAR holds (as programmed by the host; informational under VFIO). */
  address: bigint;
}

/**
 * PCI configuration space over a `ConfigAccessor` (`device.config` reaches it through the VFIO
 * config region): checked 8/16/32-bit accesses, the command register, capability lists and BARs.
 */
export class ConfigSpace {
  readonly #access: ConfigAccessor;

  /** Config space read and written through `access`. */
  constructor(access: ConfigAccessor) {
    this.#access = access;
  }

  /** Bytes of config space, as the accessor has them (256, or 4096 for PCIe). */
  get size(): number {
    return this.#access.size;
  }

  /** The space for messages: `config of 0000:00:03.0 (0x100 bytes)`, or `the 256-byte config space`. */
  get #where(): string {
    const { name, size } = this.#access;
    return (this.#whereText ??= name ? `${name} (${hex(size)} bytes)` : `the ${size}-byte config space`);
  }
  #whereText: string | undefined;

  // Offsets and values are checked here (src/sys/args.ts): a value wider than the access is
  // refused, not truncated. Config space is not a hot path.

  /** Reads the byte at `offset`. */
  read8(offset: number): number {
    checkAccess('read8', this.#where, offset, 1, this.#access.size, true);
    return this.#access.read(offset, 1);
  }
  /** Reads 16 bits at `offset` (a multiple of 2). */
  read16(offset: number): number {
    checkAccess('read16', this.#where, offset, 2, this.#access.size, true);
    return this.#access.read(offset, 2);
  }
  /** Reads 32 bits at `offset` (a multiple of 4), as an unsigned number. */
  read32(offset: number): number {
    checkAccess('read32', this.#where, offset, 4, this.#access.size, true);
    return this.#access.read(offset, 4);
  }
  /** Writes the byte `value` (0 to 0xff) at `offset`. */
  write8(offset: number, value: number): void {
    checkAccess('write8', this.#where, offset, 1, this.#access.size, true);
    this.#access.write(offset, 1, checkValue('write8', this.#where, offset, value, 1));
  }
  /** Writes 16 bits (0 to 0xffff) at `offset` (a multiple of 2). */
  write16(offset: number, value: number): void {
    checkAccess('write16', this.#where, offset, 2, this.#access.size, true);
    this.#access.write(offset, 2, checkValue('write16', this.#where, offset, value, 2));
  }
  /** Writes 32 bits (0 to 0xffffffff) at `offset` (a multiple of 4). */
  write32(offset: number, value: number): void {
    checkAccess('write32', this.#where, offset, 4, this.#access.size, true);
    this.#access.write(offset, 4, checkValue('write32', this.#where, offset, value, 4));
  }

  // Register reads are methods, not getters: each one reads config space (a pread through VFIO).

  /** The vendor ID register (0x00). */
  vendorId(): number {
    return this.read16(PCI_VENDOR_ID);
  }
  /** The device ID register (0x02). */
  deviceId(): number {
    return this.read16(PCI_DEVICE_ID);
  }
  /** The status register (0x06). */
  status(): number {
    return this.read16(PCI_STATUS);
  }

  /** The command register (0x04). */
  command(): number {
    return this.read16(PCI_COMMAND);
  }
  /** Writes the command register. */
  setCommand(value: number): void {
    this.#access.write(PCI_COMMAND, 2, checkValue('setCommand', this.#where, PCI_COMMAND, value, 2));
  }

  /** Sets (`true`) or clears bits of the command register with one read and one write. */
  setCommandBits(bits: number, on: boolean): void {
    checkValue('setCommandBits', this.#where, PCI_COMMAND, bits, 2);
    const cmd = this.command();
    const next = on ? cmd | bits : cmd & ~bits;
    if (next !== cmd) this.setCommand(next);
  }

  /** The standard capability list (offsets 0x40-0xff), in list order. */
  capabilities(): PciCapability[] {
    const out: PciCapability[] = [];
    if ((this.status() & PCI_STATUS_CAP_LIST) === 0) return out;
    const seen = new Set<number>();
    let offset = this.read8(PCI_CAPABILITY_LIST) & ~3;
    // 48 = (256 - 64) / 4 possible positions: a longer walk is a loop.
    while (offset !== 0 && out.length < 48) {
      if (offset < 0x40 || offset > PCI_CFG_SPACE_SIZE - 2 || seen.has(offset)) {
        throw new VfioError(
          VfioErrorCode.MALFORMED,
          `config space: capability list is broken at offset ${hex(offset)} (out of range or a loop)`,
        );
      }
      seen.add(offset);
      out.push({ id: this.read8(offset), offset });
      offset = this.read8(offset + PCI_CAP_LIST_NEXT) & ~3;
    }
    return out;
  }

  /** The PCIe extended capability list (offsets 0x100 and up); empty on conventional PCI. */
  extendedCapabilities(): PciCapability[] {
    const out: PciCapability[] = [];
    if (this.#access.size < PCI_CFG_SPACE_EXP_SIZE) return out;
    let offset = PCI_CFG_SPACE_SIZE;
    const seen = new Set<number>();
    while (offset !== 0 && out.length < (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 4) {
      if (offset < PCI_CFG_SPACE_SIZE || offset > PCI_CFG_SPACE_EXP_SIZE - 4 || seen.has(offset)) {
        throw new VfioError(
          VfioErrorCode.MALFORMED,
          `config space: extended capability list is broken at offset ${hex(offset)} (out of range or a loop)`,
        );
      }
      seen.add(offset);
      const header = this.read32(offset);
      if (header === 0 || header === 0xffffffff) break; // no extended capabilities
      out.push({ id: PCI_EXT_CAP_ID(header), version: PCI_EXT_CAP_VER(header), offset });
      offset = PCI_EXT_CAP_NEXT(header);
    }
    return out;
  }

  /** Offset of the first standard capability with `id`, or undefined. */
  findCapability(id: number): number | undefined {
    return this.capabilities().find((c) => c.id === id)?.offset;
  }

  /** Offset of the first extended capability with `id`, or undefined. */
  findExtendedCapability(id: number): number | undefined {
    return this.extendedCapabilities().find((c) => c.id === id)?.offset;
  }

  /** The six BARs of a type 0 header, decoded (the upper half of a 64-bit BAR is folded in). */
  bars(): PciBar[] {
    if ((this.read8(PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK) !== PCI_HEADER_TYPE_NORMAL) return [];
    const out: PciBar[] = [];
    for (let i = 0; i < 6; i++) {
      const lo = this.read32(PCI_BASE_ADDRESS_0 + 4 * i);
      if ((lo & PCI_BASE_ADDRESS_SPACE_IO) !== 0) {
        out.push({
          index: i,
          io: true,
          is64: false,
          prefetchable: false,
          address: BigInt((lo & PCI_BASE_ADDRESS_IO_MASK) >>> 0),
        });
        continue;
      }
      const is64 = (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64;
      let address = BigInt((lo & PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
      if (is64 && i < 5) address |= BigInt(this.read32(PCI_BASE_ADDRESS_0 + 4 * (i + 1))) << 32n;
      out.push({ index: i, io: false, is64, prefetchable: (lo & PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0, address });
      if (is64) i++;
    }
    return out;
  }
}
