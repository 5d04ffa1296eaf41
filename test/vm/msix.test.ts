// MSI-X on the rig's NVMe controller: each vector on its own, a real admin command's completion
// on vector 0, vectors left out, reset and rearm; enabling again swaps vectors and eventfds.
import { describe, expect, it } from 'vitest';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, buildIrqSet } from '../../structs/index.js';
import { openDevice } from '../../src/index.js';
import { sysIoctl } from '../../src/sys/index.js';
import { testDevice } from './manifest.js';
import { openEventfdCount, openFdCount } from '../support/fd-count.js';

describe('nvme MSI-X', () => {
  const nvme = testDevice('nvme');
  const CAP = 0x00,
    CC = 0x14,
    CSTS = 0x1c,
    AQA = 0x24,
    ASQ = 0x28,
    ACQ = 0x30;

  it('fires each of 4 vectors on its own from software, vector 0 on a real admin completion, nothing after disable', () => {
    const before = openFdCount();
    using dev = openDevice(nvme.bdf);
    const bar = dev.bar(0);
    const irqs = dev.interrupts;
    expect(irqs.best).toBe('msix');
    expect(irqs.supported.msix).toBeGreaterThanOrEqual(4);
    expect(irqs.enable('msix', { count: 4 })).toBe('msix');
    expect(irqs.vectors).toEqual([0, 1, 2, 3]);
    expect(irqs.wait(0)).toEqual([]);
    for (let v = 0; v < 4; v++) {
      irqs.trigger(v);
      expect(irqs.wait(2000)).toEqual([{ vector: v, count: 1 }]);
      expect(irqs.wait(20)).toEqual([]);
    }
    irqs.trigger(1);
    irqs.trigger(3);
    expect(irqs.wait(2000)).toEqual([
      { vector: 1, count: 1 },
      { vector: 3, count: 1 },
    ]);
    expect(() => irqs.mask(0)).toThrow(/MSI-X \(irq index 2\) is not maskable/);

    // Admin queues in DMA memory; one Identify Controller command.
    const cap = bar.read64(CAP);
    const timeoutMs = Number((cap >> 24n) & 0xffn) * 500 + 1000;
    const dstrd = Number((cap >> 32n) & 0xfn);
    const until = (what: string, ok: () => boolean): void => {
      const end = Date.now() + timeoutMs;
      while (!ok()) if (Date.now() > end) throw new Error(`nvme: timed out waiting for ${what}`);
    };
    bar.write32(CC, 0);
    until('CSTS.RDY=0', () => (bar.read32(CSTS) & 1) === 0);
    using sq = dev.dma.alloc(4096);
    using cq = dev.dma.alloc(4096);
    using data = dev.dma.alloc(4096);
    sq.bytes.fill(0);
    cq.bytes.fill(0);
    data.bytes.fill(0);
    const entries = 8;
    bar.write32(AQA, ((entries - 1) << 16) | (entries - 1));
    bar.write32(ASQ, Number(sq.iova & 0xffff_ffffn));
    bar.write32(ASQ + 4, Number(sq.iova >> 32n));
    bar.write32(ACQ, Number(cq.iova & 0xffff_ffffn));
    bar.write32(ACQ + 4, Number(cq.iova >> 32n));
    bar.write32(CC, 0x00460001);
    until('CSTS.RDY=1', () => (bar.read32(CSTS) & 1) === 1);

    const cmd = new DataView(sq.bytes.buffer, sq.bytes.byteOffset, 64);
    const cid = 0x42;
    cmd.setUint32(0, 0x06 | (cid << 16), true); // Identify
    cmd.setBigUint64(24, data.iova, true); // PRP1
    cmd.setUint32(40, 1, true); // CNS=1: controller
    bar.write32(0x1000, 1); // SQ0 tail doorbell

    expect(irqs.wait(5000)).toEqual([{ vector: 0, count: 1 }]);
    const cqe = new Int32Array(cq.bytes.buffer, cq.bytes.byteOffset, 4);
    const dw3 = Atomics.load(cqe, 3) >>> 0;
    expect(dw3 & 0xffff).toBe(cid);
    expect((dw3 >>> 16) & 1).toBe(1); // phase
    expect(dw3 >>> 17).toBe(0); // status: success
    const id = Buffer.from(data.bytes.buffer, data.bytes.byteOffset, 4096);
    expect(id.readUInt16LE(0)).toBe(0x1b36);
    expect(id.subarray(4, 24).toString('latin1').trimEnd()).toBe('vfiots0001');
    bar.write32(0x1000 + (4 << dstrd), 1); // CQ0 head doorbell

    // Vector 0 left out: the next completion lands in the CQ without an interrupt.
    irqs.disable();
    expect(irqs.vectors).toEqual([]);
    expect(() => irqs.trigger(0)).toThrow(/no interrupts are enabled/);
    // A raw trigger finds no MSI-X in the kernel.
    expect(() =>
      sysIoctl(
        dev.fd,
        'VFIO_DEVICE_SET_IRQS',
        buildIrqSet({ index: VFIO_PCI_MSIX_IRQ_INDEX, start: 0, count: 4, action: VFIO_IRQ_SET_ACTION_TRIGGER }),
      ),
    ).toThrow(/EINVAL/);
    irqs.enable('msix', { start: 1, count: 3 });
    expect(irqs.vectors).toEqual([1, 2, 3]);
    sq.bytes.copyWithin(64, 0, 64); // the same Identify in slot 1, another command id
    const cmd1 = new DataView(sq.bytes.buffer, sq.bytes.byteOffset + 64, 64);
    cmd1.setUint32(0, 0x06 | ((cid + 1) << 16), true);
    bar.write32(0x1000, 2);
    const cqe1 = new Int32Array(cq.bytes.buffer, cq.bytes.byteOffset + 16, 4);
    until('second completion', () => ((Atomics.load(cqe1, 3) >>> 16) & 1) === 1);
    expect(Atomics.load(cqe1, 3) & 0xffff).toBe(cid + 1);
    expect(irqs.wait(300)).toEqual([]);
    bar.write32(0x1000 + (4 << dstrd), 2);
    irqs.trigger(2);
    expect(irqs.wait(2000)).toEqual([{ vector: 2, count: 1 }]);

    // After a reset the same vectors can be armed again.
    dev.reset();
    irqs.rearm();
    irqs.trigger(3);
    expect(irqs.wait(2000)).toEqual([{ vector: 3, count: 1 }]);
    bar.write32(CC, 0);
    sq.close();
    cq.close();
    data.close();
    dev.close();
    expect(openFdCount()).toBe(before);
  });
});

describe('nvme MSI-X reprogrammed', () => {
  const nvme = testDevice('nvme');

  it('enabling the same type again swaps the vectors and their eventfds; a pending wait gets only the new ones', async () => {
    using dev = openDevice(nvme.bdf);
    const irqs = dev.interrupts;
    const before = openEventfdCount();
    irqs.enable('msix', { count: 2 });
    expect(openEventfdCount()).toBe(before + 2); // one eventfd per vector
    irqs.trigger(1); // counted in vector 1's eventfd, not read yet
    const pending = irqs.waitAsync(3000);
    irqs.enable('msix', { start: 2, count: 2 });
    expect(irqs.type).toBe('msix');
    expect(irqs.vectors).toEqual([2, 3]);
    expect(openEventfdCount()).toBe(before + 2); // the old eventfds were closed
    expect(() => irqs.trigger(1)).toThrow(/cannot trigger MSI-X vector 1: enabled vectors are 2\.\.3/);
    irqs.trigger(3);
    expect(await pending).toEqual([{ vector: 3, count: 1 }]);
    irqs.disable();
    expect(openEventfdCount()).toBe(before);
  });
});
