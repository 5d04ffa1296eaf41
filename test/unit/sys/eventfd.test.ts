// EventFd (src/sys/eventfd.ts) with the two it is used with: Epoll (src/sys/epoll.ts) and the
// event loop's watch on an fd (src/sys/fd-watcher.ts).
import { describe, expect, it } from 'vitest';
import { Epoll, EventFd, FdWatcher } from '../../../src/sys/index.js';
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
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await new Promise((r) => setTimeout(r, 30));
    a.signal();
    const ready = await pending;
    clearInterval(timer);
    expect(ready).toEqual([{ data: 1n, events: 1 }]);
    expect(ticks).toBeGreaterThan(3); // the event loop ran while the watch was pending
    ep.close();
    a.close();
    b.close();
    a.close();
    expect(() => a.read()).toThrow(/is closed/);
    expect(openFdCount()).toBe(before);
  });
});
