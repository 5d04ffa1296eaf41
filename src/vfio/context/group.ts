/** A VFIO group (`/dev/vfio/N`): the unit of isolation the IOMMU gives, attached to a container. */
import {
  O_RDWR,
  VFIO_GROUP_FLAGS_CONTAINER_SET,
  VFIO_GROUP_FLAGS_VIABLE,
  decodeStruct,
  structBuffer,
  vfio_group_status,
  SysError,
  VfioError,
  VfioErrorCode,
  VfioRangeError,
} from '../../../structs/index.js';
import { notViableMessage, type PciAddress } from '../../pci/index.js';
import { parseVfioAddress } from './locate-mdev.js';
import { closeAll, describeHolders, Resource, sysClose, sysIoctl, sysOpen } from '../../sys/index.js';
import { explainGetDeviceFdFailure } from './refusals.js';
import { explainVfTokenRefusal } from './vf-token-refusal.js';
import { parseVfToken } from '../device/vf-token.js';
import { Device } from '../device/device.js';
import { openAgain } from '../device/opening.js';
import { KernelChannel } from '../device/kernel-channel.js';
import type { DeviceContext, DeviceGroup, DeviceOptions } from '../device/opening.js';

/** What a group needs of its container (a `Container`). */
export interface GroupContainer extends DeviceContext {
  /** The container's fd, which `VFIO_GROUP_SET_CONTAINER` takes. */
  readonly fd: number;
  /** The groups open in the container, for a hot reset's proof of ownership. */
  readonly groups: readonly DeviceGroup[];
  /** Called once the group joined: the container sets its IOMMU then. */
  attached(): void;
  /** Called when the group leaves. */
  detached(group: Group): void;
}

/**
 * A VFIO group (`/dev/vfio/N`) attached to a `Container`, from `container.group(n)`: the unit of
 * isolation the IOMMU gives. Closing it closes its devices and detaches it.
 */
export class Group extends Resource implements DeviceGroup {
  /** The IOMMU group number. */
  readonly number: number;
  /** Its node: `/dev/vfio/N`, or `/dev/vfio/noiommu-N` in a no-IOMMU container. */
  readonly path: string;
  /** The group's fd. */
  readonly fd: number;
  /** The container the group is attached to (a `Container`). */
  readonly container: GroupContainer;
  readonly #devices = new Map<string, Device>();
  #shared = false;

