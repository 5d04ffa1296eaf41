/**
 * Row 2, interrupt wake-up: a separate C process plays the device (c/irq-device.c): once the
 * waiter says it is ready, it waits GAP_US (so the waiter is asleep), stamps CLOCK_MONOTONIC
 * into a shared page and signals the interrupt's eventfd. The latency is the waiter's clock
 * when its code runs, less the stamp. The TypeScript waiter is the library's interrupt code on
 * that eventfd (`EventfdInterrupts`: the `IrqWaiting` a device's vectors use), through
 * `wait()`, `waitAsync()` and `for await`; C waits in epoll_wait and reads the eventfd;
 * Python in select.epoll (blocking) and in asyncio's add_reader (the asynchronous lines).
 * The last two lines take the scheduler out: one process signals its own eventfd and waits for
 * it (c/irq-self.c, py/irq_self.py), so they show what the waiting code itself costs. Every
 * process of the row runs on one CPU (cpus.ts says why).
 */
import { EventfdInterrupts } from '../../src/vfio/irq/eventfd-interrupts.js';
import { EventFd, Mapping } from '../../src/sys/index.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../structs/index.js';
import { openSync, closeSync } from 'node:fs';
import { allowedCpus, onCpu } from './cpus.js';
import {
  cProgram,
  interleave,
  pyScript,
  runJson,
  scaled,
  sharedFile,
  startHelper,
  stats,
  type CaseResult,
  type Line,
  type Size,
} from './harness.js';

/** Microseconds between the waiter's "ready" and the interrupt: long enough for it to be asleep. */
const GAP_US = 100;

type Samples = { wait: number[] };
type Mode = 'wait' | 'async' | 'iter';
/** What a waiter does once the device runs: `total` interrupts' latencies. */
type Waiter = (irq: EventFd, ready: EventFd, total: number) => Promise<number[]>;

/** One waiter's run against a fresh device process: latencies in ns, warm-up dropped. */
async function run(file: string, count: number, warmup: number, waiter: Waiter): Promise<number[]> {
  using irq = new EventFd();
  using ready = new EventFd();
  const device = startHelper<{ raised: number }>(
    cProgram('irq-device'),
    [file, warmup + count, GAP_US],
    [irq.fd, ready.fd],
  );
  const raised = device.done.then(
    (r) => r.raised,
    (e: unknown) => e as Error,
  );
  try {
    const samples = await waiter(irq, ready, warmup + count);
    const r = await raised;
    if (r instanceof Error) throw r;
    return samples.slice(warmup);
  } finally {
    device.kill();
  }
}

/** A helper (C or Python) as the waiter: it gets both eventfds too. */
function helperWaiter(command: [string, string[]]) {
  return async (irq: EventFd, ready: EventFd): Promise<number[]> =>
    (await startHelper<Samples>(command, [], [irq.fd, ready.fd]).done).wait;
}

/** The library as the waiter, in one of its three ways. */
function tsWaiter(file: string, mode: Mode) {
  return async (irq: EventFd, ready: EventFd, total: number): Promise<number[]> => {
    const fd = openSync(file, 'r+');
    try {
      using page = new Mapping({ length: 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd, target: file });
      const stamp = new BigUint64Array(page.buffer, 0, 1);
      using irqs = new EventfdInterrupts('bench device', [irq]);
      const out: number[] = [];
      const record = (fired: Array<{ vector: number; count: number }>, t1: bigint) => {
        if (fired.length !== 1 || fired[0].vector !== 0 || fired[0].count !== 1)
          throw new Error(`${mode}: interrupt ${out.length} delivered ${JSON.stringify(fired)}, not one on vector 0`);
        out.push(Number(t1 - Atomics.load(stamp, 0)));
      };
      if (mode === 'wait') {
        for (let i = 0; i < total; i++) {
          ready.signal();
          const fired = irqs.wait(5000);
          record(fired, process.hrtime.bigint());
        }
      } else if (mode === 'async') {
        for (let i = 0; i < total; i++) {
          const wait = irqs.waitAsync();
          ready.signal();
          const fired = await wait;
          record(fired, process.hrtime.bigint());
        }
      } else {
        ready.signal();
        for await (const f of irqs) {
          record([f], process.hrtime.bigint());
          if (out.length === total) break;
          ready.signal();
        }
      }
      return out;
    } finally {
      closeSync(fd);
    }
  };
}

