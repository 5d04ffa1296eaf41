import { describe, expect, it } from 'vitest';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  RLIMIT_MEMLOCK,
  RLIMIT_NOFILE,
} from '../../../structs/index.js';
import {
  Epoll,
  EventFd,
  FdWatcher,
  Mapping,
  MmioWindow,
  SysError,
  getRlimit,
  pageSize,
} from '../../../src/sys/index.js';
import { openFdCount } from '../../support/fd-count.js';

describe('memory mappings and views', () => {
  it('maps anonymous memory, views it without copies, and unmaps', () => {
    const m = new Mapping({ length: 2 * pageSize(), prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    m.u32[0] = 0xdeadbeef;
    expect(m.u8[0]).toBe(0xef);
    expect(m.u64.length).toBe((2 * pageSize()) / 8);
    const w = new MmioWindow(m.buffer);
    w.write64(8, 0x0123456789abcdefn);
    expect(w.read32(8)).toBe(0x89abcdef);
    expect(w.read16(14)).toBe(0x0123);
    expect(w.read8(0)).toBe(0xef);
    m.close();
    m.close();
    expect(() => m.u8).toThrow(/is closed/);
  });

  it('a failing mmap throws a SysError naming the target', () => {
    expect(() => new Mapping({ length: 4096, prot: PROT_READ, flags: MAP_PRIVATE, fd: -1, target: 'nothing' })).toThrow(
      SysError,
    );
    expect(() => new Mapping({ length: 4096, prot: PROT_READ, flags: MAP_PRIVATE, fd: -1, target: 'nothing' })).toThrow(
      /mmap on nothing failed: EBADF/,
    );
  });
});

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

describe('rlimits', () => {
  it('reads RLIMIT_MEMLOCK and RLIMIT_NOFILE as bigints', () => {
    const m = getRlimit(RLIMIT_MEMLOCK);
    expect(typeof m.soft).toBe('bigint');
    expect(m.soft <= m.hard).toBe(true);
    expect(getRlimit(RLIMIT_NOFILE).soft).toBeGreaterThan(10n);
  });
});
