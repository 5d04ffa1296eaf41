/**
 * SR-IOV on an open physical function: its VFs (created and removed through sysfs, which asks
 * vfio-pci) and the VF token its VFs' users must present. The token is the PF user's shared
 * secret with them: until it is set, vfio-pci keeps a random one no one knows, so the VFs
 * cannot be opened at all.
 */
import { VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, VfioError, VfioErrorCode } from '../../../structs/index.js';
import { physfnOf, sriovState, writeNumVfs, type PciAddress, type PciSysfs, type SriovState } from '../../pci/index.js';
import { checkInteger } from '../../sys/index.js';
import type { DeviceFeatures } from './features.js';
import { parseVfToken } from './vf-token.js';

/** What SR-IOV needs of its device (a `Device`). */
export interface SriovDevice {
  readonly address: PciAddress;
  readonly name: string;
  readonly features: DeviceFeatures;
  readonly iommu: { readonly sysfs: PciSysfs };
}

/** The SR-IOV side of one open device (`device.sriov`). */
export class Sriov {
  readonly #device: SriovDevice;

  /** @internal Use `device.sriov`. */
  constructor(device: SriovDevice) {
    this.#device = device;
  }

  /** The PF's state now (total and enabled VFs, their addresses), or null when it is not a PF. */
  get state(): SriovState | null {
    return sriovState(this.#device.iommu.sysfs, this.#device.address);
  }

  /** The physical function of this device when it is a VF, else null. */
  get physfn(): PciAddress | null {
    return physfnOf(this.#device.iommu.sysfs, this.#device.address);
  }

  /**
   * Sets the VF token (`VFIO_DEVICE_FEATURE_PCI_VF_TOKEN`): the UUID that opening any of this
   * PF's VFs will need (`openDevice(vf, { vfToken })`). Only an SR-IOV PF on vfio-pci takes it.
   */
  setVfToken(token: string): void {
    const { bytes } = parseVfToken(token, `for setVfToken() of ${this.#device.name}`);
    if (!this.#device.features.has(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN))
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.#device.name} takes no VF token: only an SR-IOV physical function bound to vfio-pci does (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN answered ENOTTY)`,
      );
    this.#device.features.set(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, bytes);
  }

  /**
   * Creates `count` VFs (writes the PF's `sriov_numvfs`; root only) and returns their
   * addresses. vfio-pci binds them to itself and gives each its IOMMU group; opening one takes
   * the token set with `setVfToken()`. vfio-pci does it only with `vfio_pci.enable_sriov=1`.
   */
  enableVfs(count: number): PciAddress[] {
    checkInteger('enableVfs(): count', `of ${this.#device.name}`, count, 1, 0xffff);
    writeNumVfs(this.#device.iommu.sysfs, this.#device.address, count);
    return this.state?.vfs ?? [];
  }

  /** Removes the PF's VFs (writes 0 to `sriov_numvfs`); their users lose them first. */
  disableVfs(): void {
    writeNumVfs(this.#device.iommu.sysfs, this.#device.address, 0);
  }
}
