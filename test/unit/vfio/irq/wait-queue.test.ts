// The pure half of interrupt waiting: the counts read and not yet handed out (PendingIrqs) and the
// queue of asynchronous waits (IrqWaiterQueue), with fake timers for the timeouts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IrqWaiterQueue, PendingIrqs, oneByOne, type IrqFired } from '../../../../src/vfio/irq/wait-queue.js';
import { IrqWaitAbortedError } from '../../../../structs/index.js';

describe('PendingIrqs', () => {
  it('adds up counts per vector and hands them out sorted by vector, once', () => {
    const p = new PendingIrqs();
    p.add(3, 1);
    p.add(0, 2);
    p.add(3, 4);
    p.add(1, 0); // an eventfd read of 0: nothing fired
    expect(p.size).toBe(2);
    expect(p.take()).toEqual([
      { vector: 0, count: 2 },
      { vector: 3, count: 5 },
    ]);
    expect(p.size).toBe(0);
    expect(p.take()).toEqual([]);
  });

  it('adds up and sorts many vectors at once (past its linear lookup)', () => {
    const p = new PendingIrqs();
    for (let round = 0; round < 2; round++) for (let v = 39; v >= 0; v--) p.add(v * 3, v + 1);
    p.drop(6);
    const fired = p.take();
    expect(fired.length).toBe(39);
    expect(fired.map((f) => f.vector)).toEqual([...Array(40).keys()].filter((v) => v !== 2).map((v) => v * 3));
    expect(fired.every((f) => f.count === 2 * (f.vector / 3 + 1))).toBe(true);
    p.add(5, 1);
    expect(p.take()).toEqual([{ vector: 5, count: 1 }]);
  });

  it('drops a disabled vector and keeps the others', () => {
    const p = new PendingIrqs();
    p.add(1, 1);
    p.add(2, 7);
    p.drop(1);
    expect(p.take()).toEqual([{ vector: 2, count: 7 }]);
  });
});

describe('IrqWaiterQueue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A take() that hands out `batches` one by one, then []. */
  const batches =
    (...bs: IrqFired[][]) =>
    () =>
      bs.shift() ?? [];

  it('serves the oldest wait first, one batch each, and stops when the batches run out', async () => {
    const q = new IrqWaiterQueue();
    const first = q.add(-1, () => {});
    const second = q.add(-1, () => {});
    q.serve(batches([{ vector: 0, count: 1 }]));
    expect(q.length).toBe(1);
    expect(await first).toEqual([{ vector: 0, count: 1 }]);
    q.serve(batches([{ vector: 2, count: 3 }], [{ vector: 1, count: 1 }]));
    expect(await second).toEqual([{ vector: 2, count: 3 }]);
    expect(q.length).toBe(0);
  });

  it('takes nothing while nobody waits', () => {
    const q = new IrqWaiterQueue();
    const take = vi.fn(() => [{ vector: 0, count: 1 }]);
    q.serve(take);
    expect(take).not.toHaveBeenCalled();
  });

  it('resolves [] on timeout, leaves the queue before onTimeout runs, and gets no later batch', async () => {
    const q = new IrqWaiterQueue();
    let lengthInTimeout = -1;
    const timedOut = q.add(50, () => (lengthInTimeout = q.length));
    const patient = q.add(-1, () => {});
    vi.advanceTimersByTime(49);
    expect(q.length).toBe(2);
    vi.advanceTimersByTime(1);
    expect(await timedOut).toEqual([]);
    expect(lengthInTimeout).toBe(1);
    q.serve(batches([{ vector: 5, count: 1 }]));
    expect(await patient).toEqual([{ vector: 5, count: 1 }]);
  });

  it('a served wait does not time out afterwards', async () => {
    const q = new IrqWaiterQueue();
    const onTimeout = vi.fn();
    const w = q.add(10, onTimeout);
    q.serve(batches([{ vector: 0, count: 1 }]));
    vi.advanceTimersByTime(100);
    expect(await w).toEqual([{ vector: 0, count: 1 }]);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it('abort rejects every wait with the reason and the device, and cancels their timeouts', async () => {
    const q = new IrqWaiterQueue();
    const onTimeout = vi.fn();
    const waits = [q.add(10, onTimeout), q.add(-1, onTimeout)];
    q.abort('disabled', '0000:00:03.0');
    expect(q.length).toBe(0);
    for (const w of waits) {
      const err = await w.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IrqWaitAbortedError);
      expect((err as IrqWaitAbortedError).reason).toBe('disabled');
      expect((err as Error).message).toBe('interrupt wait on 0000:00:03.0 ended: interrupts were disabled');
    }
    vi.advanceTimersByTime(100);
    expect(onTimeout).not.toHaveBeenCalled();
  });
});

