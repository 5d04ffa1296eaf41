/**
 * SR-IOV as sysfs shows it: a physical function's `sriov_totalvfs`, `sriov_numvfs` and
 * `virtfnN` links to its virtual functions, and a virtual function's `physfn` link back.
 * Writing `sriov_numvfs` asks the PF's driver to create or remove the VFs.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { VfioError, VfioErrorCode, VfioRangeError } from '../../structs/index.js';
import { parsePciAddress, type PciAddress } from './address.js';
import type { PciSysfs } from './sysfs.js';

/** vfio-pci creates VFs only with this module parameter (off by default). */
export const SRIOV_PARAMETER = 'vfio_pci.enable_sriov=1';

/** How to turn SR-IOV on in vfio-pci, for messages. */
export const TURN_SRIOV_ON = `boot with ${SRIOV_PARAMETER} (vfio-pci built in), load the module with modprobe vfio-pci enable_sriov=1, or as root: echo Y > /sys/module/vfio_pci/parameters/enable_sriov`;

/** A physical function's SR-IOV state. */
export interface SriovState {
  /** How many VFs the device can have (`sriov_totalvfs`). */
  totalVfs: number;
  /** How many it has now (`sriov_numvfs`). */
  numVfs: number;
  /** Their addresses, in VF order (`virtfn0`, `virtfn1`, ...). */
  vfs: PciAddress[];
}

const readInt = (path: string): number => Number.parseInt(readFileSync(path, 'utf8').trim(), 10);

/** The SR-IOV state of `addr`, or null when it is not an SR-IOV physical function. */
export function sriovState(sysfs: PciSysfs, addr: PciAddress): SriovState | null {
  const dir = sysfs.devicePath(addr);
  if (!existsSync(join(dir, 'sriov_totalvfs'))) return null;
  const links = readdirSync(dir).filter((f) => /^virtfn\d+$/.test(f));
  links.sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  return {
    totalVfs: readInt(join(dir, 'sriov_totalvfs')),
    numVfs: readInt(join(dir, 'sriov_numvfs')),
    vfs: links.map((l) => parsePciAddress(basename(readlinkSync(join(dir, l))))),
  };
}

/** The physical function of `addr` when it is a virtual function (its `physfn` link), else null. */
export function physfnOf(sysfs: PciSysfs, addr: PciAddress): PciAddress | null {
  const link = join(sysfs.devicePath(addr), 'physfn');
  return existsSync(link) ? parsePciAddress(basename(readlinkSync(link))) : null;
}

/**
 * Writes `count` to the PF's `sriov_numvfs` (0 removes its VFs). Refusals are coded: not an
 * SR-IOV PF, more VFs than it has, VFs already enabled, vfio-pci's SR-IOV off, not root.
 */
export function writeNumVfs(sysfs: PciSysfs, addr: PciAddress, count: number): void {
  const state = sriovState(sysfs, addr);
  if (!state)
    throw new VfioError(
      VfioErrorCode.UNSUPPORTED,
      `${addr} is not an SR-IOV physical function (no sriov_totalvfs in ${sysfs.devicePath(addr)}): the device has no SR-IOV capability, or the kernel lacks CONFIG_PCI_IOV`,
    );
  if (count > state.totalVfs)
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `${addr} can have at most ${state.totalVfs} VFs (sriov_totalvfs), not ${count}`,
    );
  if (count > 0 && state.numVfs > 0 && state.numVfs !== count)
    throw new VfioError(
      VfioErrorCode.INVALID_STATE,
      `${addr} has ${state.numVfs} VFs enabled already: disable them first (disableVfs()), then enable ${count}`,
    );
  if (count === state.numVfs) return;
  const path = join(sysfs.devicePath(addr), 'sriov_numvfs');
  try {
    writeFileSync(path, String(count));
  } catch (e) {
    throw numVfsError(e, addr, path, count);
  }
}

function numVfsError(e: unknown, addr: PciAddress, path: string, count: number): VfioError {
  const errno = (e as NodeJS.ErrnoException).code ?? String(e);
  const head = `writing ${count} to ${path} failed (${errno})`;
  switch (errno) {
    case 'ENOENT':
      // vfio-pci's sriov_configure answers ENOENT while its enable_sriov parameter is off.
      return new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${head}: vfio-pci creates VFs only when its enable_sriov parameter is on: ${TURN_SRIOV_ON}`,
        { cause: e },
      );
    case 'EACCES':
    case 'EPERM':
      return new VfioError(VfioErrorCode.PERMISSION, `${head}: only root may enable or disable VFs of ${addr}`, {
        cause: e,
      });
    default:
      return new VfioError(VfioErrorCode.SYSCALL, `${head}: the PF's driver refused; the kernel log (dmesg) says why`, {
        cause: e,
      });
  }
}
