/**
 * IOMMU groups as VFIO sees them. A group is viable when no member is on a host driver: only
 * then may VFIO hand any of its devices to user space (the kernel checks the same, through the
 * group or the iommufd bind). Worked out from sysfs alone, so `vfio list` needs no more than
 * this layer; and what to do when there are no groups at all.
 */
import type { PciAddress } from './address.js';
import { bindCommand, type PciSysfs } from './sysfs.js';

/** How to turn the IOMMU on, for messages about a device (or a machine) without IOMMU groups. */
export const TURN_IOMMU_ON =
  'intel_iommu=on or amd_iommu=on on the kernel command line, and VT-d / AMD-Vi in the firmware setup';
/** The kernel parameter of VFIO's unsafe no-IOMMU mode. */
export const NOIOMMU_PARAMETER = 'vfio.enable_unsafe_noiommu_mode=1';

/** Drivers that may stay bound to other members of a group in use by VFIO. */
export const VFIO_SAFE_DRIVERS: ReadonlySet<string> = new Set(['vfio-pci', 'pci-stub', 'pcieport']);

/** The members of `group` on a driver that makes the group not viable. */
export function viabilityBlockers(sysfs: PciSysfs, group: number): PciAddress[] {
  return sysfs.groupMembers(group).filter((m) => blocks(sysfs.driver(m)));
}

/** Whether a member on `driver` keeps its group from being viable. */
export const blocks = (driver: string | null): boolean =>
  driver !== null && !VFIO_SAFE_DRIVERS.has(driver) && !driver.includes('vfio');

/** The error text for a group that is not viable: every member with its driver, and the fix. */
export function notViableMessage(sysfs: PciSysfs, group: number): string {
  let members: PciAddress[] = [];
  try {
    members = sysfs.groupMembers(group);
  } catch {
    /* listing is best effort; the message still says what is wrong */
  }
  const lines = members.map((m) => `  ${m}: ${sysfs.driver(m) ?? 'no driver'}`);
  const fixes = members.filter((m) => blocks(sysfs.driver(m))).map((m) => `  ${bindCommand(m, sysfs.root)}`);
  return [
    `IOMMU group ${group} is not viable: every device in a group must be bound to vfio-pci (or have no driver) before any of them can be used. Members:`,
    ...lines,
    ...(fixes.length ? ['Bind the others to vfio-pci (as root):', ...fixes] : []),
  ].join('\n');
}
