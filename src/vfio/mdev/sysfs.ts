/**
 * Mediated devices as sysfs shows them. A vendor driver registers a parent device, listed in
 * `/sys/class/mdev_bus/PARENT`, with the types it can make under `mdev_supported_types/TYPE`
 * (`name`, `description`, `device_api`, `available_instances`, `create`). Writing a UUID to
 * `create` makes an mdev, `/sys/bus/mdev/devices/UUID`, with its own IOMMU group and VFIO cdev;
 * writing 1 to its `remove` destroys it. The sysfs root is a parameter so tests can use a fake tree.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { VfioError, VfioErrorCode } from '../../../structs/index.js';
import { DEFAULT_SYSFS } from '../../pci/index.js';
import { parseMdevAddress, type MdevUuid } from './address.js';

/** What the kernel needs for mediated devices, for messages where it has none. */
export const MDEV_KERNEL_NEEDS =
  'the kernel needs CONFIG_VFIO_MDEV and a vendor driver that registers a parent device (the kernel\'s sample serial card: CONFIG_SAMPLE_VFIO_MDEV_MTTY, "modprobe mtty"; Intel GVT-g: i915 with enable_gvt=1; a vendor\'s vGPU driver)';

/** One type of mediated device a parent can make (`mdev_supported_types/TYPE`). */
export interface MdevType {
  /** Its sysfs name, the vendor driver's name and the type's (`mtty-1`). */
  id: string;
  /** The parent device that makes it (`mtty`, or a PCI address such as `0000:00:02.0`). */
  parent: string;
  /** Its human name (`Single port serial`). */
  name: string;
  /** The vendor's description, or null when the driver gives none. */
  description: string | null;
  /** The VFIO device API its devices speak (`vfio-pci`). */
  deviceApi: string;
  /** How many more of it can be made now. */
  availableInstances: number;
  /** The UUIDs of the mdevs of this type that exist. */
  devices: MdevUuid[];
}

/** A parent device with the types of mdev it can make. */
export interface MdevParent {
  /** Its name in `/sys/class/mdev_bus` (`mtty`, or a PCI address). */
  name: string;
  types: MdevType[];
}

/** One mediated device (`/sys/bus/mdev/devices/UUID`). */
export interface MdevInfo {
  uuid: MdevUuid;
  /** Its type's id (`mtty-1`). */
  type: string;
  /** Its parent device's name. */
  parent: string;
  /** The vendor driver bound to it (`mtty`), or null when none is. */
  driver: string | null;
  /** Its IOMMU group (one of its own, made by VFIO), or null when it has none. */
  iommuGroup: number | null;
  /** Its VFIO cdev's name (`vfio4`) under /dev/vfio/devices, or null when the kernel made none. */
  cdev: string | null;
}

/**
 * The mediated devices sysfs shows under `root` (default `/sys`): parents and their types, and
 * the mdevs that exist. `createMdev` and `removeMdev` make and destroy them.
 */
export class MdevSysfs {
  /** Reads sysfs under `root`; nothing is read until a method asks. */
  constructor(readonly root: string = DEFAULT_SYSFS) {}

  /** `<root>/class/mdev_bus`: one entry per parent device. */
  get busPath(): string {
    return join(this.root, 'class/mdev_bus');
  }

  /** The mdev's directory, `<root>/bus/mdev/devices/<uuid>` (whether it exists or not). */
  devicePath(uuid: MdevUuid): string {
    return join(this.root, 'bus/mdev/devices', uuid);
  }

  /** Whether the kernel has mediated devices at all (`/sys/class/mdev_bus` exists). */
  supported(): boolean {
    return existsSync(this.busPath);
  }

