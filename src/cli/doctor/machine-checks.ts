/**
 * The machine's side of `vfio doctor`, in the order a person would look: is there an IOMMU and
 * is it on, does it translate, is VFIO there, which ways into it does the kernel offer, are
 * interrupts remapped, and what the user may lock and what hugepages there are.
 */
import { join } from 'node:path';
import { NOIOMMU_PARAMETER, TURN_IOMMU_ON } from '../../pci/index.js';
import { formatSize } from '../../sys/index.js';
import { RLIM_INFINITY } from '../../../structs/index.js';
import { check, type DoctorCheck } from './check.js';
import { exists, listDir, readText, type MachineFacts } from './facts.js';

/** What the kernel's IOMMU devices are, by their name in /sys/class/iommu. */
function iommuKind(name: string): string {
  if (/^dmar\d+$/.test(name)) return 'Intel VT-d';
  if (/^ivhd\d+$/.test(name)) return 'AMD-Vi';
  if (name.startsWith('smmu3.')) return 'Arm SMMUv3';
  if (name.startsWith('smmu.')) return 'Arm SMMU';
  return 'IOMMU';
}

/** The kernel command line's words. */
const cmdline = (m: MachineFacts): string[] => (readText(join(m.proc, 'cmdline')) ?? '').split(/\s+/).filter(Boolean);

/** Whether no-IOMMU mode is on (the vfio module's parameter). */
export const noIommuMode = (m: MachineFacts): boolean =>
  readText(join(m.sysfs, 'module/vfio/parameters/enable_unsafe_noiommu_mode')) === 'Y';

/** The IOMMU units the kernel registered, with their kind. */
export function iommus(m: MachineFacts): string[] {
  return (listDir(join(m.sysfs, 'class/iommu')) ?? []).map((n) => `${n} (${iommuKind(n)})`);
}

export function iommuCheck(m: MachineFacts): DoctorCheck {
  const units = iommus(m);
  if (units.length > 0) return check('iommu', 'IOMMU', 'ok', `${units.join(', ')} in ${join(m.sysfs, 'class/iommu')}`);
  const off = cmdline(m).filter((w) => /^(intel_iommu|amd_iommu|iommu)=off$/.test(w));
  const why = off.length > 0 ? `switched off on the kernel command line (${off.join(' ')})` : 'none registered';
  const found = `no IOMMU: ${join(m.sysfs, 'class/iommu')} is empty (${why})`;
  const turnOn =
    process.arch === 'arm64'
      ? 'the firmware must describe the SMMU (ACPI IORT or the device tree) and the kernel have its driver (CONFIG_ARM_SMMU_V3)'
      : TURN_IOMMU_ON;
  if (noIommuMode(m))
    return check(
      'iommu',
      'IOMMU',
      'warn',
      `${found}; VFIO's no-IOMMU mode is on, without isolation`,
      `for isolation: ${turnOn}`,
    );
  return check(
    'iommu',
    'IOMMU',
    'fail',
    found,
    `${turnOn}; or, without isolation and as root only, ${NOIOMMU_PARAMETER} (taints the kernel)`,
  );
}

/** Whether DMA of host drivers is translated, from the default domain types of the groups. */
export function translationCheck(m: MachineFacts): DoctorCheck | undefined {
  const groups = listDir(join(m.sysfs, 'kernel/iommu_groups')) ?? [];
  const types = new Set(groups.map((g) => readText(join(m.sysfs, 'kernel/iommu_groups', g, 'type'))).filter((t) => t));
  if (types.size === 0) return undefined;
  const list = [...types].sort().join(', ');
  if (types.has('identity'))
    return check(
      'translation',
      'DMA translation',
      'note',
      `groups in passthrough (iommu=pt; domain types: ${list}): host drivers' DMA is not translated, VFIO's is (it gives its groups domains of their own)`,
    );
  return check('translation', 'DMA translation', 'ok', `translated (domain types: ${list})`);
}

