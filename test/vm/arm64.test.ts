// Runs in the arm64 guest only (scripts/vm/test-matrix gives this file to its arm64 row and to
// no other): what an SMMUv3 and a GICv3 change for a user. Its 48-bit aperture takes IOVAs far
// above 4 GiB and the process's own addresses (VT-d's 39 bits take neither), and MSIs go
// through the ITS instead of x86's fixed MSI window.
import { readFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openDevice } from '../../src/index.js';
import { Mapping } from '../../src/sys/index.js';
import { MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../structs/index.js';
import { manifest, testDevice } from './manifest.js';
import { dmaToDevice, dmaToRam } from './edu-dma.js';

const FOUR_GIB = 1n << 32n;

/** The interrupt count of edu's MSI line in /proc/interrupts (all CPUs), and its chip. */
function msiLine(bdf: string): { count: number; chip: string } {
  const [header, ...lines] = readFileSync('/proc/interrupts', 'utf8').split('\n');
  const cpus = header.trim().split(/\s+/).length;
  const line = lines.find((l) => l.includes('vfio-msi') && l.includes(bdf));
  if (!line) throw new Error(`no vfio-msi line for ${bdf} in /proc/interrupts`);
  const fields = line.trim().split(/\s+/);
  const counts = fields.slice(1, 1 + cpus).map(Number);
  return { count: counts.reduce((a, b) => a + b, 0), chip: fields[1 + cpus] };
}

describe('arm64: SMMUv3 and GICv3 ITS', () => {
  const edu = testDevice('edu');

  it('is an aarch64 guest behind an SMMUv3', () => {
    expect(process.arch).toBe('arm64');
    expect(manifest().arch).toBe('aarch64');
    expect(manifest().iommu).toBe('arm-smmuv3');
  });

  it('edu moves bytes by DMA through an IOVA above 4 GiB (and above VT-d 39 bits)', () => {
    using dev = openDevice(edu.bdf);
    const iova = (1n << 39n) + 0x1000n;
    const { iovaRanges } = dev.dma.info();
    expect(iovaRanges.some((r) => r.start <= iova && iova + 0xfffn <= r.end)).toBe(true);
    const mem = new Mapping({
      length: 4096,
      prot: PROT_READ | PROT_WRITE,
      flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
    });
    try {
      dev.iommu.mapDma({ vaddr: mem.address, iova, size: 4096, readable: true, writable: true });
      using low = dev.dma.alloc(4096);
      const data = randomFillSync(new Uint8Array(3000));
      mem.u8.set(data, 500);
      // High IOVA -> device -> an ordinary buffer, then back to the high IOVA at another offset.
      dmaToDevice(dev.bar(0), iova + 500n, 0, 3000);
      dmaToRam(dev.bar(0), 0, low.iova, 3000);
      expect(low.bytes.subarray(0, 3000)).toEqual(data);
      mem.u8.fill(0);
      dmaToRam(dev.bar(0), 0, iova + 1000n, 3000);
      expect(mem.u8.subarray(1000, 4000)).toEqual(data);
      expect(mem.u8[999]).toBe(0);
      dev.iommu.unmapDma(iova, 4096);
    } finally {
      mem.close();
    }
  });

  it('accepts an identity IOVA (the buffer at its own virtual address) and the device reaches it', () => {
    using dev = openDevice(edu.bdf);
    using buf = dev.dma.alloc(8192, { iova: 'identity' });
    expect(buf.iova).toBe(buf.vaddr);
    expect(buf.iova).toBeGreaterThan(FOUR_GIB);
    using src = dev.dma.alloc(4096);
    const data = randomFillSync(new Uint8Array(2000));
    src.bytes.set(data);
    buf.bytes.fill(0xa5);
    dmaToDevice(dev.bar(0), src.iova, 0, 2000);
    dmaToRam(dev.bar(0), 0, buf.iovaAt(5000), 2000);
    expect(buf.bytes.subarray(5000, 7000)).toEqual(data);
    expect(buf.bytes[4999]).toBe(0xa5);
    expect(buf.bytes[7000]).toBe(0xa5);
  });

  it('takes edu MSIs through the GICv3 ITS, each counted once by the kernel and by the library', async () => {
    using dev = openDevice(edu.bdf);
    const bar0 = dev.bar(0);
    const irqs = dev.interrupts;
    expect(irqs.enable('msi')).toBe('msi');
    const before = msiLine(edu.bdf);
    expect(before.chip).toBe('ITS-MSI');
    for (let i = 0; i < 5; i++) {
      bar0.write32(0x60, 1 << i); // raise
      expect(irqs.wait(5000)).toEqual([{ vector: 0, count: 1 }]);
      expect(bar0.read32(0x24)).toBe(1 << i);
      bar0.write32(0x64, 1 << i); // acknowledge
    }
    const next = irqs.waitAsync(5000);
    bar0.write32(0x60, 0x100);
    expect(await next).toEqual([{ vector: 0, count: 1 }]);
    bar0.write32(0x64, 0x100);
    expect(msiLine(edu.bdf).count - before.count).toBe(6);
    irqs.disable();
  });
});
