import { VfioErrorCode, VfioRangeError, VfioTypeError } from '../../structs/index.js';
/** PCI addresses (`domain:bus:device.function`), validated before any file is touched. */

/** A normalised PCI address: `0000:00:03.0`. */
export type PciAddress = string & { readonly __pci: unique symbol };

const FULL = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/i;
const SHORT = /^([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/i;

/** Rejects anything that is not a PCI address. `00:03.0` becomes `0000:00:03.0`; case is normalised. */
export function parsePciAddress(input: string): PciAddress {
  if (typeof input !== 'string')
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ADDRESS,
      `PCI address must be a string like 0000:00:03.0, got ${typeof input}`,
    );
  const s = input.trim();
  let m = FULL.exec(s);
  if (m) return `${m[1]}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase() as PciAddress;
  m = SHORT.exec(s);
  if (m) return `0000:${m[1]}:${m[2]}.${m[3]}`.toLowerCase() as PciAddress;
  throw new VfioRangeError(
    VfioErrorCode.INVALID_ADDRESS,
    `'${input}' is not a PCI address: expected domain:bus:device.function in hex, such as 0000:00:03.0 or 00:03.0 (device 00-1f, function 0-7); lspci -D lists them`,
  );
}

/** The address of a device given by its numbers (as the kernel reports them in hot-reset info). */
export function pciAddressOf(n: { domain: number; bus: number; device: number; fn: number }): PciAddress {
  const hex = (v: number, width: number) => v.toString(16).padStart(width, '0');
  return parsePciAddress(`${hex(n.domain, 4)}:${hex(n.bus, 2)}:${hex(n.device, 2)}.${n.fn}`);
}