export function vfioCheck(m: MachineFacts): DoctorCheck {
  const vfio = exists(m.sysfs, 'module/vfio');
  const pci = exists(m.sysfs, 'bus/pci/drivers/vfio-pci');
  if (vfio && pci) return check('vfio', 'VFIO', 'ok', 'vfio and the vfio-pci driver are loaded (or built in)');
  const missing = !vfio ? 'VFIO is not loaded or built in' : 'the vfio-pci driver is not loaded';
  return check(
    'vfio',
    'VFIO',
    'fail',
    `${missing} (${join(m.sysfs, !vfio ? 'module/vfio' : 'bus/pci/drivers/vfio-pci')} does not exist)`,
    'as root: modprobe vfio-pci (a kernel with CONFIG_VFIO_PCI)',
  );
}

/** The ways into VFIO this kernel offers: the container, iommufd with device cdevs, no-IOMMU. */
export interface WaysIn {
  container: boolean;
  iommufd: boolean;
  noiommu: boolean;
}

export function waysIn(m: MachineFacts): WaysIn {
  return {
    container: exists(m.dev, 'vfio/vfio') && exists(m.sysfs, 'module/vfio_iommu_type1'),
    iommufd: exists(m.dev, 'iommu') && exists(m.dev, 'vfio/devices'),
    noiommu: noIommuMode(m),
  };
}

/**
 * Which ways in there are, against `want` (`auto`: any one will do; a named way: that one).
 * A machine with no IOMMU has only no-IOMMU mode, whatever the nodes.
 */
export function waysInCheck(m: MachineFacts, want: string): DoctorCheck {
  const w = waysIn(m);
  const hasIommu = iommus(m).length > 0;
  const parts = [
    `container ${w.container ? `yes (${join(m.dev, 'vfio/vfio')}, vfio_iommu_type1)` : 'no'}`,
    `iommufd ${w.iommufd ? `yes (${join(m.dev, 'iommu')} and ${join(m.dev, 'vfio/devices')})` : 'no'}`,
    `no-IOMMU ${w.noiommu ? 'on (unsafe: no isolation, taints the kernel)' : 'off'}`,
  ];
  const found = parts.join('; ');
  const fixes: Record<string, string> = {
    type1: `as root: modprobe vfio_iommu_type1 (${join(m.dev, 'vfio/vfio')} comes with vfio)`,
    iommufd:
      'a kernel with CONFIG_IOMMUFD (6.2+) and CONFIG_VFIO_DEVICE_CDEV (6.6+), then as root: modprobe iommufd; or --iommu type1',
    noiommu: `as root: echo Y > ${join(m.sysfs, 'module/vfio/parameters/enable_unsafe_noiommu_mode')} (or ${NOIOMMU_PARAMETER} at boot)`,
  };
  const usable = { type1: w.container && hasIommu, iommufd: w.iommufd && hasIommu, noiommu: w.noiommu && !hasIommu };
  if (want === 'auto') {
    if (usable.type1 || usable.iommufd || usable.noiommu) return check('ways-in', 'ways into VFIO', 'ok', found);
    const fix = hasIommu ? `${fixes.type1}; or for iommufd: ${fixes.iommufd}` : fixes.noiommu;
    return check('ways-in', 'ways into VFIO', 'fail', `${found}: none usable`, fix);
  }
  const key = want as keyof typeof usable;
  if (usable[key]) return check('ways-in', 'ways into VFIO', 'ok', `${found}; --iommu ${want} is usable`);
  const why =
    key !== 'noiommu' && !hasIommu ? 'there is no IOMMU' : `${want === 'type1' ? 'the container' : want} is missing`;
  return check('ways-in', 'ways into VFIO', 'fail', `${found}: --iommu ${want} is not usable: ${why}`, fixes[key]);
}

/**
 * Whether MSIs are remapped (VT-d and AMD-Vi interrupt remapping, the GICv3 ITS on arm64), as
 * /proc/interrupts shows it: without it a device could raise any interrupt, and type1 refuses
 * to attach unless told to allow it.
 */
