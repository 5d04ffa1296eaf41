// EventFd (src/sys/eventfd.ts) with the two it is used with: Epoll (src/sys/epoll.ts) and the
// event loop's watch on an fd (src/sys/fd-watcher.ts).
import { describe, expect, it } from 'vitest';
import { closeSync } from 'node:fs';
import { Epoll, EventFd, FdWatcher, sysReadAt, AddressedMemory } from '../../../src/sys/index.js';
import { SysError } from '../../../structs/index.js';
import { openFdCount } from '../../support/fd-count.js';

describe('eventfd and epoll', () => {
  it('counts signals and reports ready fds, synchronously and watched from the event loop', async () => {
    const before = openFdCount();
    const a = new EventFd();
    const b = new EventFd();
    const ep = new Epoll();
    ep.add(a.fd, 1n);
    ep.add(b.fd, 2n);
    expect(ep.wait(0)).toEqual([]);
    b.signal();
    b.signal(2n);
    expect(ep.wait(100)).toEqual([{ data: 2n, events: 1 }]);
    expect(b.read()).toBe(3n);
    expect(b.read()).toBe(0n);
    const pending = new Promise<unknown>((resolve) => {
      const w = new FdWatcher(ep.fd, () => {
        w.close();
        resolve(ep.wait(0));
      });
      w.start();
    });
    // The event loop runs while the watch is pending: timers fire (a watch that blocked would
    // time this test out), and the watch does not end before its eventfd is signalled.
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise<void>((resolve) => {
      let ticks = 0;
      const timer = setInterval(() => {
        if (++ticks < 5) return;
        clearInterval(timer);
        resolve();
      }, 1);
    });
    expect(settled).toBe(false);
    a.signal();
    expect(await pending).toEqual([{ data: 1n, events: 1 }]);
    ep.close();
    a.close();
    b.close();
    a.close();
    expect(() => a.read()).toThrow(/is closed/);
    expect(openFdCount()).toBe(before);
  });

  it('reads counts as numbers at a fixed address: 0 when empty (EAGAIN), exact past 32 bits', () => {
    const before = openFdCount();
    const fd = new EventFd();
    expect(fd.readCount()).toBe(0); // empty: EAGAIN, no error
    fd.signal();
    fd.signal(2n);
    expect(fd.readCount()).toBe(3);
    expect(fd.readCount()).toBe(0);
    fd.signal(2n ** 40n + 5n);
    expect(fd.readCount()).toBe(2 ** 40 + 5);
    fd.signal(7n);
    expect(fd.read()).toBe(7n);
    fd.close();
    expect(() => fd.readCount()).toThrow(/eventfd \d+ is closed/);
    expect(() => fd.signal()).toThrow(/is closed/);
    expect(openFdCount()).toBe(before);
  });

  it('a read or a signal on an fd closed behind its back fails with EBADF, naming the eventfd', () => {
    const fd = new EventFd();
    closeSync(fd.fd); // closed outside the EventFd: the kernel says EBADF
    for (const call of [() => fd.readCount(), () => fd.signal()]) {
      const err = (() => {
        try {
          call();
        } catch (e) {
          return e;
        }
      })() as SysError;
      expect(err).toBeInstanceOf(SysError);
      expect(err.errnoName).toBe('EBADF');
      expect(err.target).toBe(`eventfd ${fd.fd}`);
    }
    const mem = new AddressedMemory(8);
    expect(() => sysReadAt(fd.fd, mem.address, 8, 'a closed fd')).toThrow(/read.*EBADF/);
  });

  it('hands the epoll data of the ready fds out as numbers, into one reused array', () => {
    const fds = [new EventFd(), new EventFd(), new EventFd()];
    const ep = new Epoll();
    fds.forEach((f, i) => ep.add(f.fd, (2n << 32n) | BigInt(i)));
    const out: number[] = [7, 7, 7, 7];
    expect(ep.waitData(0, out)).toBe(0);
    expect(out).toEqual([]);
    fds[2].signal();
    fds[0].signal();
    expect(ep.waitData(100, out)).toBe(2);
    expect([...out].sort()).toEqual([2 * 2 ** 32, 2 * 2 ** 32 + 2]);
    expect(ep.waitCount(0)).toBe(1); // level-triggered: still ready until read
    ep.close();
    for (const f of fds) f.close();
  });
});
