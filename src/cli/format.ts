/** Formatting for the `vfio` command: hex, sizes, tables, JSON with bigints, PCI names. */

import { hex } from '../sys/index.js';

export { formatSize } from '../sys/index.js';

/** JSON with bigints as `0x` hex strings (addresses and sizes are bigints in the library). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? hex(v) : v), 2);
}

/** A plain-text table: columns padded to the widest cell, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const CAP_NAMES: Record<number, string> = {
  0x01: 'PM',
  0x02: 'AGP',
  0x03: 'VPD',
  0x04: 'SlotID',
  0x05: 'MSI',
  0x06: 'CompactPCI hot swap',
  0x07: 'PCI-X',
  0x08: 'HyperTransport',
  0x09: 'VNDR',
  0x0a: 'Debug port',
  0x0b: 'CompactPCI CRC',
  0x0c: 'SHPC',
  0x0d: 'SSVID',
  0x0e: 'AGP 8x',
  0x0f: 'Secure device',
  0x10: 'PCIe',
  0x11: 'MSI-X',
  0x12: 'SATA',
  0x13: 'AF',
  0x14: 'EA',
};

const EXT_CAP_NAMES: Record<number, string> = {
  0x01: 'AER',
  0x02: 'VC',
  0x03: 'DSN',
  0x04: 'Power budget',
  0x05: 'RCLD',
  0x06: 'RCILC',
  0x07: 'RCEC',
  0x08: 'MFVC',
  0x09: 'VC9',
  0x0a: 'RCRB',
  0x0b: 'VNDR',
  0x0c: 'CAC',
  0x0d: 'ACS',
  0x0e: 'ARI',
  0x0f: 'ATS',
  0x10: 'SR-IOV',
  0x11: 'MR-IOV',
  0x12: 'Multicast',
  0x13: 'PRI',
  0x15: 'Resizable BAR',
  0x16: 'DPA',
  0x17: 'TPH',
  0x18: 'LTR',
  0x19: 'Secondary PCIe',
  0x1a: 'PMUX',
  0x1b: 'PASID',
  0x1c: 'LNR',
  0x1d: 'DPC',
  0x1e: 'L1 PM substates',
  0x1f: 'PTM',
  0x23: 'DVSEC',
  0x25: 'DLF',
  0x26: 'Physical layer 16 GT/s',
};

/** Name of a standard capability id (`MSI`), or `cap 0xNN`. */
export function capabilityName(id: number): string {
  return CAP_NAMES[id] ?? `cap ${hex(id, 2)}`;
}

/** Name of an extended capability id (`AER`), or `ext cap 0xNNNN`. */
export function extendedCapabilityName(id: number): string {
  return EXT_CAP_NAMES[id] ?? `ext cap ${hex(id, 4)}`;
}

const CLASS_NAMES: Record<number, string> = {
  0x0000: 'Non-VGA unclassified device',
  0x0100: 'SCSI storage controller',
  0x0101: 'IDE interface',
  0x0106: 'SATA controller',
  0x0107: 'Serial Attached SCSI controller',
  0x0108: 'Non-Volatile memory controller',
  0x0180: 'Mass storage controller',
  0x0200: 'Ethernet controller',
  0x0280: 'Network controller',
  0x0300: 'VGA compatible controller',
  0x0302: '3D controller',
  0x0380: 'Display controller',
  0x0403: 'Audio device',
  0x0500: 'RAM memory',
  0x0600: 'Host bridge',
  0x0601: 'ISA bridge',
  0x0604: 'PCI bridge',
  0x0680: 'Bridge',
  0x0700: 'Serial controller',
  0x0780: 'Communication controller',
  0x0880: 'System peripheral',
  0x0c03: 'USB controller',
  0x0c05: 'SMBus',
  0x0d00: 'IrDA controller',
  0x1080: 'Encryption controller',
  0x1200: 'Processing accelerators',
  0x00ff: 'Unclassified device',
  0xff00: 'Unassigned class',
};

/** A device's ids, class and driver as `vfio list` and `vfio info` show them (hex without 0x). */
export function pciIdentity(info: { vendor: number; device: number; class: number; driver: string | null }): {
  vendor: string;
  device: string;
  class: string;
  className: string;
  driver: string | null;
} {
  return {
    vendor: info.vendor.toString(16).padStart(4, '0'),
    device: info.device.toString(16).padStart(4, '0'),
    class: info.class.toString(16).padStart(6, '0'),
    className: className(info.class),
    driver: info.driver,
  };
}

/** Name of a PCI class from the 24-bit class code (class, subclass, prog-if), as lspci names them. */
export function className(classCode: number): string {
  const cls = classCode >>> 8;
  return CLASS_NAMES[cls] ?? CLASS_NAMES[(cls & 0xff00) | 0x80] ?? `class ${hex(cls, 4)}`;
}

/**
 * A hex dump like `lspci -xxx`: `00: 86 80 ...`, 16 bytes a line, offsets in hex (2 digits up
 * to 0x100, 3 beyond).
 */
export function hexDump(bytes: Uint8Array, base = 0): string {
  const digits = base + bytes.length > 0x100 ? 3 : 2;
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${(base + i).toString(16).padStart(digits, '0')}: ${row}`);
  }
  return lines.join('\n');
}