export function interruptRemappingCheck(m: MachineFacts): DoctorCheck | undefined {
  if (iommus(m).length === 0) return undefined;
  const table = readText(join(m.proc, 'interrupts'));
  if (table === null) return undefined;
  if (/\bIR-/.test(table))
    return check('irq-remap', 'interrupt remapping', 'ok', 'on (IR- interrupt chips in /proc/interrupts)');
  if (/\bITS-/.test(table)) return check('irq-remap', 'interrupt remapping', 'ok', 'MSIs go through the GICv3 ITS');
  const allowed = readText(join(m.sysfs, 'module/vfio_iommu_type1/parameters/allow_unsafe_interrupts')) === 'Y';
  return check(
    'irq-remap',
    'interrupt remapping',
    'warn',
    `not seen in /proc/interrupts${allowed ? '; vfio_iommu_type1 allow_unsafe_interrupts is on' : ''}: a device could raise interrupts it was not given`,
    allowed
      ? 'turn interrupt remapping on in the firmware and the kernel (intremap=on) to isolate interrupts'
      : 'turn interrupt remapping on (firmware, intremap=on); type1 refuses to attach without it unless vfio_iommu_type1 allow_unsafe_interrupts=1',
  );
}

/** The locked-memory limit against `need` bytes of DMA (what a program pins). */
export function memlockCheck(m: MachineFacts, need: number): DoctorCheck {
  const title = 'locked memory';
  if (m.ipcLock) return check('memlock', title, 'ok', 'not limited: the process has CAP_IPC_LOCK');
  const { soft, hard } = m.memlock;
  const size = (n: bigint) => (n === RLIM_INFINITY ? 'unlimited' : formatSize(n));
  const found = `RLIMIT_MEMLOCK ${size(soft)} (hard ${size(hard)}), against ${formatSize(need)} of DMA to pin`;
  if (soft === RLIM_INFINITY || soft >= BigInt(need)) return check('memlock', title, 'ok', found);
  const raise =
    hard === RLIM_INFINITY || hard >= BigInt(need)
      ? `ulimit -l ${hard === RLIM_INFINITY ? 'unlimited' : Number(hard / 1024n)} in this shell (within the hard limit)`
      : 'memlock in /etc/security/limits.conf (or LimitMEMLOCK= for a systemd service), then log in again';
  return check(
    'memlock',
    title,
    'fail',
    `${found}: DMA allocations past the limit fail`,
    `raise it: ${raise}; or run with CAP_IPC_LOCK (--dma SIZE checks another amount)`,
  );
}

/** Hugepages reserved and free per size (DMA buffers can use them with { hugepages }). */
export function hugepagesCheck(m: MachineFacts): DoctorCheck | undefined {
  const dir = join(m.sysfs, 'kernel/mm/hugepages');
  const sizes = (listDir(dir) ?? []).filter((d) => /^hugepages-\d+kB$/.test(d));
  if (sizes.length === 0) return undefined;
  const rows = sizes.map((d) => {
    const kb = Number(/\d+/.exec(d)![0]);
    const free = Number(readText(join(dir, d, 'free_hugepages')) ?? 0);
    const total = Number(readText(join(dir, d, 'nr_hugepages')) ?? 0);
    return { d, kb, free, total, label: formatSize(kb * 1024) };
  });
  const found = rows.map((r) => `${r.label}: ${r.free} free of ${r.total}`).join('; ');
  if (rows.some((r) => r.free > 0)) return check('hugepages', 'hugepages', 'ok', found);
  const two = rows.find((r) => r.kb === 2048) ?? rows[0];
  return check(
    'hugepages',
    'hugepages',
    'note',
    `${found}: DMA buffers use ordinary pages (dma.alloc(size, { hugepages }) needs some reserved)`,
    `to reserve some, as root: echo 64 > ${join(dir, two.d, 'nr_hugepages')}`,
  );
}
