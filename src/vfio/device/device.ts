/** A VFIO device: its fd, info, regions, config space, interrupts info, reset and bus mastering. */
import {
  PCI_COMMAND,
  PCI_COMMAND_MASTER,
  VFIO_PCI_BAR0_REGION_INDEX,
  VFIO_PCI_BAR5_REGION_INDEX,
  VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_PCI_ROM_REGION_INDEX,
  type RegionInfo,
  VfioError,
  VfioErrorCode,
  VfioRangeError,
} from '../../../structs/index.js';
import type { DeviceInfo, IrqInfo } from './info.js';
import type { DeviceChannel } from './channel.js';
import { ConfigSpace, type PciAddress } from '../../pci/index.js';
import { closeAll, formatSize, Resource, checkInteger } from '../../sys/index.js';
import { Region, type RegionOptions } from '../region/region.js';
import { irqIndexName, regionName } from '../names.js';
import { regionConfigAccessor } from './config-accessor.js';
import { msixRanges } from './msix-ranges.js';
import { hotReset, hotResetPeers, type HotResetPeer } from './hot-reset.js';
import type { DeviceContext, DeviceGroup, DeviceOpening } from './opening.js';
import { Interrupts } from '../irq/interrupts.js';
import { DeviceFeatures } from './features.js';
import { DeviceMigration } from './migration.js';
import { Sriov } from './sriov.js';
import { addOpenWatcher, announceOpen } from './opened.js';
import type { Dma } from '../../dma/index.js';
import { removedError } from '../removed.js';

/** Calls `watcher` with each device opened from now on (a tracer's hook); returns what stops it. */
export function watchDeviceOpens(watcher: (device: Device) => void): () => void {
  return addOpenWatcher(watcher as (device: unknown) => void);
}

/**
 * An open VFIO PCI device, from `openDevice()` or `context.device(address)`: its regions and BARs,
 * config space, DMA memory, interrupts and resets. Closing it closes its regions and interrupts.
 */
export class Device extends Resource {
  /** Its PCI address, `0000:00:03.0`. */
  readonly address: PciAddress;
  /** The device's fd (its channel's: the VFIO device fd when the kernel serves it). */
  readonly fd: number;
  /** @internal What serves the device: its info, regions, interrupts and reset go through it. */
  readonly channel: DeviceChannel;
  /** The IOMMU context the device is in: a `Container` (`kind` 'type1' or 'noiommu') or an `IommufdContext`. */
  readonly iommu: DeviceContext;
  /** The VFIO group it was opened through (a `Group`); undefined when opened through its cdev (iommufd). */
  readonly group: DeviceGroup | undefined;
  /** Its IOMMU group number, however it was opened. */
  readonly iommuGroup: number;
  /** DMA address width in bits (`dev.dma` allocates below 2^dmaBits). */
  readonly dmaBits: number;
  /** What `VFIO_DEVICE_GET_INFO` said, read at open. */
  readonly info: DeviceInfo;
  /** Every region's info, read at open (size 0: not implemented). */
  readonly regions: readonly RegionInfo[];
  /** Every irq index's info (INTx, MSI, MSI-X, ERR, REQ for PCI), read at open. */
  readonly irqs: readonly IrqInfo[];
  readonly #forget: (dev: Device) => void;
  readonly #openGroups: () => readonly DeviceGroup[];
  readonly #dma: Dma;
  readonly #regions = new Map<number, Region>();
  #config: ConfigSpace | undefined;
  #interrupts: Interrupts | undefined;
  #features: DeviceFeatures | undefined;
  #migration: DeviceMigration | undefined;
  /** Whether the kernel asked for the device back (its request interrupt fired). */
  #requested = false;

  /** @internal Use `openDevice()`, `container.device(address)` or `iommufdContext.device(address)`. */
  constructor(opening: DeviceOpening) {
    super();
    const { address, channel } = opening;
    this.iommu = opening.context;
    this.group = opening.group;
    this.iommuGroup = opening.iommuGroup;
    // Checked before anything is read, so a wrong width fails at open, not at the first DMA.
    this.dmaBits = checkInteger('dmaBits', `of ${opening.address}`, opening.dmaBits ?? 64, 12, 64);
    this.#forget = opening.forget;
    this.#openGroups = opening.openGroups ?? (() => []);
    this.address = address;
    this.channel = channel;
    this.fd = channel.fd;
    // Read once: none of it changes while the device is open, and getters stay free.
    this.info = channel.readDeviceInfo();
    this.regions = Array.from({ length: this.info.numRegions }, (_, i) => channel.readRegionInfo(i));
    this.irqs = Array.from({ length: this.info.numIrqs }, (_, i) => channel.readIrqInfo(i));
    // The context's DMA seen below this device's width: made here, so reading `dev.dma` asks nothing.
    this.#dma = this.iommu.dma.withAddressBits(this.dmaBits);
    announceOpen(this);
  }

