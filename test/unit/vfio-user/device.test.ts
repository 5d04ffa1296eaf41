// A vfio-user device driven like a local one: `openDevice('vfio-user:PATH')` on the edu model
// served by another process gives the same Device. The unchanged edu example runs on it (ids,
// liveness, factorials, a DMA round trip through memory shared by descriptor), and its config
// space, interrupts (MSI and INTx counted) and reset behave as on the real device.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PCI_CAP_ID_MSI, VfioErrorCode } from '../../../structs/index.js';
import { openDevice } from '../../../src/index.js';
import { main as edu } from '../../../examples/edu.js';
import { openFdCount } from '../../support/fd-count.js';
import { serveInChild, servedForTests } from '../../support/serve-model.js';
import { thrownBy } from '../../support/thrown.js';
import { VECTORS } from '../../support/vectors-model.js';

const served = servedForTests('edu');

describe('a vfio-user device through openDevice', () => {
  it('runs the edu example unchanged: id, liveness, factorials and a DMA round trip', () => {
    const before = openFdCount();
    const lines: string[] = [];
    const r = edu(served.address, (l) => lines.push(l));
    expect(r.id).toBe(0x010000ed);
    expect(r.factorials).toEqual([
      [5, 120],
      [10, 3628800],
      [12, 479001600],
    ]);
    expect(r.dmaBytes).toBe(1000);
    expect(lines.at(-1)).toMatch(/DMA round trip: 1000 random bytes .* identical/);
    expect(openFdCount()).toBe(before);
  });

  it('is the same Device: regions, config space with its capabilities, bus mastering', () => {
    using dev = openDevice(served.address);
    expect(dev.address).toBe(served.address);
    expect(dev.iommu.kind).toBe('vfio-user');
    expect(dev.info).toMatchObject({ numRegions: 9, numIrqs: 5, canReset: true, isPci: true });
    expect(dev.regionInfo(0).size).toBe(0x100000n);
    expect([dev.config.vendorId(), dev.config.deviceId()]).toEqual([0x1234, 0x11e8]);
    expect(dev.config.findCapability(PCI_CAP_ID_MSI)).toBeDefined();
    expect(dev.busMasterEnabled()).toBe(true);
    const bar0 = dev.bar(0);
    bar0.write32(0x04, 0xa5a5a5a5);
    expect(bar0.read32(0x04)).toBe(0x5a5a5a5a);
    bar0.write64(0x80, 0x123456789abcdef0n); // the DMA source register: 64 bits in one access
    expect(bar0.read64(0x80)).toBe(0x123456789abcdef0n);
    expect(thrownBy(() => dev.hotReset())).toMatchObject({ code: VfioErrorCode.UNSUPPORTED });
  });

  it('counts MSIs and INTx the model raises, and a reset leaves interrupts to be enabled again', async () => {
    using dev = openDevice(served.address);
    const bar0 = dev.bar(0);
    const irqs = dev.interrupts;
    irqs.enable('msi');
    for (let i = 0; i < 3; i++) {
      bar0.write32(0x60, 1 << i); // raise
      expect(await irqs.waitAsync(5000)).toEqual([{ vector: 0, count: 1 }]);
      bar0.write32(0x64, 1 << i); // acknowledge
    }
    irqs.disable();
    irqs.enable('intx');
    bar0.write32(0x60, 1);
    expect(irqs.wait(5000)).toEqual([{ vector: 0, count: 1 }]);
    bar0.write32(0x64, 1);
    bar0.write32(0x60, 2); // INTx auto-unmasked after the wait: a second one arrives
    expect(irqs.wait(5000)).toEqual([{ vector: 0, count: 1 }]);
    irqs.disable();
    bar0.write32(0x04, 1);
    dev.reset();
    expect(bar0.read32(0x04)).toBe(0xffffffff); // the model's state is as after power-on
  });

  it('names the socket and the fix when nothing serves it', () => {
    const e = thrownBy(() => openDevice(`vfio-user:${join(served.dir, 'nothing.sock')}`));
    expect(e).toMatchObject({ name: 'SysError', errnoName: 'ENOENT' });
    expect((e as Error).message).toMatch(/nothing\.sock/);
  });
});

describe('a served device with more MSI-X vectors than one message carries descriptors for', () => {
  it('hands over every eventfd in requests the server takes, and each vector fires its own', async () => {
    const vectors = await serveInChild('vectors', join(served.dir, 'vectors.sock'));
    try {
      const before = openFdCount();
      {
        using dev = openDevice(`vfio-user:${vectors.socket}`);
        const irqs = dev.interrupts;
        expect(irqs.enable('msix')).toBe('msix');
        expect(irqs.vectors).toHaveLength(VECTORS);
        for (const v of [0, 15, 16, VECTORS - 1]) {
          dev.bar(0).write32(0, v);
          expect(irqs.wait(5000)).toEqual([{ vector: v, count: 1 }]);
        }
      }
      expect(openFdCount()).toBe(before);
    } finally {
      await vectors.stop();
    }
    expect(vectors.stderr()).toBe(''); // the server saw no message it had to refuse
  });
});
