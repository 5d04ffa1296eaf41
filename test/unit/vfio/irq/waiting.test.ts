// The interrupt waits on eventfds that no device owns (EventfdInterrupts, the seam the host
// benchmarks use): the IrqWaiting a device's vectors use, fed by eventfds that another process
// or a worker thread signals. Counts arrive exactly, through wait(), waitAsync() and for await;
// stop() and close() end pending waits; the watch lets Node exit once nobody waits; the package
// does not export the seam.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EventFd } from '../../../../src/sys/index.js';
import { type IrqFired } from '../../../../src/vfio/irq/wait-queue.js';
import { EventfdInterrupts } from '../../../../src/vfio/irq/eventfd-interrupts.js';
import { IrqWaiting } from '../../../../src/vfio/irq/waiting.js';
import { IrqWaitAbortedError } from '../../../../structs/index.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'vfio-irq-seam-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A node process that, after `delayMs`, adds `n` to eventfd `i` (its fd 3 + i) for each
 * `[i, n]` of `writes`, one write each: another process signalling, as a device does.
 */
const SIGNALLER = `
const fs = require('node:fs');
const [writes, delayMs] = JSON.parse(process.argv[1]);
const b = Buffer.alloc(8);
setTimeout(() => {
  for (const [i, n] of writes) { b.writeBigUInt64LE(BigInt(n)); fs.writeSync(3 + i, b); }
}, delayMs);
`;

function args(fds: EventFd[], writes: Array<[number, number]>, delayMs: number) {
  return {
    argv: ['-e', SIGNALLER, JSON.stringify([writes, delayMs])],
    stdio: ['ignore', 'ignore', 'inherit', ...fds.map((f) => f.fd)] as Array<'ignore' | 'inherit' | number>,
  };
}

/** Signals from another process and waits until it is done. */
function signalFromProcess(fds: EventFd[], writes: Array<[number, number]>): void {
  const { argv, stdio } = args(fds, writes, 0);
  const r = spawnSync(process.execPath, argv, { stdio });
  expect(r.status).toBe(0);
}

/** Signals from another process after `delayMs`, without waiting for it. */
function signalLater(fds: EventFd[], writes: Array<[number, number]>, delayMs: number): Promise<number | null> {
  const { argv, stdio } = args(fds, writes, delayMs);
  const child = spawn(process.execPath, argv, { stdio });
  return new Promise((done) => child.on('close', done));
}

/** Adds up what the waits delivered, per vector. */
function tally(into: Map<number, number>, fired: IrqFired[]): void {
  for (const f of fired) into.set(f.vector, (into.get(f.vector) ?? 0) + f.count);
}

const open: Array<{ close(): void }> = [];
function eventfds(n: number): EventFd[] {
  const fds = Array.from({ length: n }, () => new EventFd());
  open.push(...fds);
  return fds;
}
function seam(fds: EventFd[]): EventfdInterrupts {
  const irqs = new EventfdInterrupts('test eventfds', fds);
  open.unshift(irqs); // closed before its eventfds
  return irqs;
}
afterEach(() => {
  for (const r of open.splice(0)) r.close();
});

describe('EventfdInterrupts: synchronous waits', () => {
  it('delivers exactly what another process signalled, per vector, sorted; then nothing', () => {
    const fds = eventfds(3);
    const irqs = seam(fds);
    expect(irqs.wait(0)).toEqual([]);
    signalFromProcess(fds, [
      [0, 1],
      [2, 5],
      [0, 2],
      [1, 1],
    ]);
    expect(irqs.wait(1000)).toEqual([
      { vector: 0, count: 3 },
      { vector: 1, count: 1 },
      { vector: 2, count: 5 },
    ]);
    expect(irqs.wait(0)).toEqual([]);
  });

  it('a blocking wait wakes when another process signals', async () => {
    const fds = eventfds(2);
    const irqs = seam(fds);
    const exited = signalLater(fds, [[1, 1]], 200);
    const t0 = performance.now();
    expect(irqs.wait(10_000)).toEqual([{ vector: 1, count: 1 }]);
    expect(performance.now() - t0).toBeGreaterThan(50); // it blocked: the child signals 200 ms after it starts
    expect(await exited).toBe(0);
    expect(irqs.wait(0)).toEqual([]);
  });
});

