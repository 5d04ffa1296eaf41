/** One-line decodes of the PCI capabilities people look at most, for `vfio info`. */
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_PBA,
  PCI_MSIX_TABLE,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QMASK,
} from '../../structs/index.js';
import type { ConfigSpace } from '../index.js';
import { hex } from '../sys/index.js';

const PCIE_TYPES: Record<number, string> = {
  0: 'Endpoint',
  1: 'Legacy Endpoint',
  4: 'Root Port',
  5: 'Upstream Port',
  6: 'Downstream Port',
  7: 'PCIe to PCI bridge',
  8: 'PCI to PCIe bridge',
  9: 'Root Complex Integrated Endpoint',
  10: 'Root Complex Event Collector',
};

/** A one-line decode of the capabilities people look at most. */
export function capabilityDetails(config: ConfigSpace, id: number, offset: number): string | undefined {
  if (id === PCI_CAP_ID_MSI) {
    const f = config.read16(offset + PCI_MSI_FLAGS);
    const vectors = 1 << ((f & PCI_MSI_FLAGS_QMASK) >> 1);
    return [
      `${vectors} vector${vectors === 1 ? '' : 's'}`,
      f & PCI_MSI_FLAGS_64BIT ? '64-bit' : '32-bit',
      ...(f & PCI_MSI_FLAGS_MASKBIT ? ['per-vector mask'] : []),
      f & PCI_MSI_FLAGS_ENABLE ? 'enabled' : 'disabled',
    ].join(', ');
  }
  if (id === PCI_CAP_ID_MSIX) {
    const f = config.read16(offset + PCI_MSIX_FLAGS);
    const table = config.read32(offset + PCI_MSIX_TABLE);
    const pba = config.read32(offset + PCI_MSIX_PBA);
    return `${(f & PCI_MSIX_FLAGS_QSIZE) + 1} vectors, table BAR${table & 7}+${hex((table & ~7) >>> 0)}, PBA BAR${pba & 7}+${hex((pba & ~7) >>> 0)}, ${f & PCI_MSIX_FLAGS_ENABLE ? 'enabled' : 'disabled'}`;
  }
  if (id === PCI_CAP_ID_EXP) {
    const f = config.read16(offset + 2);
    const type = (f >> 4) & 0xf;
    return `${PCIE_TYPES[type] ?? `port type ${type}`}, capability version ${f & 0xf}`;
  }
  if (id === PCI_CAP_ID_PM) return `version ${config.read16(offset + 2) & 7}`;
  return undefined;
}
