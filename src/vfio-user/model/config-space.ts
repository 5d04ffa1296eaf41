/**
 * The config space of a modelled PCI device: laid out from the model's identity, BARs,
 * interrupt pin and capabilities (power management, MSI, MSI-X, PCI Express), and emulated
 * as hardware does it: each byte has a mask of the bits software may write, the rest read as
 * built. So BAR sizing (write all ones, read back the size mask), the command register and the
 * capabilities' enable bits behave as a driver expects, and a reset restores every byte.
 */
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CACHE_LINE_SIZE,
  PCI_CAPABILITY_LIST,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_MSIX_SIZEOF,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR,
  PCI_DEVICE_ID,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCTL,
  PCI_EXP_FLAGS,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_LATENCY_TIMER,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_PBA,
  PCI_MSIX_TABLE,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QSIZE,
  PCI_PM_CTRL,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_PM_SIZEOF,
  PCI_REVISION_ID,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
  VfioErrorCode,
  VfioRangeError,
} from '../../../structs/index.js';
import { hex } from '../../sys/index.js';
import type { ConfigAccessor } from '../../pci/index.js';
import type { BarShape, CapabilityShapes, ConfigShape } from './config-shape.js';

const PCIE_CAP_SIZE = 0x3c; // the version 2 structure, up to and including the slot registers

const bad = (what: string) => new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, what);
const isPowerOfTwo = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** A config space built from a model's shape, emulated byte by byte. */
export class EmulatedConfigSpace implements ConfigAccessor {
  /** 256 bytes, or 4096 for a PCI Express device. */
  readonly size: number;
  /** The model's config space, for messages. */
  readonly name: string;
  /** Where each capability starts, by id. */
  readonly capabilities = new Map<number, number>();
  readonly #initial: Uint8Array;
  readonly #bytes: Uint8Array;
  readonly #writable: Uint8Array;
  readonly #view: DataView;

  /** Lays out `shape`; `name` names the model in errors. */
  constructor(shape: ConfigShape, name: string) {
    this.name = `config of ${name}`;
    this.size = shape.capabilities.pcie ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
    this.#bytes = new Uint8Array(this.size);
    this.#writable = new Uint8Array(this.size);
    this.#view = new DataView(this.#bytes.buffer);
    this.#header(shape, name);
    this.#bars(shape.bars, name);
    this.#capabilityList(shape, name);
    this.#initial = Uint8Array.from(this.#bytes);
  }

  /** `length` bytes from `offset` (the caller has checked the range). */
  readBytes(offset: number, length: number): Uint8Array {
    return this.#bytes.slice(offset, offset + length);
  }