describe('EventfdInterrupts: asynchronous waits', () => {
  it('waitAsync resolves with what another process signalled, with one eventfd and with several', async () => {
    for (const n of [1, 3]) {
      const fds = eventfds(n);
      const irqs = seam(fds);
      const pending = irqs.waitAsync(10_000);
      await signalLater(fds, [[n - 1, 4]], 0);
      expect(await pending).toEqual([{ vector: n - 1, count: 4 }]);
      expect(irqs.wait(0)).toEqual([]);
    }
  });

  it('for await adds up to exactly what a worker thread signalled, on one eventfd', async () => {
    const [fd] = eventfds(1);
    const irqs = seam([fd]);
    const total = 2000;
    const worker = new Worker(
      `const fs = require('node:fs'); const { fd, total } = require('node:worker_threads').workerData;
       const b = Buffer.alloc(8); b.writeBigUInt64LE(1n);
       for (let i = 0; i < total; i++) fs.writeSync(fd, b);`,
      { eval: true, workerData: { fd: fd.fd, total } },
    );
    const exited = new Promise((done) => worker.on('exit', done)); // it may end before the loop does
    const got = new Map<number, number>();
    for await (const f of irqs) {
      tally(got, [f]);
      if (got.get(0)! >= total) break;
    }
    expect(await exited).toBe(0);
    expect(got).toEqual(new Map([[0, total]]));
    expect(irqs.wait(50)).toEqual([]);
  });

  it('for await over several eventfds gets every count another process signalled, and nothing more', async () => {
    const fds = eventfds(3);
    const irqs = seam(fds);
    const writes: Array<[number, number]> = [];
    for (let i = 0; i < 300; i++) writes.push([i % 3 === 1 ? 2 : 0, 1]);
    const exited = signalLater(fds, writes, 50);
    const got = new Map<number, number>();
    for await (const f of irqs) {
      tally(got, [f]);
      if ((got.get(0) ?? 0) + (got.get(2) ?? 0) === 300) break;
    }
    expect(await exited).toBe(0);
    expect(got).toEqual(
      new Map([
        [0, 200],
        [2, 100],
      ]),
    );
    expect(irqs.wait(50)).toEqual([]);
  });

  it('stop() ends a pending wait and the iterator, and waiting again works; close() ends them for good', async () => {
    const fds = eventfds(1);
    const irqs = seam(fds);
    const stopped = irqs.waitAsync();
    const iterated = (async () => {
      const seen: IrqFired[] = [];
      for await (const f of irqs) seen.push(f);
      return seen;
    })();
    await new Promise((r) => setTimeout(r, 20));
    irqs.stop();
    await expect(stopped).rejects.toMatchObject({ name: 'IrqWaitAbortedError', reason: 'stopped' });
    expect(await iterated).toEqual([]);
    const again = irqs.waitAsync();
    fds[0].signal(2n);
    expect(await again).toEqual([{ vector: 0, count: 2 }]);
    const closed = irqs.waitAsync();
    irqs.close();
    const e: unknown = await closed.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IrqWaitAbortedError);
    expect((e as IrqWaitAbortedError).reason).toBe('closed');
    expect(() => irqs.wait(0)).toThrow('interrupt waits of test eventfds is closed: open it again to use it');
    await expect(irqs.waitAsync()).rejects.toThrow(/is closed/);
    fds[0].signal(); // the eventfds stay their owner's
    expect(fds[0].read()).toBe(1n);
  });

  it('lets Node exit once the last wait was served, though nothing was closed', () => {
    const script = join(dir, 'exit.mts');
    writeFileSync(
      script,
      `import { EventFd } from ${JSON.stringify(join(ROOT, 'src/sys/index.ts'))};
       import { EventfdInterrupts } from ${JSON.stringify(join(ROOT, 'src/vfio/irq/eventfd-interrupts.ts'))};
       const fd = new EventFd();
       const irqs = new EventfdInterrupts('exit test', [fd]);
       for (let i = 0; i < 3; i++) {
         const w = irqs.waitAsync();
         setTimeout(() => fd.signal(), 5);
         console.log(JSON.stringify(await w));
       }`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(Array(3).fill('[{"vector":0,"count":1}]'));
    expect(r.signal).toBeNull(); // not killed by the timeout: the watch was relaxed
    expect(r.status).toBe(0);
  });
});

