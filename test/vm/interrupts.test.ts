import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, buildIrqSet } from '../../structs/index.js';
import { openDevice, IrqWaitAbortedError, type IrqFired } from '../../src/index.js';
import { sysIoctl } from '../../src/sys/index.js';
import { testDevice } from './manifest.js';
import { openEventfdCount, openFdCount } from '../support/fd-count.js';

const EDU_IRQ_STATUS = 0x24;
const EDU_IRQ_RAISE = 0x60;
const EDU_IRQ_ACK = 0x64;

/** edu keeps its irq status across opens: clear what an earlier (failed) test left raised. */
function eduClear(bar: { write32(o: number, v: number): void }): void {
  bar.write32(EDU_IRQ_ACK, 0xffff_ffff);
}

/** Waits until `total` interrupts were counted (MSI writes are delivered asynchronously). */
function collect(irqs: { wait(ms: number): IrqFired[] }, total: number, timeoutMs = 3000): Map<number, number> {
  const got = new Map<number, number>();
  const end = Date.now() + timeoutMs;
  let sum = 0;
  while (sum < total && Date.now() < end) {
    for (const f of irqs.wait(Math.max(1, end - Date.now()))) {
      got.set(f.vector, (got.get(f.vector) ?? 0) + f.count);
      sum += f.count;
    }
  }
  return got;
}

describe('edu MSI', () => {
  const edu = testDevice('edu');

  it('chooses MSI (edu has no MSI-X) and reports what the device supports', () => {
    using dev = openDevice(edu.bdf);
    expect(dev.interrupts.supported).toEqual({ intx: 1, msi: 1, msix: 0 });
    expect(dev.interrupts.best).toBe('msi');
    expect(dev.interrupts.enable('auto')).toBe('msi');
    expect(dev.interrupts.type).toBe('msi');
    expect(dev.interrupts.vectors).toEqual([0]);
  });

  it('delivers exactly one interrupt per raise on vector 0; the status register holds the value', () => {
    const before = openFdCount();
    using dev = openDevice(edu.bdf);
    const bar = dev.bar(0);
    eduClear(bar);
    const irqs = dev.interrupts;
    irqs.enable('msi');
    expect(irqs.wait(0)).toEqual([]);
    bar.write32(EDU_IRQ_RAISE, 0x1);
    expect(irqs.wait(2000)).toEqual([{ vector: 0, count: 1 }]);
    expect(bar.read32(EDU_IRQ_STATUS)).toBe(0x1);
    expect(irqs.wait(100)).toEqual([]); // exactly one
    bar.write32(EDU_IRQ_ACK, 0x1);
    expect(bar.read32(EDU_IRQ_STATUS)).toBe(0);
    bar.write32(EDU_IRQ_RAISE, 0x2);
    expect(irqs.wait(2000)).toEqual([{ vector: 0, count: 1 }]);
    expect(bar.read32(EDU_IRQ_STATUS)).toBe(0x2);
    bar.write32(EDU_IRQ_ACK, 0x2);
    // Several raises before the wait: one vector, counted. Back-to-back MSIs may merge in the
    // (guest) local APIC while one is pending, as on hardware, so 1 to 3 are counted.
    for (let i = 0; i < 3; i++) bar.write32(EDU_IRQ_RAISE, 0x4);
    const got = collect(irqs, 3, 500);
    expect([...got.keys()]).toEqual([0]);
    expect(got.get(0)).toBeGreaterThanOrEqual(1);
    expect(got.get(0)).toBeLessThanOrEqual(3);
    bar.write32(EDU_IRQ_ACK, 0x4);
    dev.close();
    dev.close();
    expect(openFdCount()).toBe(before);
    expect(() => irqs.wait(0)).toThrow(/closed/);
  });

  it('refuses a second type while one is enabled, and MSI masking, with the fix in the message', () => {
    using dev = openDevice(edu.bdf);
    const irqs = dev.interrupts;
    irqs.enable('msi');
    expect(() => irqs.enable('intx')).toThrow(
      /cannot enable INTx while MSI is enabled .*call interrupts\.disable\(\) first/,
    );
    expect(() => irqs.enable('msix')).toThrow(/cannot enable MSI-X while MSI is enabled/);
    expect(() => irqs.mask(0)).toThrow(/MSI \(irq index 1\) is not maskable/);
    expect(() => irqs.trigger(1)).toThrow(/cannot trigger MSI vector 1: enabled vectors are 0\.\.0/);
    irqs.disable();
    expect(() => irqs.trigger(0)).toThrow(/no interrupts are enabled; call device\.interrupts\.enable\(\) first/);
    expect(() => irqs.enable('msix')).toThrow(/0000:.* has no MSI-X vectors .*enable\('auto'\)/);
    expect(irqs.enable('intx')).toBe('intx');
  });

  it('software trigger fires the vector like the device does', () => {
    using dev = openDevice(edu.bdf);
    const irqs = dev.interrupts;
    irqs.enable('msi');
    irqs.trigger(0);
    irqs.trigger(0);
    expect(irqs.wait(1000)).toEqual([{ vector: 0, count: 2 }]);
  });
});