  /**
   * Use `container.group(n)`. Opens the group, checks it is viable and attaches it; or
   * (`adoptedFd`, a group handed to this process) checks that the fd is viable and already in a
   * container, and closes it on failure.
   */
  constructor(container: GroupContainer, number: number, adoptedFd?: number) {
    super();
    if (!Number.isInteger(number) || number < 0)
      throw new VfioRangeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `IOMMU group must be a non-negative integer, got ${number}`,
      );
    this.container = container;
    this.number = number;
    // A no-IOMMU group's node carries the prefix, so a Type1 container can never open one by mistake.
    this.path = container.kind === 'noiommu' ? `/dev/vfio/noiommu-${number}` : `/dev/vfio/${number}`;
    const path = this.path;
    this.#shared = adoptedFd !== undefined;
    // The error's code is ERR_VFIO_GROUP_BUSY (the errno on a group node); the hint names the holder.
    this.fd =
      adoptedFd ??
      sysOpen(path, O_RDWR, 0, {
        EBUSY: () =>
          `IOMMU group ${number} is already open, held by ${describeHolders(path)}: a group is open in one place at a time; close it there first (in this process: close the other Container or device)`,
      });
    try {
      const status = structBuffer(vfio_group_status, { argsz: vfio_group_status.size });
      sysIoctl(this.fd, 'VFIO_GROUP_GET_STATUS', status, this.path);
      const { flags } = decodeStruct<{ flags: number }>(status, vfio_group_status);
      if ((flags & VFIO_GROUP_FLAGS_VIABLE) === 0)
        throw new VfioError(VfioErrorCode.GROUP_NOT_VIABLE, notViableMessage(container.sysfs, number));
      if (adoptedFd !== undefined) {
        // The sender's container holds it; a handed group that is in none is no use to a device.
        if ((flags & VFIO_GROUP_FLAGS_CONTAINER_SET) === 0)
          throw new VfioError(VfioErrorCode.HANDOFF, `${this.name} was handed in no container`);
        return;
      }
      const cfd = Buffer.alloc(4);
      cfd.writeInt32LE(container.fd);
      sysIoctl(this.fd, 'VFIO_GROUP_SET_CONTAINER', cfd, this.path);
      container.attached();
    } catch (e) {
      sysClose(this.fd, this.path);
      throw e;
    }
  }

  get name(): string {
    return `group ${this.number} (${this.path})`;
  }

  /** The devices opened from this group. */
  get devices(): Device[] {
    return [...this.#devices.values()];
  }

  /**
   * Opens the device at `address` (which must be in this group: a PCI address, or an mdev's UUID)
   * with VFIO_GROUP_GET_DEVICE_FD; while it is open, asking again returns the same `Device`.
   */
  device(address: string, options: DeviceOptions = {}): Device {
    this.check();
    const addr = parseVfioAddress(address);
    const open = this.#devices.get(addr);
    if (open && !open.closed) return openAgain(open, options);
    const token = options.vfToken === undefined ? undefined : parseVfToken(options.vfToken, `for ${addr}`);
    // vfio-pci reads the token from the name: "ADDRESS vf_token=UUID".
    const name = token ? `${addr} vf_token=${token.text}` : addr;
    let fd: number;
    try {
      fd = sysIoctl(this.fd, 'VFIO_GROUP_GET_DEVICE_FD', Buffer.from(`${name}\0`), `${addr} in ${this.path}`);
    } catch (e) {
      const told = explainVfTokenRefusal(e, addr, token, this.container.sysfs);
      throw told === e ? explainGetDeviceFdFailure(e, addr) : told;
    }
    return this.#track(fd, addr, options);
  }

  /** The `Device` of the fd `fd`, remembered until it closes; the fd is closed if that fails. */
  #track(fd: number, addr: PciAddress, options: DeviceOptions): Device {
    let dev: Device;
    try {
      dev = new Device({
        context: this.container,
        group: this,
        openGroups: () => this.container.groups,
        iommuGroup: this.number,
        address: addr,
        channel: new KernelChannel(fd, addr),
        forget: (d) => this.#forget(d),
        ...options,
      });
    } catch (e) {
      sysClose(fd);
      throw e;
    }
    this.#devices.set(addr, dev);
    return dev;
  }

  /**
   * @internal Makes the `Device` of a device fd handed to this process (`receiveDevice`), which
   * must be of this group: the fd is the device's from then on (closed on failure too).
   */
  adoptDevice(fd: number, address: PciAddress, options: DeviceOptions = {}): Device {
    this.check();
    return this.#track(fd, address, options);
  }

  /** @internal Marks the group as handed to another process: closing leaves it in its container. */
  markShared(): void {
    this.#shared = true;
  }

  #forget(dev: { readonly address: string }): void {
    if (this.#devices.get(dev.address) === dev) this.#devices.delete(dev.address);
  }

  protected release(): void {
    // Devices first: the kernel refuses to detach a group while its device fds are open.
    closeAll([
      ...[...this.#devices.values()].reverse().map((d) => () => d.close()),
      () => {
        // Shared with another process, whose device fd keeps the group in use (EBUSY): the
        // kernel takes it out of the container when the last holder closes it.
        if (this.#shared) return;
        try {
          sysIoctl(this.fd, 'VFIO_GROUP_UNSET_CONTAINER', 0, this.path);
        } catch (e) {
          // EINVAL: the group is no longer in a container. The kernel detaches it itself when
          // its last device is unbound from vfio-pci (the device request interrupt path).
          if (!(e instanceof SysError && e.errnoName === 'EINVAL')) throw e;
        }
      },
      () => sysClose(this.fd, this.path),
      () => this.container.detached(this),
    ]);
    this.#devices.clear();
  }
}