describe('IrqWaiting: eventfds added and removed while a wait is pending', () => {
  // With one eventfd the event loop watches it directly; with more, an epoll holding them all.
  // A pending wait must see every eventfd through each move of the watch, and none removed.
  it('delivers from whichever eventfds are watched at the time, one or several or one again', async () => {
    const fds = eventfds(3);
    const waiting = new IrqWaiting('moving watch', {
      delivered: () => {},
      requested: () => {},
      errored: () => {},
      listening: () => false,
    });
    open.unshift(waiting);
    const vector = (i: number) => ({ kind: 'vector', vector: i }) as const;
    waiting.add(vector(0), fds[0]);
    let pending = waiting.waitAsync(10_000);
    waiting.add(vector(1), fds[1]); // the watch moves to the epoll with both
    await signalLater(fds, [[1, 2]], 0);
    expect(await pending).toEqual([{ vector: 1, count: 2 }]);

    pending = waiting.waitAsync(10_000);
    waiting.add(vector(2), fds[2]);
    waiting.remove(vector(1));
    waiting.remove(vector(2)); // back to the eventfd of vector 0 alone
    await signalLater(
      fds,
      [
        [1, 5],
        [2, 6],
        [0, 3],
      ],
      0,
    );
    expect(await pending).toEqual([{ vector: 0, count: 3 }]);
    expect(waiting.wait(0)).toEqual([]);

    expect(fds[1].readCount()).toBe(5); // a removed vector's signals stayed in its eventfd
    expect(fds[2].readCount()).toBe(6);
    signalFromProcess(fds, [[0, 1]]); // already there when the wait starts
    waiting.add(vector(1), fds[1]);
    expect(await waiting.waitAsync(10_000)).toEqual([{ vector: 0, count: 1 }]);

    waiting.remove(vector(0));
    waiting.remove(vector(1));
    expect(await waiting.waitAsync(100)).toEqual([]); // nothing watched: the timeout ends it
  });
});

describe("IrqWaiting: the kernel's signals (request and error)", () => {
  // A device's request and error eventfds are watched beside its vectors; what they count goes
  // to the hooks, never to a wait's result, and a request handler that closes ends the waits.
  function watched(hooks: { requested?: (n: number) => void; errored?: (n: number) => void }) {
    const fds = eventfds(3);
    const waiting = new IrqWaiting('signals', {
      delivered: () => {},
      requested: hooks.requested ?? (() => {}),
      errored: hooks.errored ?? (() => {}),
      listening: () => true,
    });
    open.unshift(waiting);
    waiting.add({ kind: 'vector', vector: 0 }, fds[0]);
    waiting.add({ kind: 'request' }, fds[1]);
    waiting.add({ kind: 'error' }, fds[2]);
    return { fds, waiting };
  }

  it('tells errors and requests apart, with their counts, through wait() and from the event loop', async () => {
    const errors: number[] = [];
    const requests: number[] = [];
    const { fds, waiting } = watched({ errored: (n) => errors.push(n), requested: (n) => requests.push(n) });
    signalFromProcess(fds, [
      [2, 2],
      [1, 1],
    ]);
    expect(waiting.wait(0)).toEqual([]); // signals are not interrupts of a vector
    expect(errors).toEqual([2]);
    expect(requests).toEqual([1]);
    waiting.startWatch();
    const pending = waiting.waitAsync(10_000);
    await signalLater(
      fds,
      [
        [2, 1],
        [0, 4],
      ],
      0,
    );
    expect(await pending).toEqual([{ vector: 0, count: 4 }]);
    expect(errors).toEqual([2, 1]);
    expect(requests).toEqual([1]);
  });

  it('a request handler that closes ends a blocked wait() with ERR_VFIO_DEVICE_REMOVED', async () => {
    const { fds, waiting } = watched({ requested: () => waiting.end('removed') });
    const signalled = signalLater(fds, [[1, 1]], 100);
    let thrown: unknown;
    try {
      waiting.wait(10_000);
    } catch (e) {
      thrown = e;
    }
    await signalled;
    expect(thrown).toBeInstanceOf(IrqWaitAbortedError);
    expect(thrown).toMatchObject({ code: 'ERR_VFIO_DEVICE_REMOVED', reason: 'removed' });
    expect((thrown as Error).message).toBe(
      'interrupt wait on signals ended: the kernel asked for the device back (a hot-unplug, or vfio-pci unbound from it) and it was closed',
    );
  });

  it('and a pending waitAsync() the same way, from the event loop', async () => {
    const { fds, waiting } = watched({ requested: () => waiting.end('removed') });
    waiting.startWatch();
    const ended = waiting.waitAsync(10_000).catch((e: unknown) => e);
    await signalLater(fds, [[1, 3]], 0);
    expect(await ended).toMatchObject({ code: 'ERR_VFIO_DEVICE_REMOVED', reason: 'removed' });
    expect(waiting.closed).toBe(true);
  });
});

describe('the seam stays internal', () => {
  it('is not exported by the package', async () => {
    const api = await import('../../../../src/index.js');
    expect(Object.keys(api)).not.toContain('EventfdInterrupts');
    expect(Object.keys(api)).not.toContain('IrqWaiting');
  });
});
