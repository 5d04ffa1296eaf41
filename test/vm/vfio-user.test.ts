// A device modelled in TypeScript, served on the host and driven by the library in the guest: the
// `vfio-user` row serves the edu model (examples/models/edu.ts) with serveDevice on the host, QEMU
// 11.1's vfio-user-pci puts it in the guest at 00:10.0, the guest's vfio-pci takes it behind the
// emulated VT-d (caching mode), and here the library drives it through both of the kernel's ways
// in. Every byte the guest's DMA moves goes through the server's mapping of the guest's RAM
// (the shared memfd QEMU sends it), and every MSI from the model's eventfd through QEMU's
// interrupt remapping into the guest's vfio-pci.
import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PCI_CAP_ID_MSI } from '../../structs/index.js';
import { openDevice, type IrqFired, type Region } from '../../src/index.js';
import { openFdCount } from '../support/fd-count.js';
import { EDU_BUFFER, dmaToDevice, dmaToRam } from './edu-dma.js';
import { testDevice } from './manifest.js';

const ID = 0x00;
const FACTORIAL = 0x08;
const STATUS = 0x20;
const IRQ_STATUS = 0x24;
const IRQ_RAISE = 0x60;
const IRQ_ACK = 0x64;
const DMA_SRC = 0x80;
const DMA_DST = 0x88;
const DMA_COUNT = 0x90;
const DMA_CMD = 0x98;
const STATUS_IRQ_AFTER_FACTORIAL = 0x80;
const FACTORIAL_IRQ = 0x1;
const DMA_DONE_IRQ = 0x100;
const DMA_START_TO_RAM_IRQ = 1n | 2n | 4n;

/** Both of the kernel's ways into VFIO: the vfio kernel offers both, and the device is the same. */
const BACKENDS = ['type1', 'iommufd'] as const;

/** The interrupts counted until `total` came or `ms` passed, then 200 ms more to catch extras. */
function countIrqs(irqs: { wait(ms: number): IrqFired[] }, total: number, ms = 5000): number {
  let n = 0;
  const end = Date.now() + ms;
  while (n < total && Date.now() < end) for (const f of irqs.wait(Math.max(1, end - Date.now()))) n += f.count;
  for (const f of irqs.wait(200)) n += f.count;
  return n;
}

/** The model keeps its state across opens: nothing raised from an earlier test. */
const clear = (bar0: Region) => bar0.write32(IRQ_ACK, 0xffffffff);