  /** Writes `data` at `offset`: only the bits software may write change. */
  writeBytes(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const at = offset + i;
      const mask = this.#writable[at];
      this.#bytes[at] = (this.#bytes[at] & ~mask) | (data[i] & mask);
    }
  }

  /** A little-endian value of 1, 2 or 4 bytes (a `ConfigAccessor`, so `new ConfigSpace(this)` reads it). */
  read(offset: number, width: 1 | 2 | 4): number {
    return width === 1
      ? this.#view.getUint8(offset)
      : width === 2
        ? this.#view.getUint16(offset, true)
        : this.#view.getUint32(offset, true);
  }

  /** Writes a little-endian value of 1, 2 or 4 bytes, as `writeBytes`. */
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    const data = new Uint8Array(width);
    for (let i = 0; i < width; i++) data[i] = (value >>> (8 * i)) & 0xff;
    this.writeBytes(offset, data);
  }

  /** Every byte as it was built: what a device reset does. */
  reset(): void {
    this.#bytes.set(this.#initial);
  }

  #set(offset: number, bytes: 1 | 2 | 4, value: number, writable = 0): void {
    for (let i = 0; i < bytes; i++) {
      this.#bytes[offset + i] = (value >>> (8 * i)) & 0xff;
      this.#writable[offset + i] = (writable >>> (8 * i)) & 0xff;
    }
  }

  #header({ identity: id, intx }: ConfigShape, name: string): void {
    for (const [field, v, max] of [
      ['vendorId', id.vendorId, 0xffff],
      ['deviceId', id.deviceId, 0xffff],
      ['classCode', id.classCode, 0xffffff],
      ['revision', id.revision ?? 0, 0xff],
      ['subsystemVendorId', id.subsystemVendorId ?? 0, 0xffff],
      ['subsystemId', id.subsystemId ?? 0, 0xffff],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > max)
        throw bad(`${name}: identity.${field} ${String(v)} is not an integer from 0 to ${hex(max)}`);
    }
    if (id.vendorId === 0xffff) throw bad(`${name}: vendor id 0xffff means "no device"; use your vendor's id`);
    this.#set(PCI_VENDOR_ID, 2, id.vendorId);
    this.#set(PCI_DEVICE_ID, 2, id.deviceId);
    const command = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR;
    this.#set(PCI_COMMAND, 2, 0, command | (intx ? PCI_COMMAND_INTX_DISABLE : 0));
    this.#set(PCI_REVISION_ID, 1, id.revision ?? 0);
    this.#set(PCI_CLASS_PROG, 1, id.classCode & 0xff);
    this.#set(PCI_CLASS_PROG + 1, 2, id.classCode >>> 8);
    this.#set(PCI_CACHE_LINE_SIZE, 1, 0, 0xff);
    this.#set(PCI_LATENCY_TIMER, 1, 0);
    this.#set(PCI_SUBSYSTEM_VENDOR_ID, 2, id.subsystemVendorId ?? 0);
    this.#set(PCI_SUBSYSTEM_ID, 2, id.subsystemId ?? 0);
    this.#set(PCI_INTERRUPT_LINE, 1, 0, 0xff);
    this.#set(PCI_INTERRUPT_PIN, 1, intx ? 1 : 0);
  }

  #bars(bars: ReadonlyArray<BarShape | undefined>, name: string): void {
    if (bars.length > 6) throw bad(`${name}: a PCI device has BARs 0-5, not ${bars.length}`);
    for (let n = 0; n < bars.length; n++) {
      const b = bars[n];
      if (!b) continue;
      const where = `${name}: BAR${n}`;
      if (!isPowerOfTwo(b.size) || b.size < (b.io ? 4 : 16))
        throw bad(`${where} size ${String(b.size)} is not a power of two of at least ${b.io ? 4 : 16} bytes`);
      if (b.io && (b.is64 || b.prefetchable)) throw bad(`${where} is I/O: it cannot be 64-bit or prefetchable`);
      if (b.io && b.size > 256) throw bad(`${where}: an I/O BAR is at most 256 bytes, not ${b.size}`);
      if (b.is64 && (n === 5 || bars[n + 1]))
        throw bad(`${where} is 64-bit: leave BAR${n + 1} undefined for its top half`);
      if (!b.is64 && b.size > 2 ** 31) throw bad(`${where} of ${hex(b.size)} bytes needs is64: true`);
      const flags = b.io
        ? PCI_BASE_ADDRESS_SPACE_IO
        : (b.is64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (b.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
      const at = PCI_BASE_ADDRESS_0 + 4 * n;
      // The bits below the size read as zero whatever is written: how software finds the size.
      this.#set(at, 4, flags, b.size >= 2 ** 32 ? 0 : (~(b.size - 1) >>> 0) & ~(b.io ? 0x3 : 0xf));
      if (b.is64) {
        this.#set(at + 4, 4, 0, b.size > 2 ** 32 ? ~(b.size / 2 ** 32 - 1) >>> 0 : 0xffffffff);
        n++;
      }
    }
  }

  #capabilityList({ capabilities: caps, bars }: ConfigShape, name: string): void {
    const list: Array<[number, number, (at: number) => void]> = [];
    if (caps.pm) list.push([PCI_CAP_ID_PM, PCI_PM_SIZEOF, (at) => this.#pm(at)]);
    if (caps.msi) {
      const { vectors, perVectorMask } = caps.msi;
      if (![1, 2, 4, 8, 16, 32].includes(vectors))
        throw bad(`${name}: MSI vectors ${String(vectors)} is not 1, 2, 4, 8, 16 or 32`);
      list.push([PCI_CAP_ID_MSI, perVectorMask ? 0x18 : 0x0e, (at) => this.#msi(at, vectors, !!perVectorMask)]);
    }
    if (caps.msix) {
      const m = caps.msix;
      if (!Number.isInteger(m.vectors) || m.vectors < 1 || m.vectors > 2048)
        throw bad(`${name}: MSI-X vectors ${String(m.vectors)} is not from 1 to 2048`);
      for (const [what, bar, offset, bytes] of [
        ['table', m.tableBar, m.tableOffset, 16 * m.vectors],
        ['PBA', m.pbaBar, m.pbaOffset, 8 * Math.ceil(m.vectors / 64)],
      ] as const) {
        const shape = bars[bar];
        if (!shape || shape.io) throw bad(`${name}: the MSI-X ${what} is in BAR${bar}, which is not a memory BAR`);
        if (offset % 8 !== 0 || offset < 0 || offset + bytes > shape.size)
          throw bad(
            `${name}: the MSI-X ${what} (${bytes} bytes at ${hex(offset)}) must be 8-byte aligned inside BAR${bar}`,
          );
      }
      list.push([PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF, (at) => this.#msix(at, m)]);
    }
    if (caps.pcie) list.push([PCI_CAP_ID_EXP, PCIE_CAP_SIZE, (at) => this.#pcie(at, !!caps.pcie?.flr)]);
    let at = 0x40;
    let link = PCI_CAPABILITY_LIST;
    for (const [id, size, fill] of list) {
      this.#set(link, 1, at);
      this.#set(at, 1, id);
      fill(at);
      this.capabilities.set(id, at);
      link = at + 1;
      at = (at + size + 3) & ~3;
    }
    if (list.length) this.#set(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
  }

  #pm(at: number): void {
    this.#set(at + PCI_PM_PMC, 2, 0x0003); // version 3, no PME, no D1/D2
    this.#set(at + PCI_PM_CTRL, 2, PCI_PM_CTRL_NO_SOFT_RESET, PCI_PM_CTRL_STATE_MASK);
  }

  #msi(at: number, vectors: number, perVectorMask: boolean): void {
    const multiple = Math.log2(vectors) << 1; // "multiple message capable"
    const flags = PCI_MSI_FLAGS_64BIT | multiple | (perVectorMask ? PCI_MSI_FLAGS_MASKBIT : 0);
    this.#set(at + PCI_MSI_FLAGS, 2, flags, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    this.#set(at + PCI_MSI_ADDRESS_LO, 4, 0, 0xfffffffc);
    this.#set(at + PCI_MSI_ADDRESS_LO + 4, 4, 0, 0xffffffff);
    this.#set(at + PCI_MSI_ADDRESS_LO + 8, 2, 0, 0xffff);
    if (perVectorMask) this.#set(at + 0x10, 4, 0, vectors === 32 ? 0xffffffff : 2 ** vectors - 1);
  }

  #msix(at: number, m: NonNullable<CapabilityShapes['msix']>): void {
    this.#set(at + PCI_MSIX_FLAGS, 2, m.vectors - 1, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    this.#set(at + PCI_MSIX_TABLE, 4, m.tableOffset | m.tableBar);
    this.#set(at + PCI_MSIX_PBA, 4, m.pbaOffset | m.pbaBar);
  }

  #pcie(at: number, flr: boolean): void {
    this.#set(at + PCI_EXP_FLAGS, 2, 2 | (PCI_EXP_TYPE_ENDPOINT << 4)); // version 2
    this.#set(at + PCI_EXP_DEVCAP, 4, flr ? PCI_EXP_DEVCAP_FLR : 0);
    this.#set(at + PCI_EXP_DEVCTL, 2, 0x2810, 0x7fff); // max payload 128, read request 512, relaxed ordering
  }
}