  get name(): string {
    return `device ${this.address}`;
  }

  /** DMA memory this device can reach: the IOMMU context's, below this device's `dmaBits`. */
  get dma(): Dma {
    this.check();
    return this.#dma;
  }

  protected override describe(): string {
    const regions = this.regions.filter((r) => r.size > 0n).map((r) => `${regionName(r.index)} ${formatSize(r.size)}`);
    const irqs = this.irqs.filter((i) => i.count > 0).map((i) => `${irqIndexName(i.index)} ${i.count}`);
    return `iommu: ${this.iommu.kind}; regions: ${regions.join(', ')}; irqs: ${irqs.join(', ')}; reset: ${this.info.canReset ? 'yes' : 'no'}`;
  }

  /** The info of region `index` (read at open, with sparse-mmap areas, type, MSI-X mappable). */
  regionInfo(index: number): RegionInfo {
    this.check();
    if (!Number.isInteger(index) || index < 0 || index >= this.info.numRegions) {
      throw new VfioRangeError(
        VfioErrorCode.OUT_OF_RANGE,
        `${this.name} has regions 0-${this.info.numRegions - 1}, not ${index}`,
      );
    }
    return this.regions[index];
  }

  /** The info of irq index `index` (read at open). */
  irqInfo(index: number): IrqInfo {
    this.check();
    if (!Number.isInteger(index) || index < 0 || index >= this.info.numIrqs) {
      throw new VfioRangeError(
        VfioErrorCode.OUT_OF_RANGE,
        `${this.name} has irq indexes 0-${this.info.numIrqs - 1}, not ${index}`,
      );
    }
    return this.irqs[index];
  }

