/**
 * `openDevice`: one call from an address (PCI, mdev UUID or `vfio-user:PATH`) to an open device
 * with bus mastering on, in a new IOMMU context of the chosen kind or a given one.
 */
import {
  Container,
  IommufdContext,
  chooseIommu,
  locateVfioDevice,
  parseVfioAddress,
  type ContainerOptions,
  type Device,
  type DeviceOptions,
  type IommuChoice,
  type IommuContext,
  type IommufdContextOptions,
} from './vfio/index.js';
import { PciSysfs } from './pci/index.js';
import { openUserDevice, VFIO_USER_PREFIX } from './vfio-user/index.js';

export interface OpenDeviceOptions extends ContainerOptions, IommufdContextOptions, DeviceOptions {
  /**
   * The way into VFIO: `auto` (default) takes iommufd where `/dev/iommu` and the device's cdev
   * exist, no-IOMMU for a device in a no-IOMMU group, else the legacy container (`type1`).
   * Asking for one the machine lacks throws, naming the missing kernel option. The environment
   * variable `VFIO_TS_IOMMU` sets the default for a whole process (the test VM uses it).
   */
  iommu?: IommuChoice;
  /**
   * An IOMMU context to open the device in (a `Container` or an `IommufdContext`), to share one
   * IOVA space between devices. When absent a new one is made, and closing the device closes it.
   */
  context?: IommuContext;
  /** Set the bus-master bit so the device can do DMA and MSI (default true). */
  busMaster?: boolean;
  /** A `vfio-user:` device: the most milliseconds one command waits for its server (default 10 000). */
  timeoutMs?: number;
}

/**
 * One-call bring-up: validates the address, checks in sysfs that the device exists, has an
 * IOMMU group and is on vfio-pci, opens an IOMMU context of the chosen kind (or uses the one
 * given), opens the device in it and turns bus mastering on.
 *
 * @param address PCI address, `0000:00:03.0` or short `00:03.0`; a mediated device's UUID, bare
 *   or `mdev:UUID` (`createMdev` makes one; its `address` is then the bare UUID); or
 *   `vfio-user:PATH`, a device a vfio-user server (`serveDevice`, or any other) serves on the UNIX
 *   socket PATH: no root, no IOMMU, the same `Device`.
 */
export function openDevice(address: string, options: OpenDeviceOptions = {}): Device {
  if (typeof address === 'string' && address.startsWith(VFIO_USER_PREFIX)) return openServed(address, options);
  const addr = parseVfioAddress(address); // before any file is touched
  const given = options.context;
  const deviceOptions: DeviceOptions = { dmaBits: options.dmaBits, vfToken: options.vfToken };
  let context: IommuContext;
  if (given) {
    context = given;
  } else {
    const loc = locateVfioDevice(new PciSysfs(options.sysfsRoot), addr);
    const kind = chooseIommu(options.iommu ?? process.env.VFIO_TS_IOMMU ?? 'auto', loc);
    context =
      kind === 'iommufd' ? new IommufdContext(options) : new Container({ ...options, noIommu: kind === 'noiommu' });
  }
  let dev: Device;
  try {
    dev = context.device(addr, deviceOptions);
  } catch (e) {
    if (!given) context.close();
    throw e;
  }
  if (!given) dev.onClose(() => context.close());
  return withBusMaster(dev, options);
}

/** A device a vfio-user server serves: the same `Device`. */
function openServed(address: string, options: OpenDeviceOptions): Device {
  const path = address.slice(VFIO_USER_PREFIX.length);
  return withBusMaster(openUserDevice(path, { dmaBits: options.dmaBits, timeoutMs: options.timeoutMs }), options);
}

/** Turns bus mastering on unless told not to; a device that refuses is closed. */
function withBusMaster(dev: Device, options: OpenDeviceOptions): Device {
  try {
    if (options.busMaster !== false) dev.setBusMaster(true);
  } catch (e) {
    dev.close();
    throw e;
  }
  return dev;
}
