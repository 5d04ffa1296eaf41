/**
 * Row 6, the FFI floor: what one foreign call costs, beside C and Python's ctypes. `empty()`
 * (c/lib/empty.c) does nothing, in a shared library of its own: koffi's call with no work in
 * it, against C calling it through the pointer dlsym gives and ctypes calling it. `getppid()`,
 * the cheapest system call: the same call once it enters the kernel (C calls libc's getppid;
 * koffi and ctypes declare it). Row 3's ioctl goes through the same koffi call, with arguments.
 */
import { koffi } from '../../structs/index.js';
import {
  cLibrary,
  cProgram,
  interleave,
  pyScript,
  runJson,
  scaled,
  stats,
  timeLoop,
  type CaseResult,
  type Size,
} from './harness.js';

type Out = { empty: number[]; getppid: number[]; acc?: number[] };

function empties(f: { empty: () => void }, n: number): number {
  for (let i = 0; i < n; i++) f.empty();
  return n;
}

function syscalls(f: { getppid: () => number }, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += f.getppid();
  return acc;
}

export function floor(s: Size): Promise<CaseResult> {
  const lib = cLibrary('empty');
  const emptyOps = scaled(s, 2_000_000);
  const syscallOps = scaled(s, 200_000);
  const f = {
    empty: koffi.load(lib).func('void empty(void)') as () => void,
    getppid: koffi.load('libc.so.6').func('int getppid(void)') as () => number,
  };
  const args = [lib, emptyOps, syscallOps, s.reps];
  return interleave<{ c: Out; ts: Out; py: Out }>(s.rounds, {
    c: () => runJson<Out>(cProgram('floor'), args),
    ts: () => ({ empty: timeLoop(f, emptyOps, s.reps, empties), getppid: timeLoop(f, syscallOps, s.reps, syscalls) }),
    py: () => runJson<Out>(pyScript('floor', ...args)),
  }).then(({ c, ts, py }) => ({
    case: 'FFI floor',
    main: { name: 'empty() in a shared library', c: stats(c.empty), ts: stats(ts.empty), py: stats(py.empty) },
    variants: [{ name: 'getppid(), a system call', c: stats(c.getppid), ts: stats(ts.getppid), py: stats(py.getppid) }],
  }));
}
