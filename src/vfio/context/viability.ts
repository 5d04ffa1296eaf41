/**
 * A group is viable when no member is on a host driver: only then may VFIO hand any of its
 * devices to user space (the kernel checks the same, through the group or the iommufd bind).
 */
import { bindCommand, type PciAddress, type PciSysfs } from '../../pci/index.js';

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
