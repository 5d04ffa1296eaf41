import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PCI_CAP_ID_MSI, PCI_COMMAND_MASTER } from '../../structs/index.js';
import { openDevice } from '../../src/index.js';
import { manifest, testDevice } from './manifest.js';
import { openFdCount } from '../support/fd-count.js';
import { sysfsCapabilities, sysfsConfig } from './sysfs-oracle.js';

const EDU_ID = 0x00;
const EDU_LIVENESS = 0x04;
const EDU_FACTORIAL = 0x08;
const EDU_STATUS = 0x20;
const STATUS_BUSY = 0x01;

function factorial(n: number): number {
  let r = 1;
  for (let i = 2; i <= n; i++) r = (r * i) >>> 0;
  return r;
}

describe('edu through openDevice', () => {
  const edu = testDevice('edu');

  it('reads the identification register 0x010000ed through the mapped BAR0', () => {
    const before = openFdCount();
    using dev = openDevice(edu.bdf);
    const bar0 = dev.bar(0);
    expect(bar0.isMapped(EDU_ID, 4)).toBe(true);
    expect(bar0.read32(EDU_ID)).toBe(0x010000ed);
    dev.close();
    expect(openFdCount()).toBe(before);
  });

  it('answers the liveness check with the complement, every time', () => {
    using dev = openDevice(edu.bdf);
    const bar0 = dev.bar(0);
    let wrong = 0;
    for (let i = 0; i < 20000; i++) {
      const v = (Math.random() * 0x1_0000_0000) >>> 0;
      bar0.write32(EDU_LIVENESS, v);
      if (bar0.read32(EDU_LIVENESS) !== ~v >>> 0) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it('computes factorials, polled in a loop long enough for the JIT to optimise it', () => {
    using dev = openDevice(edu.bdf);
    const bar0 = dev.bar(0);
    const results: number[] = [];
    const expected: number[] = [];
    // One function called thousands of times: TurboFan compiles it after a few hundred calls,
    // which is where plain typed-array code started to return the stored operand.
    const compute = (n: number): number => {
      bar0.write32(EDU_FACTORIAL, n);
      while (bar0.read32(EDU_STATUS) & STATUS_BUSY);
      return bar0.read32(EDU_FACTORIAL);
    };
    for (let i = 0; i < 3000; i++) {
      const n = 2 + (i % 11);
      results.push(compute(n));
      expected.push(factorial(n));
    }
    expect(results).toEqual(expected);
    expect(compute(10)).toBe(3628800);
  });

  it('finds MSI in config space at the offset sysfs shows, with bus mastering on', () => {
    using dev = openDevice(edu.bdf);
    const caps = dev.config.capabilities();
    expect(caps).toEqual(sysfsCapabilities(edu.bdf));
    const msi = sysfsCapabilities(edu.bdf).find((c) => c.id === PCI_CAP_ID_MSI);
    expect(msi).toBeDefined();
    expect(dev.config.findCapability(PCI_CAP_ID_MSI)).toBe(msi!.offset);
    expect(dev.config.vendorId()).toBe(0x1234);
    expect(dev.config.deviceId()).toBe(0x11e8);
    // The kernel's own view of the command register (sysfs), not ours.
    expect(sysfsConfig(edu.bdf).readUInt16LE(4) & PCI_COMMAND_MASTER).toBe(PCI_COMMAND_MASTER);
    dev.setBusMaster(false);
    expect(sysfsConfig(edu.bdf).readUInt16LE(4) & PCI_COMMAND_MASTER).toBe(0);
    expect(dev.busMasterEnabled()).toBe(false);
  });

  it('prints a one-line summary in the REPL', () => {
    const dev = openDevice(edu.bdf);
    // 7.x reports the ERR interrupt for every device, 6.1 only for PCIe ones (edu is conventional PCI).
    const err = dev.irqInfo(3).count;
    expect(err).toBe(manifest().flavour === 'debian' ? 0 : 1);
    expect(inspect(dev)).toBe(
      `Device <device ${edu.bdf}> { iommu: ${dev.iommu.kind}; regions: BAR0 1 MiB, config 256 B; irqs: INTx 1, MSI 1, ${err ? 'ERR 1, ' : ''}REQ 1; reset: no }`,
    );
    expect(inspect(dev.bar(0))).toBe(`Region <BAR0 of ${edu.bdf}> { 0x100000 bytes, mapped 0x0-0x100000 }`);
    const buf = dev.dma.alloc(4096);
    expect(inspect(buf)).toMatch(/^DmaBuffer \{ iova 0x[0-9a-f]+, 4096 bytes \}$/);
    dev.close();
    expect(inspect(dev)).toBe(`Device <device ${edu.bdf}> { closed }`);
    expect(inspect(buf)).toBe('DmaBuffer { closed }');
  });

  it('refuses reset with a clear not-supported error (edu has no reset)', () => {
    using dev = openDevice(edu.bdf);
    expect(dev.info.canReset).toBe(false);
    expect(() => dev.reset()).toThrow(/0000:00:0.\.0 does not support reset/);
  });

  it('checks bounds and alignment, naming the region', () => {
    using dev = openDevice(edu.bdf);
    const bar0 = dev.bar(0);
    expect(() => bar0.read32(0x100000)).toThrow(
      /read32 of 4 bytes at 0x100000 is outside BAR0 of .* \(0x100000 bytes\)/,
    );
    expect(() => bar0.read32(2)).toThrow(/not 4-byte aligned/);
    expect(() => bar0.write16(-2, 0)).toThrow(/outside BAR0/);
    expect(() => dev.bar(1)).toThrow(/BAR1 of .* is not implemented \(size 0\)/);
  });
});
