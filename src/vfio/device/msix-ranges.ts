/** Where a device's MSI-X table and PBA sit in its BARs, read from the MSI-X capability. */
import {
  PCI_CAP_ID_MSIX,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_PBA,
  PCI_MSIX_PBA_BIR,
  PCI_MSIX_PBA_OFFSET,
  PCI_MSIX_TABLE,
  PCI_MSIX_TABLE_BIR,
  PCI_MSIX_TABLE_OFFSET,
  PCI_MSIX_ENTRY_SIZE,
} from '../../../structs/index.js';
import type { ConfigSpace } from '../../pci/index.js';

/** The byte ranges of BAR `bar` that hold the MSI-X table or PBA (empty without MSI-X). */
export function msixRanges(config: ConfigSpace, bar: number): Array<{ start: number; end: number }> {
  const cap = config.findCapability(PCI_CAP_ID_MSIX);
  if (cap === undefined) return [];
  const vectors = (config.read16(cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1;
  const table = config.read32(cap + PCI_MSIX_TABLE);
  const pba = config.read32(cap + PCI_MSIX_PBA);
  const out: Array<{ start: number; end: number }> = [];
  if ((table & PCI_MSIX_TABLE_BIR) === bar) {
    const start = (table & PCI_MSIX_TABLE_OFFSET) >>> 0;
    out.push({ start, end: start + vectors * PCI_MSIX_ENTRY_SIZE });
  }
  if ((pba & PCI_MSIX_PBA_BIR) === bar) {
    const start = (pba & PCI_MSIX_PBA_OFFSET) >>> 0;
    out.push({ start, end: start + Math.ceil(vectors / 64) * 8 });
  }
  return out;
}
