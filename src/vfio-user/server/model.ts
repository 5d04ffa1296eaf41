/**
 * A PCI device modelled in TypeScript, as `serveDevice` takes it: who it is, its BARs and how
 * their registers behave, its interrupts and what a reset does. The model's handlers get a
 * `ModelContext`: the client's DMA memory, the interrupts the client enabled, config space.
 */
import type { ConfigSpace } from '../../pci/index.js';
import type { BarShape, PciIdentity } from '../model/config-shape.js';

/** An access width in bytes. */
export type AccessWidth = 1 | 2 | 4 | 8;

/** One BAR of a model: its shape and what its registers do. */
export interface BarModel extends BarShape {
  /**
   * A read of `width` bytes at `offset` (aligned to its width, inside the BAR): the value. A
   * BAR without `read` reads as zeros. 8-byte reads return a bigint, others a number.
   */
  read?(offset: number, width: AccessWidth, ctx: ModelContext): number | bigint;
  /** A write of `width` bytes at `offset`; a BAR without `write` ignores writes. */
  write?(offset: number, width: AccessWidth, value: number | bigint, ctx: ModelContext): void;
  /**
   * The BAR's registers (a `RegisterFile`), which answer the accesses `read` and `write` do not
   * take: give either, or `registers` alone.
   */
  registers?: BarRegisters;
  /**
   * The BAR is memory the client maps (a memfd shared with it): its accesses are loads and
   * stores, with no message and no handler; the model reads and writes it as
   * `ctx.barMemory(n)`. A model notices the client's stores by looking (as a device polls
   * a doorbell page), so give a shared BAR no `read`, `write` or `registers`.
   */
  shared?: boolean;
}

/** What a BAR's `registers` must do: a `RegisterFile` does it. */
export interface BarRegisters {
  /** A client's read of `width` bytes at `offset` of the BAR. */
  read(offset: number, width: AccessWidth, ctx: ModelContext): number | bigint;
  /** A client's write of `width` bytes at `offset` of the BAR. */
  write(offset: number, width: AccessWidth, value: number | bigint, ctx: ModelContext): void;
}

/** The interrupts a model can raise; the client chooses which it enables. */
export interface InterruptModel {
  /** INTx on pin A. */
  intx?: boolean;
  /** MSI vectors: 1, 2, 4, 8, 16 or 32. */
  msi?: number;
  /** MSI-X vectors, with the BAR and offsets of the table and the PBA (the client owns their contents). */
  msix?: { vectors: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number };
}

/** A device model for `serveDevice`. */
export interface DeviceModel {
  /** Names the model in messages and errors. */
  name: string;
  identity: PciIdentity;
  /** BAR 0-5; a 64-bit BAR leaves the next slot undefined. */
  bars: ReadonlyArray<BarModel | undefined>;
  interrupts?: InterruptModel;
  /** Extra capabilities: power management, PCI Express (config space then grows to 4 KiB). */
  capabilities?: { pm?: boolean; pcie?: { flr?: boolean } };
  /** Puts the model's own state back as after power-on (config space is reset for it). */
  reset?(ctx: ModelContext): void;
}

/** The client's DMA memory as the model sees it: by the addresses the device uses. */
export interface ModelDma {
  /** Copies `length` bytes from the client's memory at DMA address `address`. */
  read(address: bigint, length: number): Uint8Array;
  /** Copies `data` into the client's memory at DMA address `address`. */
  write(address: bigint, data: Uint8Array): void;
}

/** What a model's handlers reach: DMA, interrupts, config space. */
export interface ModelContext {
  readonly dma: ModelDma;
  /**
   * Raises interrupt `vector` the way the client enabled them: an MSI-X or MSI vector, else
   * INTx (vector 0). Returns false when the client enabled none that can carry it (nothing is
   * raised; a real device's interrupt would be lost the same way).
   */
  interrupt(vector?: number): boolean;
  /** The device's config space as the client last wrote it. */
  readonly config: ConfigSpace;
  /** The memory of shared BAR `n` (`shared: true`), which the client maps too. */
  barMemory(n: number): Uint8Array;
}