describe('edu INTx', () => {
  const edu = testDevice('edu');

  it('is masked by the kernel after each interrupt: the second arrives only because of the unmask', () => {
    using dev = openDevice(edu.bdf);
    const bar = dev.bar(0);
    eduClear(bar);
    const irqs = dev.interrupts;
    expect(irqs.enable('intx', { autoUnmask: false })).toBe('intx');
    bar.write32(EDU_IRQ_RAISE, 0x1);
    expect(irqs.wait(2000)).toEqual([{ vector: 0, count: 1 }]);
    expect(bar.read32(EDU_IRQ_STATUS)).toBe(0x1);
    bar.write32(EDU_IRQ_ACK, 0x1); // line low
    bar.write32(EDU_IRQ_RAISE, 0x2); // line high again, but INTx is masked
    expect(irqs.wait(300)).toEqual([]);
    irqs.unmask(); // the kernel sees the line asserted and signals
    expect(irqs.wait(2000)).toEqual([{ vector: 0, count: 1 }]);
    expect(bar.read32(EDU_IRQ_STATUS)).toBe(0x2);
    bar.write32(EDU_IRQ_ACK, 0x2);
    irqs.unmask();
    expect(irqs.wait(300)).toEqual([]); // acknowledged: nothing pending
  });

  it('auto-unmasks when the consumer comes back: raise twice, count once until acknowledged', () => {
    using dev = openDevice(edu.bdf);
    const bar = dev.bar(0);
    eduClear(bar);
    const irqs = dev.interrupts;
    irqs.enable('intx');
    bar.write32(EDU_IRQ_RAISE, 0x1);
    bar.write32(EDU_IRQ_RAISE, 0x1);
    expect(irqs.wait(2000)).toEqual([{ vector: 0, count: 1 }]); // masked after the first
    bar.write32(EDU_IRQ_ACK, 0x1);
    expect(irqs.wait(300)).toEqual([]); // unmasked here; nothing pending
    bar.write32(EDU_IRQ_RAISE, 0x8);
    expect(irqs.wait(2000)).toEqual([{ vector: 0, count: 1 }]);
    expect(bar.read32(EDU_IRQ_STATUS)).toBe(0x8);
    bar.write32(EDU_IRQ_ACK, 0x8);
    irqs.disable();
    expect(irqs.type).toBeUndefined();
  });

  it('async iteration of INTx unmasks after each step of the loop', async () => {
    using dev = openDevice(edu.bdf);
    const bar = dev.bar(0);
    eduClear(bar);
    const irqs = dev.interrupts;
    irqs.enable('intx');
    const seen: IrqFired[] = [];
    const loop = (async () => {
      for await (const f of irqs) {
        seen.push(f);
        bar.write32(EDU_IRQ_ACK, bar.read32(EDU_IRQ_STATUS)); // clear, then the next step unmasks
        if (seen.length === 3) break;
      }
    })();
    for (let i = 0; i < 3; i++) {
      bar.write32(EDU_IRQ_RAISE, 1 << i);
      const deadline = Date.now() + 3000;
      while (seen.length <= i && Date.now() < deadline) await sleep(5);
    }
    irqs.stop(); // ends the loop if an interrupt went missing, instead of hanging the test
    await loop;
    expect(seen).toEqual([
      { vector: 0, count: 1 },
      { vector: 0, count: 1 },
      { vector: 0, count: 1 },
    ]);
  });
});

