/**
 * A VFIO container (`/dev/vfio/vfio`) with its groups: the legacy way into VFIO. The IOMMU
 * side (Type1 mappings, or no-IOMMU) is `Type1Iommu`; this adds the groups and devices.
 */
import { PciSysfs, parsePciAddress } from '../../pci/index.js';
import { closeAll } from '../../sys/index.js';
import { Type1Iommu, type Type1Options } from '../../iommu/index.js';
import { dmaFor, type Dma } from '../../dma/index.js';
import { Group } from './group.js';
import type { Device, DeviceOptions } from '../device/device.js';
import { locateDevice } from './locate.js';
import { VfioError, VfioErrorCode } from '../../../structs/errors.js';

export interface ContainerOptions extends Type1Options {
  /** Root of sysfs, for finding groups (default `/sys`). */
  sysfsRoot?: string;
}

let warnedNoIommu = false;

export class Container extends Type1Iommu {
  readonly sysfs: PciSysfs;
  readonly #groups = new Map<number, Group>();

  constructor(options: ContainerOptions = {}) {
    super(options);
    this.sysfs = new PciSysfs(options.sysfsRoot);
    if (this.kind === 'noiommu' && !warnedNoIommu) {
      warnedNoIommu = true;
      process.emitWarning(
        'VFIO no-IOMMU mode: nothing stands between the device and all of memory. DMA uses physical addresses, a wrong address corrupts the machine, and the kernel is tainted. Use it only where no IOMMU exists.',
        { code: 'VFIO_TS_NOIOMMU' },
      );
    }
  }

  /** The DMA context of this container, shared by its devices (each allocates below its own `dmaBits`). */
  get dma(): Dma {
    this.check();
    return dmaFor(this);
  }

  /** The groups attached to this container. */
  get groups(): Group[] {
    return [...this.#groups.values()];
  }

  /** Opens IOMMU group `number` (or returns it if already attached) and attaches it. */
  group(number: number): Group {
    this.check();
    const existing = this.#groups.get(number);
    if (existing && !existing.closed) return existing;
    const group = new Group(this, number);
    this.#groups.set(number, group);
    return group;
  }

  /** Opens the device at `address` through its group, in this container. */
  device(address: string, options: DeviceOptions = {}): Device {
    this.check();
    const loc = locateDevice(this.sysfs, parsePciAddress(address));
    if (loc.noIommu && this.kind !== 'noiommu') {
      throw new VfioError(
        VfioErrorCode.NO_IOMMU,
        `${loc.address} is in no-IOMMU group ${loc.group} (/dev/vfio/noiommu-${loc.group}): open it with { iommu: 'noiommu' } (or new Container({ noIommu: true }))`,
      );
    }
    if (!loc.noIommu && this.kind === 'noiommu') {
      throw new VfioError(
        VfioErrorCode.INVALID_ARGUMENT,
        `${loc.address} has an IOMMU (group ${loc.group}): no-IOMMU mode is only for devices without one; use { iommu: 'type1' } or { iommu: 'iommufd' }`,
      );
    }
    return this.group(loc.group).device(loc.address, options);
  }

  /** @internal Called by a group once it has joined the container. */
  attached(): void {
    this.setIommu();
  }

  /** @internal Called by a group when it leaves; the IOMMU is unset with the last group. */
  detached(group: Group): void {
    if (this.#groups.get(group.number) === group) this.#groups.delete(group.number);
    if (this.#groups.size === 0) this.iommuDropped();
  }

  protected override release(): void {
    closeAll([...[...this.#groups.values()].reverse().map((g) => () => g.close()), () => super.release()]);
    this.#groups.clear();
  }
}
