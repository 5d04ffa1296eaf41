// Interrupts on edu: MSI (one per raise, refusals, software trigger), INTx (the kernel's mask
// and the unmask), and asynchronous waits (the event loop, stop(), a close while waiting).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDevice, IrqWaitAbortedError, type IrqFired } from '../../src/index.js';
import { testDevice } from './manifest.js';
import { openFdCount } from '../support/fd-count.js';

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
