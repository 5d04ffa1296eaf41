/**
 * An independent view of a device's config space, read from sysfs (not through VFIO), used as
 * the oracle the library's answers are checked against.
 */
import { readFileSync } from 'node:fs';

export function sysfsConfig(bdf: string): Buffer {
  return readFileSync(`/sys/bus/pci/devices/${bdf}/config`);
}

/** (id, offset) of each standard capability, walked over the raw bytes. */
export function sysfsCapabilities(bdf: string): Array<{ id: number; offset: number }> {
  const cfg = sysfsConfig(bdf);
  const out: Array<{ id: number; offset: number }> = [];
  if ((cfg.readUInt16LE(6) & 0x10) === 0) return out;
  for (let off = cfg[0x34] & ~3; off !== 0 && out.length < 48; off = cfg[off + 1] & ~3)
    out.push({ id: cfg[off], offset: off });
  return out;
}

/** BAR i's start address and whether it is I/O, from /sys/bus/pci/devices/BDF/resource. */
export function sysfsBars(bdf: string): Array<{ index: number; start: bigint; io: boolean }> {
  const IORESOURCE_IO = 0x100n;
  return readFileSync(`/sys/bus/pci/devices/${bdf}/resource`, 'utf8')
    .trim()
    .split('\n')
    .slice(0, 6)
    .map((line, index) => {
      const [start, , flags] = line
        .trim()
        .split(/\s+/)
        .map((x) => BigInt(x));
      return { index, start, io: (flags & IORESOURCE_IO) !== 0n };
    })
    .filter((b) => b.start !== 0n);
}