describe('asynchronous waits', () => {
  const edu = testDevice('edu');

  it('keep the event loop running, and closing the device ends a pending wait and frees every fd', async () => {
    const before = openFdCount();
    const dev = openDevice(edu.bdf);
    const bar = dev.bar(0);
    eduClear(bar);
    const irqs = dev.interrupts;
    irqs.enable('msi');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const first = irqs.waitAsync();
      await sleep(250);
      expect(ticks).toBeGreaterThanOrEqual(5); // the event loop keeps running while the wait is pending
      bar.write32(EDU_IRQ_RAISE, 0x1);
      expect(await first).toEqual([{ vector: 0, count: 1 }]);
      bar.write32(EDU_IRQ_ACK, 0x1);

      // A timed wait resolves [] and stops the watch.
      expect(await irqs.waitAsync(50)).toEqual([]);

      // The iterator and a pending wait both end when the device closes.
      const seen: IrqFired[] = [];
      let iteratorDone = false;
      const loop = (async () => {
        for await (const f of irqs) seen.push(f);
        iteratorDone = true;
      })();
      bar.write32(EDU_IRQ_RAISE, 0x2);
      for (let i = 0; i < 300 && seen.length === 0; i++) await sleep(10);
      expect(seen).toEqual([{ vector: 0, count: 1 }]);
      bar.write32(EDU_IRQ_ACK, 0x2);
      const ticksBefore = ticks;
      await sleep(100);
      expect(ticks).toBeGreaterThan(ticksBefore);
      const pending = irqs.waitAsync();
      const t0 = Date.now();
      dev.close();
      const err = await pending.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IrqWaitAbortedError);
      expect((err as IrqWaitAbortedError).reason).toBe('closed');
      expect(String(err)).toMatch(/interrupt wait on 0000:.* ended: the device \(or its interrupts\) was closed/);
      await loop;
      expect(iteratorDone).toBe(true);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(openFdCount()).toBe(before);
    } finally {
      clearInterval(timer);
      dev.close();
    }
  });

  it('stop() ends the iterator (done) and a pending wait (rejected), and waiting again works', async () => {
    using dev = openDevice(edu.bdf);
    const irqs = dev.interrupts;
    irqs.enable('msi');
    const it = irqs.events();
    const next = it.next();
    const pending = irqs.waitAsync();
    await sleep(50);
    irqs.stop();
    expect(await next).toEqual({ done: true, value: undefined });
    await expect(pending).rejects.toMatchObject({ reason: 'stopped' });
    const again = irqs.waitAsync(3000);
    irqs.trigger(0);
    expect(await again).toEqual([{ vector: 0, count: 1 }]);
    // disable() ends waits too
    const p = irqs.waitAsync();
    irqs.disable();
    await expect(p).rejects.toMatchObject({ reason: 'disabled' });
  });

  it('a script that closes the device while waiting exits instead of hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-irq-'));
    // Plain JavaScript on the built package (scripts/vm/test-matrix builds dist/ first): tsx
    // compiling the sources would cost this test 15 s under TCG.
    const script = join(dir, 'close-while-waiting.mjs');
    const index = resolve('dist/src/index.js');
    writeFileSync(
      script,
      `
      import { openDevice } from ${JSON.stringify(index)};
      const dev = openDevice(${JSON.stringify(edu.bdf)});
      dev.interrupts.enable('msi');
      dev.interrupts.waitAsync().then((f) => console.log('fired', JSON.stringify(f)), (e) => console.log('ended:', e.reason));
      setTimeout(() => dev.close(), 200);
    `,
    );
    const child = spawn(process.execPath, [script], {
      cwd: resolve('.'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | string>((res) => {
      const kill = setTimeout(() => {
        child.kill('SIGKILL');
        res('hung');
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        res(c ?? 'signal');
      });
    });
    expect(out).toContain('ended: closed');
    expect(code).toBe(0);
  }, 90_000);
});

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

describe('request interrupt', () => {
  const nic = testDevice('e1000e');

  it('tells the script the kernel wants the device back; closing it lets the unbind finish', async () => {
    const dev = openDevice(nic.bdf);
    let asked = 0;
    const off = dev.interrupts.onRequest(({ device }) => {
      asked++;
      device.close();
    });
    expect(typeof off).toBe('function');
    // The unbind blocks in the kernel until the device is closed: write it on the thread pool.
    await writeFile('/sys/bus/pci/drivers/vfio-pci/unbind', nic.bdf);
    expect(asked).toBe(1);
    expect(dev.closed).toBe(true);
    expect(existsSync(`/sys/bus/pci/devices/${nic.bdf}/driver`)).toBe(false);
    // Bind it back for the other tests (driver_override still says vfio-pci).
    await writeFile('/sys/bus/pci/drivers_probe', nic.bdf);
    expect(readlinkSync(`/sys/bus/pci/devices/${nic.bdf}/driver`)).toMatch(/vfio-pci$/);
    using again = openDevice(nic.bdf);
    expect(again.interrupts.best).toBe('msix');
  }, 30_000);

  it('unsubscribing the last handler disables the request interrupt and frees its eventfd', async () => {
    using dev = openDevice(nic.bdf);
    const irqs = dev.interrupts;
    const before = openEventfdCount();
    const off = irqs.onRequest(() => {});
    const off2 = irqs.onRequest(() => {});
    expect(openEventfdCount()).toBe(before + 1); // one eventfd for the request, whatever the handlers
    await sleep(20);
    off();
    expect(openEventfdCount()).toBe(before + 1); // another handler still listens
    off2();
    off2();
    expect(openEventfdCount()).toBe(before);
  });
});
