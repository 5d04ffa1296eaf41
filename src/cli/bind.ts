/**
 * `vfio bind` and `vfio unbind`: moving devices between drivers through sysfs `driver_override`,
 * with what each bind replaced recorded first (bind-state.ts), so `vfio unbind --restore` puts
 * it back, also after a bind that was killed half way.
 */
import { viabilityBlockers, type PciAddress, type PciSysfs } from '../pci/index.js';
import { VfioError, VfioErrorCode } from '../../structs/index.js';
import { BindState, type OriginalBinding } from './bind-state.js';

/** A sysfs write refused: needs root, or a kernel without driver_override. */
function explainSysfs(e: unknown, what: string, path: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM')
    return new VfioError(
      VfioErrorCode.PERMISSION,
      `${what} needs root: writing ${path} was refused (${code}); run it with sudo`,
      { cause: e },
    );
  if (code === 'ENOENT')
    return new VfioError(
      VfioErrorCode.UNSUPPORTED,
      `${what} failed: ${(e as Error).message}; is this a sysfs with driver_override (Linux 3.16+)?`,
      { cause: e },
    );
  return e;
}

const describe = (driver: string | null) => driver ?? 'no driver';

/**
 * Binds `addr` to `driver` (and, with `group`, every other member of its IOMMU group that is on
 * a host driver), recording first what each was on. Returns the lines to print.
 */
export function bindDevice(
  sysfs: PciSysfs,
  addr: PciAddress,
  driver: string,
  group = false,
  state?: BindState,
): string[] {
  sysfs.requireDevice(addr);
  const groupNo = sysfs.iommuGroup(addr);
  const blockers = groupNo === null || driver !== 'vfio-pci' ? [] : viabilityBlockers(sysfs, groupNo);
  const targets = [addr, ...(group ? blockers.filter((a) => a !== addr) : [])].filter(
    (a) => sysfs.driver(a) !== driver,
  );
  const lines: string[] = [];
  if (targets.length > 0) {
    const record = state ?? new BindState();
    for (const a of targets) record.remember(a, { driver: sysfs.driver(a), override: sysfs.driverOverride(a) });
    record.save(); // before any device moves
    for (const a of targets) {
      const before = sysfs.driver(a);
      try {
        sysfs.bind(a, driver);
      } catch (e) {
        throw explainSysfs(e, `binding ${a} to ${driver}`, `${sysfs.devicePath(a)}/driver_override`);
      }
      const node = groupNo !== null && driver === 'vfio-pci' ? ` (/dev/vfio/${groupNo})` : '';
      lines.push(`${a}: ${describe(before)} -> ${driver}${node}`);
    }
  }
  if (!targets.includes(addr)) lines.unshift(`${addr} is already bound to ${driver}`);
  const left = group ? [] : blockers.filter((a) => a !== addr);
  if (left.length > 0)
    lines.push(
      `IOMMU group ${groupNo} is not viable yet: ${left.map((a) => `${a} is on ${describe(sysfs.driver(a))}`).join(', ')}; vfio bind ${addr} --group moves ${left.length > 1 ? 'them' : 'it'} too`,
    );
  return lines;
}

/**
 * Unbinds `addr` (with `group`, every recorded member of its group): with `restore`, back to
 * what `vfio bind` recorded it was on; else to no driver. Returns the lines to print.
 */
export function unbindDevice(
  sysfs: PciSysfs,
  addr: PciAddress,
  restore: boolean,
  group = false,
  state?: BindState,
): string[] {
  sysfs.requireDevice(addr);
  const record = state ?? new BindState();
  const groupNo = sysfs.iommuGroup(addr);
  const members = group && groupNo !== null ? sysfs.groupMembers(groupNo) : [addr];
  // With --group: the members vfio bind moved, and without --restore the address itself.
  const targets = group ? members.filter((a) => record.original(a) !== undefined || (!restore && a === addr)) : [addr];
  if (targets.length === 0)
    throw new VfioError(
      VfioErrorCode.INVALID_STATE,
      `no member of IOMMU group ${groupNo} has a record in ${record.path}: vfio bind moved none of them`,
    );
  const lines: string[] = [];
  for (const a of targets) {
    const original: OriginalBinding | undefined = restore ? record.original(a) : { driver: null, override: null };
    if (!original)
      throw new VfioError(
        VfioErrorCode.INVALID_STATE,
        `${a} has no record in ${record.path} of what it was bound to before vfio bind: vfio unbind ${a} (without --restore) leaves it with no driver`,
      );
    const before = sysfs.driver(a);
    try {
      sysfs.restoreDriver(a, original.driver, original.override);
    } catch (e) {
      throw explainSysfs(e, `unbinding ${a}`, `${sysfs.devicePath(a)}/driver_override`);
    }
    record.forget(a);
    record.save();
    lines.push(`${a}: ${describe(before)} -> ${describe(original.driver)}${restore ? ' (restored)' : ''}`);
  }
  return lines;
}
