/**
 * PCI devices as sysfs shows them: IOMMU group, driver, ids, and binding to a driver through
 * `driver_override`. The sysfs root is a parameter so tests can use a fake tree.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parsePciAddress, type PciAddress } from './address.js';
import { VfioError, VfioErrorCode } from '../../structs/index.js';
import { hex } from '../sys/index.js';

export const DEFAULT_SYSFS = '/sys';

/** One device of the PCI bus. */
export interface PciDeviceInfo {
  /** Its address, `0000:00:03.0`. */
  address: PciAddress;
  /** Vendor ID (16 bits). */
  vendor: number;
  /** Device ID (16 bits). */
  device: number;
  /** Class code (24 bits: class, subclass, programming interface). */
  class: number;
  /** Bound driver's name, or null when none is bound. */
  driver: string | null;
  /** IOMMU group number, or null when the device has none (no IOMMU). */
  iommuGroup: number | null;
}

/**
 * The PCI devices sysfs shows under `root` (default `/sys`; tests pass a fake tree): ids, driver,
 * IOMMU group, VFIO cdev, and binding to a driver.
 */
export class PciSysfs {
  /** Reads sysfs under `root`; nothing is read until a method asks. */
  constructor(readonly root: string = DEFAULT_SYSFS) {}

  /** The device's directory, `<root>/bus/pci/devices/<addr>` (whether it exists or not). */
  devicePath(addr: PciAddress): string {
    return join(this.root, 'bus/pci/devices', addr);
  }

  /** Whether the device is on the bus (its sysfs directory exists). */
  exists(addr: PciAddress): boolean {
    return existsSync(this.devicePath(addr));
  }

  /** Throws with the listing command when the device does not exist. */
  requireDevice(addr: PciAddress): void {
    if (!this.exists(addr)) {
      throw new VfioError(
        VfioErrorCode.NO_DEVICE,
        `PCI device ${addr} not found (${this.devicePath(addr)} does not exist): list devices with lspci -D`,
      );
    }
  }

