/**
 * Making and destroying mediated devices: a UUID written to the type's `create`, `1` written to
 * the mdev's `remove`. Both need root. An mdev outlives the process that made it; removing one
 * that is open would block in the kernel until it is closed, so that is refused first.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SysError, VfioError, VfioErrorCode } from '../../../structs/index.js';
import { describeHolders, holdersOf } from '../../sys/index.js';
import { parseMdevAddress, type MdevUuid } from './address.js';
import { MdevSysfs, type MdevInfo } from './sysfs.js';

/** Options of `createMdev`. */
export interface CreateMdevOptions {
  /** The parent device to make it on, when more than one offers the type. */
  parent?: string;
  /** The UUID to give it (default: a random one). */
  uuid?: string;
  /** Root of sysfs (default `/sys`). */
  sysfsRoot?: string;
}

/**
 * Makes a mediated device of type `type` (`mtty-1`; `new MdevSysfs().types()` lists them) and
 * returns it, bound to its vendor driver with an IOMMU group of its own: open it with
 * `openDevice(info.uuid)`. Throws `ERR_VFIO_NO_INSTANCES` when the type has none left,
 * `ERR_VFIO_INVALID_ARGUMENT` for an unknown type or a UUID in use, `ERR_VFIO_UNSUPPORTED` on a
 * kernel without mdev support. Needs root.
 */
export function createMdev(type: string, options: CreateMdevOptions = {}): MdevInfo {
  const sysfs = new MdevSysfs(options.sysfsRoot);
  const t = sysfs.type(type, options.parent);
  const uuid = parseMdevAddress(options.uuid ?? randomUUID());
  if (sysfs.exists(uuid))
    throw new VfioError(
      VfioErrorCode.INVALID_ARGUMENT,
      `mdev ${uuid} exists already (${sysfs.devicePath(uuid)}): give another UUID, or remove it first (removeMdev)`,
    );
  if (t.availableInstances === 0) throw noInstances(t.id, t.parent, t.devices);
  const path = join(sysfs.busPath, t.parent, 'mdev_supported_types', t.id, 'create');
  try {
    writeFileSync(path, uuid);
  } catch (e) {
    throw writeError(e, path, {
      EEXIST: [VfioErrorCode.INVALID_ARGUMENT, `mdev ${uuid} exists already: give another UUID`],
      // mtty refuses with ENOSPC when its ports run out; the mdev core with EUSERS.
      ENOSPC: [VfioErrorCode.NO_INSTANCES, noInstances(t.id, t.parent, t.devices).message],
      EUSERS: [VfioErrorCode.NO_INSTANCES, noInstances(t.id, t.parent, t.devices).message],
    });
  }
  return sysfs.device(uuid);
}

/** Options of `removeMdev`. */
export interface RemoveMdevOptions {
  /** Root of sysfs (default `/sys`). */
  sysfsRoot?: string;
}

/**
 * Destroys the mediated device `uuid` (bare or `mdev:UUID`). Refused with `ERR_VFIO_DEVICE_BUSY`,
 * naming the holders, while it is open (the kernel would wait for it to be closed); an unknown
 * UUID is `ERR_VFIO_NO_DEVICE`. Needs root.
 */
export function removeMdev(uuid: string, options: RemoveMdevOptions = {}): void {
  const sysfs = new MdevSysfs(options.sysfsRoot);
  const info = sysfs.device(parseMdevAddress(uuid));
  const nodes = [
    ...(info.iommuGroup === null ? [] : [`/dev/vfio/${info.iommuGroup}`]),
    ...(info.cdev === null ? [] : [`/dev/vfio/devices/${info.cdev}`]),
  ];
  for (const node of nodes) {
    const holders = holdersOf(node);
    if (holders.length > 0)
      throw new VfioError(
        VfioErrorCode.DEVICE_BUSY,
        `mdev ${info.uuid} is open: ${node} is held by ${describeHolders(node, holders)}; close the device first (the kernel's remove would wait until it is closed)`,
      );
  }
  const path = join(sysfs.devicePath(info.uuid), 'remove');
  try {
    writeFileSync(path, '1');
  } catch (e) {
    throw writeError(e, path, {});
  }
}

/** The error for a type with no instance left, naming the mdevs that hold them. */
function noInstances(type: string, parent: string, devices: readonly MdevUuid[]): VfioError {
  return new VfioError(
    VfioErrorCode.NO_INSTANCES,
    `mdev type ${type} of ${parent} has no instances left (available_instances is 0)${devices.length ? `; its mdevs: ${devices.join(', ')}` : ''}: remove one (removeMdev) or use another type`,
  );
}

/** A failed write to a sysfs file as a `SysError`: a known errno with its code and hint, EACCES as a permission. */
function writeError(e: unknown, path: string, known: Record<string, [VfioErrorCode, string]>): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err.errno !== 'number' || typeof err.code !== 'string') return e;
  const [code, hint] =
    known[err.code] ??
    (err.code === 'EACCES' || err.code === 'EPERM'
      ? [VfioErrorCode.PERMISSION, 'making and removing mdevs needs root']
      : [undefined, undefined]);
  return new SysError({ syscall: 'write', errno: Math.abs(err.errno), target: path, hint, code });
}
