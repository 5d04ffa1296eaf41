/**
 * An iommufd IOAS with the devices opened in it through their cdevs (`/dev/vfio/devices/vfioN`):
 * the kernel's current way into VFIO. Each device is bound to the iommufd and attached to the IOAS.
 */
import {
  O_RDWR,
  structBuffer,
  vfio_device_attach_iommufd_pt,
  vfio_device_bind_iommufd,
  VFIO_DEVICE_BIND_FLAG_TOKEN,
  VfioError,
  VfioErrorCode,
} from '../../../structs/index.js';
import { notViableMessage, viabilityBlockers, type PciAddress } from '../../pci/index.js';
import { bufferAddress, describeHolders, sysClose, sysIoctl, sysOpen } from '../../sys/index.js';
import { explainBindFailure } from './refusals.js';
import { explainVfTokenRefusal } from './vf-token-refusal.js';
import { parseVfToken } from '../device/vf-token.js';
import { IommufdIoas, type IommufdOptions } from '../../iommu/index.js';
import { BackedContext } from './backed.js';
import { Device } from '../device/device.js';
import { openAgain } from '../device/opening.js';
import { KernelChannel } from '../device/kernel-channel.js';
import type { DeviceOptions } from '../device/opening.js';
import { CDEV_DIR, cdevNode } from './locate.js';
import { locateVfioDevice } from './locate-mdev.js';

/** Options of an `IommufdContext`. */
export interface IommufdContextOptions extends IommufdOptions {
  /** Root of sysfs, for finding devices (default `/sys`). */
  sysfsRoot?: string;
  /** Where the device cdevs are (default `/dev/vfio/devices`). */
  cdevDir?: string;
}

/**
 * An iommufd IOAS with the devices opened in it through their cdevs (`/dev/vfio/devices/vfioN`):
 * the kernel's current way into VFIO. Closing it closes its devices, then the IOAS and the iommufd.
 */
export class IommufdContext extends BackedContext<IommufdIoas> {
  /** Where the device cdevs are. */
  readonly cdevDir: string;
  readonly #devices = new Map<string, Device>();

  /**
   * Opens `/dev/iommu` and allocates the IOAS the devices will be attached to. `adopted`
   * (internal, for `receiveDevice`): an iommufd fd handed to this process and its IOAS.
   */
  constructor(options: IommufdContextOptions = {}, adopted?: { fd: number; ioasId: number }) {
    super(new IommufdIoas(options, adopted), options.sysfsRoot);
    this.cdevDir = options.cdevDir ?? CDEV_DIR;
  }

  /** The id of this context's IOAS within the iommufd. */
  get ioasId(): number {
    return this.backend.ioasId;
  }

  /** The devices opened in this context. */
  get devices(): Device[] {
    return [...this.#devices.values()];
  }

  /**
   * Opens the device at `address` through its cdev, binds it to this iommufd
   * (`VFIO_DEVICE_BIND_IOMMUFD`) and attaches it to the IOAS (`VFIO_DEVICE_ATTACH_IOMMUFD_PT`).
   * While it is open, asking again returns the same `Device`. `address` is a PCI address or a
   * mediated device's UUID (bare or `mdev:UUID`; an mdev is emulated: VFIO binds it to the iommufd
   * as an access, through which its vendor driver reaches the IOAS's memory).
   */
  device(address: string, options: DeviceOptions = {}): Device {
    this.check();
    const loc = locateVfioDevice(this.sysfs, address);
    const open = this.#devices.get(loc.address);
    if (open && !open.closed) return openAgain(open, options);
    const token = options.vfToken === undefined ? undefined : parseVfToken(options.vfToken, `for ${loc.address}`);
    if (loc.noIommu)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${loc.address} is in no-IOMMU group ${loc.group}: this library opens no-IOMMU devices through the container; use { iommu: 'noiommu' }`,
      );
    const path = cdevNode(loc, this.cdevDir);
    if (!path)
      throw new VfioError(
        VfioErrorCode.UNAVAILABLE,
        `${loc.address} has no VFIO cdev in ${this.cdevDir}: the kernel needs CONFIG_VFIO_DEVICE_CDEV=y; use { iommu: 'type1' }`,
      );
    // The kernel refuses the bind of a device whose group has a member on a host driver; say why first.
    if (viabilityBlockers(this.sysfs, loc.group).length > 0)
      throw new VfioError(VfioErrorCode.GROUP_NOT_VIABLE, notViableMessage(this.sysfs, loc.group));
    const groupPath = `/dev/vfio/${loc.group}`;
    // The error's code is ERR_VFIO_DEVICE_BUSY (the errno on a cdev); the hint names the holders.
    const fd = sysOpen(path, O_RDWR, 0, {
      EBUSY: () =>
        `${loc.address} is already open: ${path} is held by ${describeHolders(path)}, and its group ${groupPath} by ${describeHolders(groupPath)}; a device is open in one place at a time: close it there first`,
    });
    let dev: Device;
    try {
      // The token (6.17 and later) by address: `token` stays referenced until the ioctl returns.
      const bind = structBuffer(vfio_device_bind_iommufd, {
        argsz: vfio_device_bind_iommufd.size,
        flags: token ? VFIO_DEVICE_BIND_FLAG_TOKEN : 0,
        iommufd: this.fd,
        token_uuid_ptr: token ? bufferAddress(token.bytes) : 0n,
      });
      sysIoctl(fd, 'VFIO_DEVICE_BIND_IOMMUFD', bind, `${loc.address} (${path})`);
      const attach = structBuffer(vfio_device_attach_iommufd_pt, {
        argsz: vfio_device_attach_iommufd_pt.size,
        flags: 0,
        pt_id: this.ioasId,
      });
      sysIoctl(fd, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', attach, `${loc.address} to IOAS ${this.ioasId}`);
      dev = new Device({
        context: this,
        iommuGroup: loc.group,
        address: loc.address,
        channel: new KernelChannel(fd, loc.address),
        forget: (d) => this.#forget(d),
        ...options,
      });
    } catch (e) {
      sysClose(fd, path);
      const told = explainVfTokenRefusal(e, loc.address, token, this.sysfs);
      throw told === e ? explainBindFailure(e, loc.address, path, loc.group) : told;
    }
    this.#devices.set(loc.address, dev);
    return dev;
  }

  /**
   * @internal Makes the `Device` of a cdev fd handed to this process (`receiveDevice`), already
   * bound to this iommufd and attached to its IOAS: the fd is the device's (closed on failure).
   */
  adoptDevice(fd: number, address: PciAddress, iommuGroup: number, options: DeviceOptions = {}): Device {
    this.check();
    let dev: Device;
    try {
      dev = new Device({
        context: this,
        iommuGroup,
        address,
        channel: new KernelChannel(fd, address),
        forget: (d) => this.#forget(d),
        ...options,
      });
    } catch (e) {
      sysClose(fd);
      throw e;
    }
    this.#devices.set(address, dev);
    return dev;
  }

  #forget(dev: { readonly address: string }): void {
    if (this.#devices.get(dev.address) === dev) this.#devices.delete(dev.address);
  }

  /** Devices first (their BAR mappings keep the attachment alive), then the IOAS and the iommufd. */
  protected children(): Device[] {
    return [...this.#devices.values()];
  }

  protected override release(): void {
    super.release();
    this.#devices.clear();
  }
}