describe('the edu model served on the host, through vfio-user-pci', () => {
  const served = testDevice('vfio-user0');

  it('is in the guest at its slot as 1234:11e8, bound to vfio-pci in a viable group', () => {
    expect(served).toMatchObject({ bdf: '0000:00:10.0', vendor: '1234', device: '11e8', driver: 'vfio-pci' });
    expect(served.viable).toBe(true);
    expect(served.groupPath).toMatch(/^\/dev\/vfio\/\d+$/);
    expect(served.cdev).toMatch(/^\/dev\/vfio\/devices\/vfio\d+$/);
  });

  for (const iommu of BACKENDS) {
    describe(`through ${iommu}`, () => {
      it('reads the config space the model built and the id register its BAR0 handler answers', () => {
        const before = openFdCount();
        {
          using dev = openDevice(served.bdf, { iommu });
          expect(dev.iommu.kind).toBe(iommu);
          expect([dev.config.vendorId(), dev.config.deviceId()]).toEqual([0x1234, 0x11e8]);
          expect(dev.config.read8(0x08)).toBe(0x10); // the model's revision
          expect(dev.config.read32(0x08) >>> 8).toBe(0x00ff00); // its class code
          expect(dev.config.findCapability(PCI_CAP_ID_MSI)).toBeDefined();
          expect(dev.regionInfo(0).size).toBe(0x100000n);
          expect(dev.bar(0).read32(ID)).toBe(0x010000ed);
        }
        expect(openFdCount()).toBe(before);
      });

      it('moves bytes both ways by DMA through the IOMMU: RAM to the model and back, and what the CPU put there', () => {
        const before = openFdCount();
        {
          using dev = openDevice(served.bdf, { iommu });
          const bar0 = dev.bar(0);
          using buf = dev.dma.alloc(8192);
          const sent = randomFillSync(new Uint8Array(3000));
          buf.bytes.set(sent, 0);
          buf.bytes.fill(0, 4096);
          dmaToDevice(bar0, buf.iova, 0, sent.length);
          dmaToRam(bar0, 0, buf.iova + 4096n, sent.length);
          expect(Buffer.from(buf.bytes.subarray(4096, 4096 + sent.length)).equals(Buffer.from(sent))).toBe(true);
          // The model's buffer is in BAR0 too: the CPU writes a pattern there, DMA brings it to RAM.
          for (let i = 0; i < 64; i++) bar0.write32(Number(EDU_BUFFER) + 4 * i, (0xa5000000 | i) >>> 0);
          dmaToRam(bar0, 0, buf.iova + 6144n, 256);
          const view = new DataView(buf.bytes.buffer, buf.bytes.byteOffset + 6144, 256);
          expect(Array.from({ length: 64 }, (_, i) => view.getUint32(4 * i, true))).toEqual(
            Array.from({ length: 64 }, (_, i) => (0xa5000000 | i) >>> 0),
          );
        }
        expect(openFdCount()).toBe(before);
      });

      it('delivers each MSI the model raises exactly once: raised by a register, after a factorial, after a DMA', () => {
        const before = openFdCount();
        {
          using dev = openDevice(served.bdf, { iommu });
          const bar0 = dev.bar(0);
          clear(bar0);
          const irqs = dev.interrupts;
          expect(irqs.enable('auto')).toBe('msi');
          for (let i = 0; i < 5; i++) {
            bar0.write32(IRQ_RAISE, 1 << (i + 16));
            expect(countIrqs(irqs, 1)).toBe(1);
            expect(bar0.read32(IRQ_STATUS)).toBe(1 << (i + 16));
            bar0.write32(IRQ_ACK, 1 << (i + 16));
          }
          bar0.write32(STATUS, STATUS_IRQ_AFTER_FACTORIAL);
          bar0.write32(FACTORIAL, 10);
          expect(countIrqs(irqs, 1)).toBe(1);
          expect(bar0.read32(FACTORIAL)).toBe(3628800);
          expect(bar0.read32(IRQ_STATUS)).toBe(FACTORIAL_IRQ);
          bar0.write32(IRQ_ACK, FACTORIAL_IRQ);
          bar0.write32(STATUS, 0);

          using buf = dev.dma.alloc(4096);
          buf.bytes.fill(0);
          bar0.write32(Number(EDU_BUFFER), 0x12345678);
          bar0.write64(DMA_SRC, EDU_BUFFER);
          bar0.write64(DMA_DST, buf.iova);
          bar0.write64(DMA_COUNT, 4n);
          bar0.write64(DMA_CMD, DMA_START_TO_RAM_IRQ);
          expect(countIrqs(irqs, 1)).toBe(1);
          expect(new DataView(buf.bytes.buffer, buf.bytes.byteOffset, 4).getUint32(0, true)).toBe(0x12345678);
          expect(bar0.read32(IRQ_STATUS)).toBe(DMA_DONE_IRQ);
          bar0.write32(IRQ_ACK, DMA_DONE_IRQ);
          irqs.disable();
        }
        expect(openFdCount()).toBe(before);
      });
    });
  }

  it('closes everything when a call fails midway: MSI-X asked of a device that has none', () => {
    const before = openFdCount();
    expect(() => {
      using dev = openDevice(served.bdf);
      using buf = dev.dma.alloc(4096);
      dev.interrupts.enable('msi');
      buf.bytes[0] = 1;
      dev.interrupts.enable('msix');
    }).toThrow(/MSI-X/);
    expect(openFdCount()).toBe(before);
  });
});