  /** Throws `ERR_VFIO_UNSUPPORTED`, naming the kernel option, when the kernel has no mdev support. */
  requireSupport(): void {
    if (!this.supported())
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `this kernel has no mediated devices: ${this.busPath} does not exist; ${MDEV_KERNEL_NEEDS}`,
      );
  }

  /** Every parent device with its types, sorted by name. */
  parents(): MdevParent[] {
    this.requireSupport();
    return listDir(this.busPath)
      .sort()
      .map((name) => ({ name, types: this.#typesOf(name) }));
  }

  /** Every type of every parent (or of `parent` alone). */
  types(parent?: string): MdevType[] {
    const parents = this.parents().filter((p) => parent === undefined || p.name === parent);
    if (parent !== undefined && parents.length === 0) throw this.#unknownParent(parent);
    return parents.flatMap((p) => p.types);
  }

  /**
   * The type `id` (`mtty-1`), of `parent` when given. An unknown type, or one that more than one
   * parent makes with no parent named, throws `ERR_VFIO_INVALID_ARGUMENT` listing what exists.
   */
  type(id: string, parent?: string): MdevType {
    const all = this.types(parent);
    const found = all.filter((t) => t.id === id);
    if (found.length === 1) return found[0];
    if (found.length > 1)
      throw new VfioError(
        VfioErrorCode.INVALID_ARGUMENT,
        `mdev type ${id} is offered by more than one parent (${found.map((t) => t.parent).join(', ')}): name the one to use with { parent }`,
      );
    const known = all.map((t) => `${t.id} (${t.parent}: ${t.name})`);
    throw new VfioError(
      VfioErrorCode.INVALID_ARGUMENT,
      known.length === 0
        ? `no mdev type ${id}: no parent device is registered in ${this.busPath}; load a vendor driver with mdev support (the kernel's sample: CONFIG_SAMPLE_VFIO_MDEV_MTTY, "modprobe mtty")`
        : `no mdev type ${id}${parent ? ` on parent ${parent}` : ''}: the types are ${known.join(', ')}`,
    );
  }

  /** Every mdev that exists, sorted by UUID. */
  devices(): MdevInfo[] {
    this.requireSupport();
    const dir = join(this.root, 'bus/mdev/devices');
    return listDir(dir)
      .map((n) => this.device(parseMdevAddress(n)))
      .sort((a, b) => a.uuid.localeCompare(b.uuid));
  }

  /** Whether the mdev `uuid` exists. */
  exists(uuid: MdevUuid): boolean {
    return existsSync(this.devicePath(uuid));
  }

  /** The mdev `uuid`; `ERR_VFIO_NO_DEVICE` when there is none (`ERR_VFIO_UNSUPPORTED` without mdev support). */
  device(uuid: MdevUuid): MdevInfo {
    const path = this.devicePath(uuid);
    if (!existsSync(path)) {
      this.requireSupport();
      throw new VfioError(
        VfioErrorCode.NO_DEVICE,
        `mdev ${uuid} not found (${path} does not exist): ls ${dirname(path)} lists the mdevs; make one with createMdev(TYPE) (a UUID written to ${this.busPath}/PARENT/mdev_supported_types/TYPE/create)`,
      );
    }
    return {
      uuid,
      type: linkName(join(path, 'mdev_type')) ?? '',
      parent: basename(dirname(realpathSync(path))),
      driver: linkName(join(path, 'driver')),
      iommuGroup: groupNumber(join(path, 'iommu_group')),
      cdev: listDir(join(path, 'vfio-dev'), []).find((n) => /^vfio\d+$/.test(n)) ?? null,
    };
  }

  #typesOf(parent: string): MdevType[] {
    const dir = join(this.busPath, parent, 'mdev_supported_types');
    return listDir(dir, [])
      .sort()
      .map((id) => {
        const t = join(dir, id);
        const available = Number(readText(join(t, 'available_instances')));
        return {
          id,
          parent,
          name: readText(join(t, 'name')),
          description: existsSync(join(t, 'description')) ? readText(join(t, 'description')) : null,
          deviceApi: readText(join(t, 'device_api')),
          availableInstances: Number.isSafeInteger(available) ? available : 0,
          devices: listDir(join(t, 'devices'), []).sort() as MdevUuid[],
        };
      });
  }

  #unknownParent(parent: string): VfioError {
    const names = listDir(this.busPath);
    return new VfioError(
      VfioErrorCode.INVALID_ARGUMENT,
      `no mdev parent ${parent} in ${this.busPath}: the parents are ${names.length ? names.join(', ') : 'none (no vendor driver with mdev support is loaded)'}`,
    );
  }
}

/** A directory's entries; `fallback` (or a coded error naming it) when it cannot be read. */
function listDir(path: string, fallback?: string[]): string[] {
  try {
    return readdirSync(path);
  } catch (e) {
    if (fallback) return fallback;
    throw new VfioError(VfioErrorCode.MALFORMED, `sysfs: cannot read ${path} (${(e as NodeJS.ErrnoException).code})`, {
      cause: e,
    });
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new VfioError(VfioErrorCode.MALFORMED, `sysfs: cannot read ${path} (${(e as NodeJS.ErrnoException).code})`, {
      cause: e,
    });
  }
}

/** The name a sysfs link points at, or null when there is no link. */
function linkName(path: string): string | null {
  try {
    return basename(readlinkSync(path));
  } catch {
    return null;
  }
}

function groupNumber(path: string): number | null {
  const name = linkName(path);
  if (name === null) return null;
  if (!/^\d{1,10}$/.test(name))
    throw new VfioError(VfioErrorCode.MALFORMED, `sysfs: ${path} links to '${name}', not an IOMMU group number`);
  return Number(name);
}
