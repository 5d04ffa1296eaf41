/**
 * What a modelled PCI device's config space is built from: its identity, BARs, interrupt pin
 * and capabilities, as plain data a model's author writes.
 */

/** Who the device says it is. */
export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  /** Class, subclass and programming interface: `0x00ff00` is "unclassified, other". */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
}

/** One BAR's shape: a power-of-two size, memory (32- or 64-bit, prefetchable or not) or I/O. */
export interface BarShape {
  /** Bytes: a power of two, at least 16 for memory and 4 for I/O. */
  size: number;
  /** An I/O-port BAR (else memory). */
  io?: boolean;
  /** A 64-bit memory BAR: it takes the next BAR slot too. */
  is64?: boolean;
  prefetchable?: boolean;
}

/** The capabilities a model may have, laid out in this order after the header. */
export interface CapabilityShapes {
  /** Power management (D0 and D3hot). */
  pm?: boolean;
  /** MSI with `vectors` (1, 2, 4, 8, 16 or 32), 64-bit addresses, optional per-vector masks. */
  msi?: { vectors: number; perVectorMask?: boolean };
  /** MSI-X with `vectors` (1 to 2048), its table and PBA in BARs of the model. */
  msix?: { vectors: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number };
  /** A PCI Express endpoint (config space grows to 4 KiB); `flr`: function-level reset offered. */
  pcie?: { flr?: boolean };
}

/** What the config space is built from. */
export interface ConfigShape {
  identity: PciIdentity;
  /** BAR 0-5; a 64-bit BAR leaves the next slot undefined. */
  bars: ReadonlyArray<BarShape | undefined>;
  /** The device raises INTx on pin A. */
  intx: boolean;
  capabilities: CapabilityShapes;
}