describe('oneByOne', () => {
  /** Waits that return `results` in turn: a batch, or an error to reject with. */
  const waits = (...results: Array<IrqFired[] | Error>) => {
    const next = vi.fn(() => {
      const r = results.shift() ?? new IrqWaitAbortedError('stopped', 'd');
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    });
    return next;
  };

  it('yields each vector of each batch in turn and ends (done) when a wait is aborted', async () => {
    const next = waits(
      [
        { vector: 0, count: 2 },
        { vector: 3, count: 1 },
      ],
      [],
      [{ vector: 1, count: 1 }],
      new IrqWaitAbortedError('disabled', 'd'),
    );
    const seen: IrqFired[] = [];
    for await (const f of oneByOne(next)) seen.push(f);
    expect(seen).toEqual([
      { vector: 0, count: 2 },
      { vector: 3, count: 1 },
      { vector: 1, count: 1 },
    ]);
    expect(next).toHaveBeenCalledTimes(4);
  });

  it('waits again only when asked for the next interrupt', async () => {
    const next = waits([{ vector: 0, count: 1 }], [{ vector: 1, count: 1 }]);
    const it = oneByOne(next);
    expect(next).not.toHaveBeenCalled();
    expect(await it.next()).toEqual({ done: false, value: { vector: 0, count: 1 } });
    expect(next).toHaveBeenCalledTimes(1);
    await it.return();
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('throws any other error, and is done after it', async () => {
    const it = oneByOne(waits(new Error('EBADF')));
    await expect(it.next()).rejects.toThrow('EBADF');
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('answers calls made while a wait is pending in turn, after it', async () => {
    const next = waits(
      [
        { vector: 0, count: 1 },
        { vector: 2, count: 3 },
      ],
      [{ vector: 1, count: 1 }],
    );
    const it = oneByOne(next);
    const answers = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
    expect(answers).toEqual([
      { done: false, value: { vector: 0, count: 1 } },
      { done: false, value: { vector: 2, count: 3 } },
      { done: false, value: { vector: 1, count: 1 } },
      { done: true, value: undefined },
    ]);
    expect(next).toHaveBeenCalledTimes(3);
  });

  it('return() and throw() end it after a pending wait; a synchronous throw of the wait rejects', async () => {
    const it = oneByOne(waits([{ vector: 5, count: 1 }], [{ vector: 6, count: 1 }]));
    const pending = it.next();
    const ended = it.return();
    expect(await pending).toEqual({ done: false, value: { vector: 5, count: 1 } });
    expect(await ended).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    const other = oneByOne(waits([{ vector: 1, count: 1 }]));
    await expect(other.throw(new Error('from the consumer'))).rejects.toThrow('from the consumer');
    expect(await other.next()).toEqual({ done: true, value: undefined });
    const sync = oneByOne(() => {
      throw new Error('not enabled');
    });
    await expect(sync.next()).rejects.toThrow('not enabled');
    const disposed = oneByOne(waits([{ vector: 1, count: 1 }]));
    await disposed[Symbol.asyncDispose]();
    expect(await disposed.next()).toEqual({ done: true, value: undefined });
    expect(disposed[Symbol.asyncIterator]()).toBe(disposed);
  });
});

describe('IrqWaitAbortedError', () => {
  it('says why the wait ended', () => {
    expect(new IrqWaitAbortedError('closed', 'd').message).toBe(
      'interrupt wait on d ended: the device (or its interrupts) was closed',
    );
    expect(new IrqWaitAbortedError('stopped', 'd').message).toBe('interrupt wait on d ended: stop() was called');
    expect(new IrqWaitAbortedError('stopped', 'd').name).toBe('IrqWaitAbortedError');
  });
});