  /** A hex id file (`0x8086`) whose value fits `max`: anything else is malformed, not NaN. */
  #readHex(addr: PciAddress, file: string, max: number): number {
    const path = join(this.devicePath(addr), file);
    const text = fromSysfs(path, (p) => readFileSync(p, 'utf8')).trim();
    const value = /^(0x)?[0-9a-f]{1,8}$/i.test(text) ? parseInt(text, 16) : NaN;
    if (!(value <= max))
      throw new VfioError(
        VfioErrorCode.MALFORMED,
        `sysfs: ${path} holds '${text}', not a hex number up to ${hex(max)}`,
      );
    return value;
  }

  /** The bound driver's name, or null. */
  driver(addr: PciAddress): string | null {
    try {
      return basename(readlinkSync(join(this.devicePath(addr), 'driver')));
    } catch {
      return null;
    }
  }

  /** The IOMMU group number, or null when the device is in none. */
  iommuGroup(addr: PciAddress): number | null {
    const path = join(this.devicePath(addr), 'iommu_group');
    let name: string;
    try {
      name = basename(readlinkSync(path));
    } catch {
      return null;
    }
    // Number() would take '1e3', '0x5' or 'abc' (NaN) as well.
    if (!/^\d{1,10}$/.test(name))
      throw new VfioError(VfioErrorCode.MALFORMED, `sysfs: ${path} links to '${name}', not an IOMMU group number`);
    return Number(name);
  }

  /**
   * Whether IOMMU group `group` is a no-IOMMU group: VFIO makes one for a device bound to
   * vfio-pci when there is no IOMMU and no-IOMMU mode is on (its node is /dev/vfio/noiommu-N).
   */
  isNoIommuGroup(group: number): boolean {
    try {
      return (
        readFileSync(join(this.root, 'kernel/iommu_groups', String(group), 'name'), 'utf8').trim() === 'vfio-noiommu'
      );
    } catch {
      return false;
    }
  }

  /** The name of the device's VFIO cdev (`vfio0`, `noiommu-vfio0`), or null when the kernel made none. */
  vfioCdev(addr: PciAddress): string | null {
    try {
      return readdirSync(join(this.devicePath(addr), 'vfio-dev')).find((n) => /^(noiommu-)?vfio\d+$/.test(n)) ?? null;
    } catch {
      return null;
    }
  }

  /** The device's ids, driver and IOMMU group; throws when it does not exist or a file is malformed. */
  info(addr: PciAddress): PciDeviceInfo {
    this.requireDevice(addr);
    return {
      address: addr,
      vendor: this.#readHex(addr, 'vendor', 0xffff),
      device: this.#readHex(addr, 'device', 0xffff),
      class: this.#readHex(addr, 'class', 0xffffff),
      driver: this.driver(addr),
      iommuGroup: this.iommuGroup(addr),
    };
  }

  /** Every device address on the bus, sorted. */
  list(): PciAddress[] {
    const dir = join(this.root, 'bus/pci/devices');
    return fromSysfs(dir, (d) => readdirSync(d), VfioErrorCode.NO_DEVICE)
      .map(parsePciAddress)
      .sort();
  }

  /** The addresses of every device in IOMMU group `group`, sorted. */
  groupMembers(group: number): PciAddress[] {
    const dir = join(this.root, 'kernel/iommu_groups', String(group), 'devices');
    return fromSysfs(dir, (d) => readdirSync(d), VfioErrorCode.NO_IOMMU)
      .filter((n) => /^[0-9a-f]{4}:/i.test(n))
      .map(parsePciAddress)
      .sort();
  }

  /**
   * The device's `driver_override`, or null when none is set (the file reads `(null)`). The read
   * takes the device's lock (seen on 6.1), which an unbind holds until every holder has closed
   * the device: from a process that holds it open while it is being unbound, the read never
   * returns.
   */
  driverOverride(addr: PciAddress): string | null {
    try {
      const text = readFileSync(join(this.devicePath(addr), 'driver_override'), 'utf8').trim();
      return text === '' || text === '(null)' ? null : text;
    } catch {
      return null;
    }
  }

  /**
   * Puts the device back on `driver` (null: no driver) with `override` as its driver_override
   * (null: none), whatever it is bound to now: what `vfio unbind --restore` does. Needs root.
   */
  restoreDriver(addr: PciAddress, driver: string | null, override: string | null): void {
    this.requireDevice(addr);
    writeFileSync(join(this.devicePath(addr), 'driver_override'), override ?? '\n'); // a newline clears it
    const current = this.driver(addr);
    if (current === driver) return;
    if (current !== null) writeFileSync(join(this.devicePath(addr), 'driver/unbind'), addr);
    if (driver === null) return;
    writeFileSync(join(this.root, 'bus/pci/drivers', driver, 'bind'), addr);
    const now = this.driver(addr);
    if (now !== driver)
      throw new VfioError(
        VfioErrorCode.NOT_VFIO_BOUND,
        `putting ${addr} back on ${driver} failed: it is bound to ${now ?? 'no driver'}; is the ${driver} module loaded (modprobe ${driver})?`,
      );
  }

  /**
   * Binds the device to `driver` (vfio-pci by default) through driver_override, unbinding
   * it from its current driver first. Needs root.
   */
  bind(addr: PciAddress, driver = 'vfio-pci'): void {
    this.requireDevice(addr);
    const current = this.driver(addr);
    if (current === driver) return;
    writeFileSync(join(this.devicePath(addr), 'driver_override'), driver);
    if (current !== null) writeFileSync(join(this.devicePath(addr), 'driver/unbind'), addr);
    writeFileSync(join(this.root, 'bus/pci/drivers_probe'), addr);
    const now = this.driver(addr);
    if (now !== driver) {
      throw new VfioError(
        VfioErrorCode.NOT_VFIO_BOUND,
        `binding ${addr} to ${driver} failed: it is bound to ${now ?? 'no driver'}; is the ${driver} module loaded (modprobe ${driver})?`,
      );
    }
  }
}

/** `read(path)`; a failure becomes the coded error of `sysfsError`, with `missing` for ENOENT. */
function fromSysfs<T>(path: string, read: (path: string) => T, missing?: VfioErrorCode): T {
  try {
    return read(path);
  } catch (e) {
    throw sysfsError(e, path, missing);
  }
}

/**
 * A sysfs file or directory that could not be read, as a coded error naming it: `missing` for
 * ENOENT (what its absence means), PERMISSION for EACCES and EPERM, MALFORMED otherwise.
 */
function sysfsError(e: unknown, path: string, missing: VfioErrorCode = VfioErrorCode.MALFORMED): VfioError {
  const errno = (e as NodeJS.ErrnoException).code;
  const code =
    errno === 'ENOENT'
      ? missing
      : errno === 'EACCES' || errno === 'EPERM'
        ? VfioErrorCode.PERMISSION
        : VfioErrorCode.MALFORMED;
  const what = errno === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}`;
  return new VfioError(code, `sysfs: ${what} (${errno ?? String(e)})`, { cause: e });
}

/** The shell commands that bind `addr` to vfio-pci, for error messages. */
export function bindCommand(addr: PciAddress, sysfsRoot = DEFAULT_SYSFS): string {
  const dev = join(sysfsRoot, 'bus/pci/devices', addr);
  return `echo vfio-pci > ${dev}/driver_override && echo ${addr} > ${dev}/driver/unbind; echo ${addr} > ${join(sysfsRoot, 'bus/pci/drivers_probe')}`;
}
