/**
 * The device's side of `vfio doctor ADDRESS`: that it is there, on vfio-pci, in an IOMMU group
 * that is viable, and that the calling user may open what VFIO needs for it.
 */
import { join } from 'node:path';
import { bindCommand, PciSysfs, viabilityBlockers, type PciAddress } from '../../pci/index.js';
import { check, type DoctorCheck } from './check.js';
import { waysIn, type WaysIn } from './machine-checks.js';
import type { MachineFacts } from './facts.js';

/** The checks of one device; `want` is the way in asked for (`auto` or a name). */
export function deviceChecks(m: MachineFacts, addr: PciAddress, want: string): DoctorCheck[] {
  const sysfs = new PciSysfs(m.sysfs);
  if (!sysfs.exists(addr))
    return [
      check(
        'device',
        'device',
        'fail',
        `${addr} is not on the PCI bus (${sysfs.devicePath(addr)} does not exist)`,
        'vfio list (or lspci -D) shows the addresses there are',
      ),
    ];
  const out: DoctorCheck[] = [];
  const driver = sysfs.driver(addr);
  out.push(
    driver === 'vfio-pci'
      ? check('driver', 'driver', 'ok', `${addr} is bound to vfio-pci`)
      : check(
          'driver',
          'driver',
          'fail',
          `${addr} is ${driver ? `bound to ${driver}` : 'bound to no driver'}, not vfio-pci`,
          `as root: vfio bind ${addr}  (or: ${bindCommand(addr, m.sysfs)})`,
        ),
  );
  const group = sysfs.iommuGroup(addr);
  if (group === null) {
    out.push(
      check(
        'group',
        'IOMMU group',
        'fail',
        `${addr} is in no IOMMU group: there is no IOMMU for it${driver === 'vfio-pci' ? '' : ', and no-IOMMU groups are made only for vfio-pci devices'}`,
        'turn the IOMMU on (see above), or bind it to vfio-pci with no-IOMMU mode on',
      ),
    );
    return out;
  }
  const noiommu = sysfs.isNoIommuGroup(group);
  const members = sysfs.groupMembers(group);
  const others = members.filter((a) => a !== addr);
  const withOthers = others.length
    ? `, with ${others.map((a) => `${a} (${sysfs.driver(a) ?? 'no driver'})`).join(', ')}`
    : ' alone';
  out.push(
    check(
      'group',
      'IOMMU group',
      noiommu ? 'warn' : 'ok',
      `${noiommu ? 'no-IOMMU group' : 'group'} ${group}${withOthers}`,
      noiommu
        ? 'the device can reach all memory: trust it and the program (no-IOMMU mode is for root only)'
        : undefined,
    ),
  );
  const blockers = viabilityBlockers(sysfs, group);
  out.push(
    blockers.length === 0
      ? check('viable', 'group viable', 'ok', `every member of group ${group} is on vfio-pci, a safe driver or none`)
      : check(
          'viable',
          'group viable',
          'fail',
          `group ${group} is not viable: ${blockers.map((a) => `${a} is on ${sysfs.driver(a)}`).join(', ')}`,
          `as root, bind ${blockers.length > 1 ? 'them' : 'it'} to vfio-pci too: ${blockers.map((a) => `vfio bind ${a}`).join('; ')}`,
        ),
  );
  out.push(accessCheck(m, sysfs, addr, group, noiommu, want));
  return out;
}

/** The files the way in opens for this device, and whether this user may open each. */
function accessCheck(
  m: MachineFacts,
  sysfs: PciSysfs,
  addr: PciAddress,
  group: number,
  noiommu: boolean,
  want: string,
): DoctorCheck {
  const ways: WaysIn = waysIn(m);
  const cdev = sysfs.vfioCdev(addr);
  const groupFile = join(m.dev, 'vfio', noiommu ? `noiommu-${group}` : String(group));
  const viaCdev = cdev !== null && ways.iommufd && (want === 'iommufd' || (want === 'auto' && !noiommu));
  const files = viaCdev
    ? [join(m.dev, 'iommu'), join(m.dev, 'vfio/devices', cdev)]
    : [join(m.dev, 'vfio/vfio'), groupFile];
  const refused = files.filter((f) => !m.canOpen(f));
  const who = m.uid === 0 ? 'root' : `uid ${m.uid}`;
  if (refused.length === 0) return check('access', 'device files', 'ok', `${who} may open ${files.join(' and ')}`);
  return check(
    'access',
    'device files',
    'fail',
    `${who} may not open ${refused.join(' and ')} (read and write)`,
    `as root: chown ${m.uid} ${refused.join(' ')} (or a udev rule, e.g. SUBSYSTEM=="vfio", OWNER="..."), or run as root`,
  );
}
