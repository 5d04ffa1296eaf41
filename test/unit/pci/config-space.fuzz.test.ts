// Fuzz: PCI config space as the device (or sysfs's `config` file) gives it, through everything
// that walks or decodes it: ConfigSpace's capability lists and BARs (src/pci/config-space.ts),
// the MSI-X table and PBA ranges (src/vfio/device/msix-ranges.ts), the capability one-liners and the
// report `vfio info` and the REPL's decodeConfig print (src/cli). Spaces of any size, random and
// mutated from valid conventional and PCIe ones. Every walk stays inside the space, returns
// within the time bound or throws a coded error. VFIO_TS_FUZZ_RUNS=100000 runs 100,000 inputs
// per property (replay: see test/support/fuzz.ts).
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PCI_STATUS, PCI_STATUS_CAP_LIST } from '../../../structs/index.js';
import { ConfigSpace, type ConfigAccessor } from '../../../src/pci/index.js';
import { msixRanges } from '../../../src/vfio/device/msix-ranges.js';
import { capabilityDetails } from '../../../src/cli/capability-details.js';
import { decodeConfig } from '../../../src/cli/repl-helpers.js';
import type { Device } from '../../../src/index.js';
import { configSeed } from '../../support/fuzz-seeds.js';
import { fuzzBytes, fuzzParams, outcome, seededBytes } from '../../support/fuzz.js';

const RUNS = 1500;
const SEEDS = [configSeed(256), configSeed(4096)];

/** A config space over `bytes` that fails the test if anything reads or writes outside it. */
function space(bytes: Uint8Array): ConfigSpace {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inside = (offset: number, width: number) => {
    if (!(Number.isInteger(offset) && offset >= 0 && offset + width <= bytes.length))
      throw new Error(`access of ${width} bytes at ${offset}, outside the ${bytes.length}-byte space`);
  };
  const access: ConfigAccessor = {
    size: bytes.length,
    read(offset, width) {
      inside(offset, width);
      return width === 1
        ? view.getUint8(offset)
        : width === 2
          ? view.getUint16(offset, true)
          : view.getUint32(offset, true);
    },
    write() {
      throw new Error('a decode wrote to config space');
    },
  };
  return new ConfigSpace(access);
}

/** A device that is nothing but `config`, enough for decodeConfig (what the REPL calls). */
function deviceWith(config: ConfigSpace): Device {
  const iommu = {
    kind: 'type1',
    path: '/dev/vfio/vfio',
    iommuType: 3,
    sysfs: { info: () => ({ vendor: 0x1234, device: 0x11e8, class: 0xff0000, driver: 'vfio-pci', iommuGroup: 5 }) },
    info: () => ({ pageSizes: 0x40201000n, minPageSize: 4096, iovaRanges: [{ start: 0n, end: 0xffffffffn }] }),
  };
  const regions = [0, 1, 2, 3, 4, 5].map((index) => ({
    index,
    flags: 7,
    size: 0x4000n,
    offset: 0n,
    msixMappable: false,
  }));
  const device = {
    address: '0000:00:03.0',
    iommuGroup: 5,
    info: { flags: 3, numRegions: 9, numIrqs: 5, canReset: true, isPci: true },
    regions,
    irqs: [],
    config,
    iommu,
    busMasterEnabled: () => (config.command() & 4) !== 0,
    sriov: { physfn: null, state: null }, // neither an SR-IOV PF nor a VF
    features: { has: () => false }, // a driver with no VFIO_DEVICE_FEATURE at all
  };
  return device as unknown as Device;
}

/** Config spaces: random (256 or 4096 bytes, or any length) and mutated from the seeds. */
const spaces = fc.oneof(fuzzBytes(SEEDS, 300), seededBytes([256, 4096]));

describe('fuzz: config space', () => {
  it('the seeds decode: the fuzzing starts from valid spaces', () => {
    const cfg = space(SEEDS[1].bytes);
    expect(cfg.capabilities().map((c) => c.offset)).toEqual([0x40, 0x50, 0x70, 0xb0]);
    expect(cfg.extendedCapabilities().map((c) => c.offset)).toEqual([0x100, 0x140]);
    expect(cfg.bars().map((b) => [b.index, b.io, b.is64])).toEqual([
      [0, false, false],
      [1, false, true],
      [3, true, false],
      [4, false, false],
      [5, false, false],
    ]);
    expect(msixRanges(cfg, 0)).toEqual([
      { start: 0x2000, end: 0x2200 },
      { start: 0x3000, end: 0x3008 },
    ]);
  });

  it('capability lists, BARs and MSI-X ranges stay inside the space', () => {
    fc.assert(
      fc.property(spaces, (bytes) => {
        const cfg = space(bytes);
        const caps = outcome(() => cfg.capabilities());
        if (caps) {
          if (caps.length)
            expect(new DataView(bytes.buffer).getUint16(PCI_STATUS, true) & PCI_STATUS_CAP_LIST).not.toBe(0);
          expect(new Set(caps.map((c) => c.offset)).size).toBe(caps.length);
          for (const c of caps) {
            expect(c.offset).toBeGreaterThanOrEqual(0x40);
            expect(c.offset + 2).toBeLessThanOrEqual(Math.min(256, bytes.length));
            expect(c.id).toBe(bytes[c.offset]);
            outcome(() => capabilityDetails(cfg, c.id, c.offset));
          }
        }
        const ext = outcome(() => cfg.extendedCapabilities());
        if (ext) {
          expect(new Set(ext.map((c) => c.offset)).size).toBe(ext.length);
          for (const c of ext) {
            expect(c.offset % 4).toBe(0);
            expect(c.offset).toBeGreaterThanOrEqual(0x100);
            expect(c.offset + 4).toBeLessThanOrEqual(Math.min(4096, bytes.length));
          }
        }
        const bars = outcome(() => cfg.bars());
        if (bars) {
          const indexes = bars.map((b) => b.index);
          expect(indexes).toEqual([...new Set(indexes)].sort());
          for (const b of bars) expect(b.index).toBeLessThan(6);
        }
        for (let bar = 0; bar < 6; bar++) {
          for (const r of outcome(() => msixRanges(cfg, bar)) ?? []) {
            expect(Number.isSafeInteger(r.start) && r.start >= 0).toBe(true);
            expect(r.end).toBeGreaterThan(r.start);
          }
        }
      }),
      fuzzParams(RUNS),
    );
  });

  it("decodeConfig (the REPL's, and vfio info's report) prints or throws a coded error", () => {
    fc.assert(
      fc.property(spaces, (bytes) => {
        const report = outcome(() => decodeConfig(deviceWith(space(bytes))));
        if (report) expect(typeof outcome(() => inspect(report))).toBe('string');
      }),
      fuzzParams(Math.floor(RUNS / 3)),
    );
  });
});
