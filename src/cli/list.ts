/** `vfio list`: every PCI device with its ids, class, driver, IOMMU group and whether VFIO can use the group. */
import { NOIOMMU_PARAMETER, TURN_IOMMU_ON, PciSysfs, blocksViability, type PciAddress } from '../pci/index.js';
import { pciIdentity, table } from './format.js';

/** One row of `vfio list`. */
export interface ListedDevice {
  address: PciAddress;
  /** `1234` */
  vendor: string;
  /** `11e8` */
  device: string;
  /** 24-bit class code, `00ff00` */
  class: string;
  className: string;
  driver: string | null;
  iommuGroup: number | null;
  /** Every member of the IOMMU group (this device included). */
  groupMembers: PciAddress[];
  /**
   * True when every member of the group is bound to vfio-pci (or pci-stub, pcieport) or to no
   * driver; false otherwise and when the device has no IOMMU group.
   */
  viable: boolean;
  /** The members whose drivers make the group not viable, with their drivers. */
  blockers: Array<{ address: PciAddress; driver: string }>;
}

/** Reads every device of `sysfs` and works out group viability. */
export function listDevices(sysfs: PciSysfs): ListedDevice[] {
  const groups = new Map<number, PciAddress[]>();
  const membersOf = (g: number): PciAddress[] => {
    let m = groups.get(g);
    if (!m) {
      try {
        m = sysfs.groupMembers(g);
      } catch {
        m = [];
      }
      groups.set(g, m);
    }
    return m;
  };
  return sysfs.list().map((addr) => {
    const info = sysfs.info(addr);
    const members = info.iommuGroup === null ? [] : membersOf(info.iommuGroup);
    const blockers = members
      .map((m) => ({ address: m, driver: m === addr ? info.driver : sysfs.driver(m) }))
      .filter((m): m is { address: PciAddress; driver: string } => blocksViability(m.driver));
    return {
      address: addr,
      ...pciIdentity(info),
      iommuGroup: info.iommuGroup,
      groupMembers: members,
      viable: info.iommuGroup !== null && blockers.length === 0,
      blockers,
    };
  });
}

/** The table `vfio list` prints. */
export function formatDeviceList(devices: ListedDevice[]): string {
  if (devices.length === 0) return 'no PCI devices';
  const banner = devices.every((d) => d.iommuGroup === null)
    ? [
        `No device has an IOMMU group: the IOMMU is off (or the machine has none), so VFIO cannot use any device. Turn it on (${TURN_IOMMU_ON}), or use VFIO's unsafe no-IOMMU mode (${NOIOMMU_PARAMETER}), then bind a device with vfio bind ADDRESS.`,
        '',
      ]
    : [];
  // With the banner, each row need not say it again.
  const noGroup = banner.length > 0 ? 'no' : 'no (no IOMMU group)';
  const rows = devices.map((d) => [
    d.address,
    `${d.vendor}:${d.device}`,
    d.class.slice(0, 4),
    d.driver ?? '-',
    d.iommuGroup === null ? '-' : String(d.iommuGroup),
    d.iommuGroup === null
      ? noGroup
      : d.viable
        ? 'yes'
        : `no (${d.blockers.map((b) => `${b.address} on ${b.driver}`).join(', ')})`,
    d.className,
  ]);
  return [...banner, table(['ADDRESS', 'ID', 'CLASS', 'DRIVER', 'GROUP', 'VFIO-VIABLE', 'DESCRIPTION'], rows)].join(
    '\n',
  );
}