/** The TypeScript CPU path: `ops` rounds of signalling an own eventfd and waiting for it, per rep. */
async function selfSignalled(ops: number, reps: number): Promise<{ selfWait: number[]; selfAsync: number[] }> {
  using fd = new EventFd();
  using irqs = new EventfdInterrupts('bench eventfd', [fd]);
  const sync = (n: number) => {
    for (let i = 0; i < n; i++) {
      fd.signal();
      if (irqs.wait(1000)[0]?.count !== 1) throw new Error('self-signalled wait(): not one interrupt');
    }
  };
  const async = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const w = irqs.waitAsync();
      fd.signal();
      if ((await w)[0]?.count !== 1) throw new Error('self-signalled waitAsync(): not one interrupt');
    }
  };
  const timed = async (body: (n: number) => void | Promise<void>) => {
    await body(Math.max(1, Math.floor(ops / 10)));
    const out: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      await body(ops);
      out.push(Number(process.hrtime.bigint() - t0) / ops);
    }
    return out;
  };
  return { selfWait: await timed(sync), selfAsync: await timed(async) };
}

export async function irq(s: Size): Promise<CaseResult> {
  const file = sharedFile('irq', 4096);
  const count = Math.ceil((s.quick ? 100 : 2000) / s.rounds);
  const warmup = s.quick ? 20 : 100;
  const selfOps = scaled(s, 20_000, 200);
  const sample = (waiter: Waiter) => run(file, count, warmup, waiter);
  const cWaiter = helperWaiter([cProgram('irq-wait'), [file, String(count + warmup)]]);
  const pyWaiter = (mode: Mode) => helperWaiter(pyScript('irq', file, count + warmup, mode));
  type Modes = Record<Mode | 'selfWait' | 'selfAsync', number[]>;
  type Raw = { self: number[] };
  type PySelf = { wait: number[]; async: number[] };
  const cpu = allowedCpus().at(-1)!;
  const { c, ts, py } = await onCpu(cpu, () =>
    interleave<{ c: { wait: number[]; self: number[] }; ts: Modes; py: Modes }>(s.rounds, {
      c: async () => ({
        wait: await sample(cWaiter),
        self: runJson<Raw>(cProgram('irq-self'), [selfOps, s.reps]).self,
      }),
      ts: async () => ({
        wait: await sample(tsWaiter(file, 'wait')),
        async: await sample(tsWaiter(file, 'async')),
        iter: await sample(tsWaiter(file, 'iter')),
        ...(await selfSignalled(selfOps, s.reps)),
      }),
      py: async () => {
        const self = runJson<PySelf>(pyScript('irq_self', selfOps, s.reps));
        return {
          wait: await sample(pyWaiter('wait')),
          async: await sample(pyWaiter('async')),
          iter: await sample(pyWaiter('iter')),
          selfWait: self.wait,
          selfAsync: self.async,
        };
      },
    }),
  );
  const line = (name: string, mode: keyof Modes): Line => ({
    name,
    c: stats(mode.startsWith('self') ? c.self : c.wait),
    ts: stats(ts[mode]),
    py: stats(py[mode]),
  });
  return {
    case: 'interrupt wake-up',
    main: line('wait()', 'wait'),
    variants: [
      line('waitAsync()', 'async'),
      line('for await', 'iter'),
      line('wait(), own signal (CPU path)', 'selfWait'),
      line('waitAsync(), own signal (CPU path)', 'selfAsync'),
    ],
  };
}
