/**
 * Row 6, the FFI floor: what a foreign call costs, koffi beside C and Python's ctypes, with
 * nothing of the library around it (a reference row: the library's own lines are rows 1-5).
 * `empty()` (c/lib/empty.c) does nothing, in a shared library of its own: the call with no work
 * in it (C calls it through the pointer dlsym gives). Then the system calls of the library's
 * hot paths, as bare calls on fixed memory: getppid() (the cheapest there is), row 3's ioctl
 * (FIONREAD), and row 2's own-signal round (an eventfd's write, epoll_wait and read).
 */
import { closeSync, openSync } from 'node:fs';
import { EFD_CLOEXEC, EFD_NONBLOCK, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLLIN, koffi } from '../../structs/index.js';
import { AddressedMemory } from '../../src/sys/index.js';
import {
  cLibrary,
  cProgram,
  interleave,
  pyScript,
  runJson,
  scaled,
  sharedFile,
  stats,
  timeLoop,
  type CaseResult,
  type Line,
  type Size,
} from './harness.js';

const FIONREAD = 0x541b;

type Out = { empty: number[]; getppid: number[]; ioctl: number[]; wait: number[] };

/**
 * The timed loops over the bench's own koffi declarations, in the forms the library uses
 * (addresses as numbers, memory at a fixed address), each a closure over constants as C's
 * calls are: nothing but the calls. `fd` is the file of the ioctl; `at` 64 bytes at a fixed address.
 */
function loops(lib: string, fd: number, at: number) {
  const libc = koffi.load('libc.so.6');
  const empty = koffi.load(lib).func('void empty(void)') as () => void;
  const getppid = libc.func('int getppid(void)') as () => number;
  const ioctl = libc.func('int ioctl(int fd, unsigned long request, uintptr_t arg)') as (...a: number[]) => number;
  const write = libc.func('long write(int fd, uintptr_t buf, size_t count)') as (...a: number[]) => number;
  const read = libc.func('long read(int fd, uintptr_t buf, size_t count)') as (...a: number[]) => number;
  const epollWait = libc.func('int epoll_wait(int epfd, uintptr_t events, int maxevents, int timeout)') as (
    ...a: number[]
  ) => number;
  const close = libc.func('int close(int fd)') as (fd: number) => number;
  const efd = (libc.func('int eventfd(unsigned int initval, int flags)') as (...a: number[]) => number)(
    0,
    EFD_CLOEXEC | EFD_NONBLOCK,
  );
  const ep = (libc.func('int epoll_create1(int flags)') as (flags: number) => number)(EPOLL_CLOEXEC);
  const epollCtl = libc.func('int epoll_ctl(int epfd, int op, int fd, void *event)') as (
    ...a: [number, number, number, Uint8Array]
  ) => number;
  const ev = Buffer.alloc(16);
  ev.writeUInt32LE(EPOLLIN, 0);
  if (efd < 0 || ep < 0 || epollCtl(ep, EPOLL_CTL_ADD, efd, ev) < 0) throw new Error('floor: eventfd/epoll');
  return {
    empty: (_: unknown, n: number): number => {
      for (let i = 0; i < n; i++) empty();
      return n;
    },
    getppid: (_: unknown, n: number): number => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += getppid();
      return acc;
    },
    ioctl: (_: unknown, n: number): number => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += ioctl(fd, FIONREAD, at);
      return acc;
    },
    /** An eventfd's signal, epoll_wait and read: row 2's own-signal round, bare. */
    wait: (_: unknown, n: number): number => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        write(efd, at + 8, 8);
        epollWait(ep, at + 16, 1, 1000);
        acc += read(efd, at + 32, 8);
      }
      return acc;
    },
    close: (): void => {
      close(efd);
      close(ep);
    },
  };
}

export async function floor(s: Size): Promise<CaseResult> {
  const lib = cLibrary('empty');
  const file = sharedFile('floor', 100);
  const emptyOps = scaled(s, 2_000_000);
  const syscallOps = scaled(s, 200_000);
  const memory = new AddressedMemory(64);
  new BigUint64Array(memory.buffer)[1] = 1n; // what the eventfd write adds
  const fd = openSync(file, 'r');
  const l = loops(lib, fd, memory.address);
  try {
    const args = [lib, file, emptyOps, syscallOps, s.reps];
    const { c, ts, py } = await interleave<{ c: Out; ts: Out; py: Out }>(s.rounds, {
      c: () => runJson<Out>(cProgram('floor'), args),
      ts: () => ({
        empty: timeLoop(null, emptyOps, s.reps, l.empty),
        getppid: timeLoop(null, syscallOps, s.reps, l.getppid),
        ioctl: timeLoop(null, syscallOps, s.reps, l.ioctl),
        wait: timeLoop(null, Math.round(syscallOps / 4), s.reps, l.wait),
      }),
      py: () => runJson<Out>(pyScript('floor', ...args)),
    });
    const line = (name: string, k: keyof Out): Line => ({ name, c: stats(c[k]), ts: stats(ts[k]), py: stats(py[k]) });
    return {
      case: 'FFI floor',
      main: line('empty() in a shared library', 'empty'),
      variants: [
        line('getppid(), a system call', 'getppid'),
        line('ioctl(fd, FIONREAD, n), bare', 'ioctl'),
        line('eventfd write, epoll_wait, read, bare', 'wait'),
      ],
    };
  } finally {
    l.close();
    closeSync(fd);
  }
}
