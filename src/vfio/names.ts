/** vfio-pci's names for its region and irq indexes, as messages and `vfio info` show them. */

// In the order of VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_VGA_REGION_INDEX.
const REGION_NAMES = ['BAR0', 'BAR1', 'BAR2', 'BAR3', 'BAR4', 'BAR5', 'ROM', 'config', 'VGA'];
// In the order of VFIO_PCI_INTX_IRQ_INDEX ... VFIO_PCI_REQ_IRQ_INDEX.
const IRQ_INDEX_NAMES = ['INTx', 'MSI', 'MSI-X', 'ERR', 'REQ'];

/** The vfio-pci name of region `index` (`BAR0` ... `config`, `VGA`), or `region N`. */
export const regionName = (index: number): string => REGION_NAMES[index] ?? `region ${index}`;

/** The region index `regionName` gives `name` for, or undefined for a name it never gives. */
export function regionIndex(name: string): number | undefined {
  const known = REGION_NAMES.indexOf(name);
  if (known !== -1) return known;
  const other = /^region (\d+)$/.exec(name);
  return other ? Number(other[1]) : undefined;
}

/** The vfio-pci name of irq index `index` (`INTx`, `MSI`, `MSI-X`, `ERR`, `REQ`), or `irq N`. */
export const irqIndexName = (index: number): string => IRQ_INDEX_NAMES[index] ?? `irq ${index}`;
