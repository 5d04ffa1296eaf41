/** The SR-IOV part of `vfio info`: a PF's VFs, or a VF's PF. */
import type { Device } from '../index.js';

/** A device's SR-IOV state, when it has one. */
export interface SriovReport {
  /** `pf`: an SR-IOV physical function; `vf`: one of its virtual functions. */
  role: 'pf' | 'vf';
  /** A PF: how many VFs it can have. */
  totalVfs?: number;
  /** A PF: how many it has now. */
  numVfs?: number;
  /** A PF: their addresses. */
  vfs?: string[];
  /** A VF: its PF's address. */
  physfn?: string;
}

/** The SR-IOV state of `dev`, or undefined for a device that is neither a PF nor a VF (or is served over vfio-user). */
export function sriovReport(dev: Device): SriovReport | undefined {
  if (dev.iommu.kind === 'vfio-user') return undefined;
  const physfn = dev.sriov.physfn;
  if (physfn) return { role: 'vf', physfn };
  const state = dev.sriov.state;
  return state ? { role: 'pf', ...state } : undefined;
}

/** Its lines in the text report. */
export function formatSriovReport(r: SriovReport): string[] {
  if (r.role === 'vf') return [`SR-IOV: virtual function of ${r.physfn} (opening it takes the PF's VF token)`];
  return [
    `SR-IOV: physical function, ${r.numVfs} of ${r.totalVfs} VFs enabled${r.vfs?.length ? `: ${r.vfs.join(', ')}` : ''}`,
  ];
}
