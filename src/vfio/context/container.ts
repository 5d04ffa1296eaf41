/**
 * A VFIO container (`/dev/vfio/vfio`) with its groups: the legacy way into VFIO. It holds its
 * IOMMU side, a `Type1Iommu` (Type1 mappings, or no-IOMMU), and adds the groups and devices.
 */
import { Type1Iommu, type Type1Options } from '../../iommu/index.js';
import { BackedContext } from './backed.js';
import { Group } from './group.js';
import type { Device } from '../device/device.js';
import type { DeviceOptions } from '../device/opening.js';
import { locateVfioDevice } from './locate-mdev.js';
import { VfioError, VfioErrorCode } from '../../../structs/index.js';

/** Options of a `Container`. */
export interface ContainerOptions extends Type1Options {
  /** Root of sysfs, for finding groups (default `/sys`). */
  sysfsRoot?: string;
}

let warnedNoIommu = false;

/**
 * A legacy VFIO container (`/dev/vfio/vfio`) with its groups: the way into VFIO where iommufd is
 * not available, and the only one for no-IOMMU devices. Closing it closes its groups and devices.
 */
export class Container extends BackedContext<Type1Iommu> {
  readonly #groups = new Map<number, Group>();

  /**
   * Opens `/dev/vfio/vfio` and chooses the IOMMU type; it is set when the first group joins.
   * `adopted` (internal, for `receiveDevice`): a container fd handed to this process, its type set.
   */
  constructor(options: ContainerOptions = {}, adopted?: { fd: number; iommuType: number }) {
    super(new Type1Iommu(options, adopted), options.sysfsRoot);
    if (this.kind === 'noiommu' && !warnedNoIommu) {
      warnedNoIommu = true;
      process.emitWarning(
        'VFIO no-IOMMU mode: nothing stands between the device and all of memory. DMA uses physical addresses, a wrong address corrupts the machine, and the kernel is tainted. Use it only where no IOMMU exists.',
        { code: 'VFIO_TS_NOIOMMU' },
      );
    }
  }

  /** The IOMMU type set on the container: Type1v2 when the kernel has it, else Type1; or no-IOMMU. */
  get iommuType(): number {
    return this.backend.iommuType;
  }

  /** The groups attached to this container. */
  get groups(): Group[] {
    return [...this.#groups.values()];
  }

  /** Whether the kernel offers an extension (`VFIO_TYPE1v2_IOMMU`, `VFIO_UNMAP_ALL`, ...). */
  checkExtension(ext: number): boolean {
    this.check();
    return this.backend.checkExtension(ext);
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

  /**
   * Opens the device at `address` through its group, in this container: a PCI address, or a
   * mediated device's UUID (bare or `mdev:UUID`).
   */
  device(address: string, options: DeviceOptions = {}): Device {
    this.check();
    const loc = locateVfioDevice(this.sysfs, address);
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

  /**
   * @internal Takes the fd of group `number` handed to this process, already in this container
   * (`receiveDevice`): checked, and closed on failure.
   */
  adoptGroup(number: number, fd: number): Group {
    this.check();
    const group = new Group(this, number, fd);
    this.#groups.set(number, group);
    return group;
  }

  /** @internal Called by a group once it has joined the container. */
  attached(): void {
    this.backend.setIommu();
  }

  /** @internal Called by a group when it leaves; the IOMMU is unset with the last group. */
  detached(group: Group): void {
    if (this.#groups.get(group.number) === group) this.#groups.delete(group.number);
    if (this.#groups.size === 0) this.backend.iommuDropped();
  }

  protected children(): Group[] {
    return [...this.#groups.values()];
  }

  protected override release(): void {
    super.release();
    this.#groups.clear();
  }
}