  /** The region at `index`, mapped on first use and kept until the device closes. */
  region(index: number, options?: RegionOptions): Region {
    const info = this.regionInfo(index);
    let r = this.#regions.get(index);
    if (r && !r.closed) return r;
    if (info.size === 0n)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${regionName(index)} of ${this.address} is not implemented (size 0)`,
      );
    r = new Region(this.channel, info, `${regionName(index)} of ${this.address}`, options);
    this.#regions.set(index, r);
    return r;
  }

  /** @internal The regions open now (a tracer wraps them). */
  openRegions(): Region[] {
    return [...this.#regions.values()].filter((r) => !r.closed);
  }

  /**
   * BAR `n` (0-5): memory BARs are mmapped, I/O-port BARs go through pread/pwrite. The pages
   * holding the MSI-X table and PBA are left unmapped unless `options.mapMsix` is set: VFIO
   * owns that table (VFIO_DEVICE_SET_IRQS programs it), so accesses there go through the
   * kernel, which guards it, instead of letting a stray store reprogram a vector.
   */
  bar(n: number, options: { mapMsix?: boolean } = {}): Region {
    if (!Number.isInteger(n) || n < 0 || n > VFIO_PCI_BAR5_REGION_INDEX)
      throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `${this.name} has BARs 0-5, not ${n}`);
    const index = VFIO_PCI_BAR0_REGION_INDEX + n;
    const open = this.#regions.get(index);
    if (open && !open.closed) return open;
    this.regionInfo(index); // range and size errors before config space is touched
    const exclude = options.mapMsix ? [] : msixRanges(this.config, n);
    const portIo = this.config.bars().some((b) => b.index === n && b.io);
    return this.region(index, { exclude, portIo });
  }

  /** The expansion ROM region (a method: opening it may map it). */
  rom(): Region {
    return this.region(VFIO_PCI_ROM_REGION_INDEX);
  }

  /** Config space through the VFIO config region (pread/pwrite; the kernel virtualises parts of it). */
  get config(): ConfigSpace {
    this.check();
    if (!this.#config) {
      const region = this.region(VFIO_PCI_CONFIG_REGION_INDEX, { mmap: false });
      this.#config = new ConfigSpace(regionConfigAccessor(region));
    }
    return this.#config;
  }

  /**
   * `VFIO_DEVICE_RESET`. Throws a clear error when the device offers no reset. A reset clears
   * bus mastering and interrupt setup: enable them again afterwards.
   */
  reset(): void {
    this.check();
    if (!this.info.canReset) {
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.address} does not support reset: the kernel found no reset method for it (no FLR, PM reset or bus reset; VFIO_DEVICE_FLAGS_RESET is clear). Reinitialise it through its registers instead.`,
      );
    }
    this.channel.reset();
  }

  /**
   * The devices a hot reset (secondary bus or slot reset) of this one would also reset, with
   * their IOMMU groups (`VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`). Throws a clear error when no
   * bus or slot reset can reach the device (devices on a root bus), or when the kernel does not
   * serve it (a device served by another process).
   */
  hotResetPeers(): HotResetPeer[] {
    this.check();
    return hotResetPeers(this);
  }

  /**
   * Resets this device's bus or slot (`VFIO_DEVICE_PCI_HOT_RESET`) and with it every peer.
   * Through a container, every affected group must be open in this process: the groups of this
   * device's container are found; pass groups of other containers in `groups`. Through iommufd,
   * the kernel checks that the iommufd owns every affected device (or its group). Like
   * `reset()`, it clears bus mastering and interrupt setup. Only the kernel resets a bus: a
   * device served by another process refuses it (`ERR_VFIO_UNSUPPORTED`).
   */
  hotReset(groups: readonly DeviceGroup[] = []): void {
    this.check();
    const open = new Map<number, number>();
    for (const g of [...this.#openGroups(), ...groups]) if (!g.closed) open.set(g.number, g.fd);
    hotReset(this, open);
  }

  /** Whether the device may master the bus (do DMA and MSI): the command register's bit 2. */
  busMasterEnabled(): boolean {
    return (this.config.read16(PCI_COMMAND) & PCI_COMMAND_MASTER) !== 0;
  }

  /** Lets the device master the bus, or stops it (`openDevice` turns it on unless told not to). */
  setBusMaster(on: boolean): void {
    this.config.setCommandBits(PCI_COMMAND_MASTER, on);
  }

  /**
   * The device's features (`VFIO_DEVICE_FEATURE`): `probe(feature)`, `has`, `get`, `set`, with
   * the `VFIO_DEVICE_FEATURE_*` indexes and payload structs of `vfio-ts/structs`.
   */
  get features(): DeviceFeatures {
    this.check();
    this.#features ??= new DeviceFeatures({ channel: this.channel, name: this.name, checkOpen: () => this.check() });
    return this.#features;
  }

  /** The device's migration state machine and data streams (closed with the device). */
  get migration(): DeviceMigration {
    this.check();
    if (!this.#migration) {
      const migration = new DeviceMigration({ features: this.features, name: this.name });
      this.onClose(() => migration.closeStreams(), 'before');
      this.#migration = migration;
    }
    return this.#migration;
  }

  /** SR-IOV: a PF's VFs and VF token, a VF's PF (`Sriov`). */
  get sriov(): Sriov {
    this.check();
    return new Sriov(this);
  }

  /** The device's interrupts (INTx, MSI, MSI-X, request), created on first use and closed first with the device. */
  get interrupts(): Interrupts {
    this.check();
    if (!this.#interrupts || this.#interrupts.closed) this.#interrupts = new Interrupts(this);
    return this.#interrupts;
  }

  /** @internal The interrupt type enabled now, if any: no system call, and no `Interrupts` made. */
  get enabledIrqType(): string | undefined {
    return this.#interrupts && !this.#interrupts.closed ? this.#interrupts.type : undefined;
  }

  /** @internal The kernel asked for the device back (its interrupts saw the request). */
  requested(): void {
    this.#requested = true;
  }

  /** Once the kernel took the device back, a use says so (`ERR_VFIO_DEVICE_REMOVED`). */
  protected override closedError(): VfioError {
    return this.#requested ? removedError(this.name, this.address) : super.closedError();
  }

  protected release(): void {
    this.#config = undefined;
    closeAll([
      () => this.#interrupts?.close(),
      ...[...this.#regions.values()].reverse().map((r) => () => r.close()),
      () => this.channel.close(),
      () => this.#forget(this),
    ]);
    this.#regions.clear();
  }
}
