/**
 * Row 3, system-call overhead: `sysIoctl(fd, 'FIONREAD', buf)`, the one wrapper every VFIO and
 * iommufd ioctl of the library goes through (koffi's call, the errno check, the request code by
 * name), on the cheapest ioctl there is (FIONREAD on a regular file: the kernel answers from
 * the inode); against C's ioctl() and Python's fcntl.ioctl on the same file.
 */
import { closeSync, openSync } from 'node:fs';
import { sysIoctl } from '../../src/sys/index.js';
import {
  cProgram,
  pyScript,
  runJson,
  scaled,
  sharedFile,
  stats,
  timeLoop,
  type CaseResult,
  type Size,
} from './harness.js';

const BYTES = 100;

function calls(t: { fd: number; buf: Buffer }, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += sysIoctl(t.fd, 'FIONREAD', t.buf);
  return acc;
}

type Out = { ioctl: number[]; bytes: number };

export function ioctl(s: Size): CaseResult {
  const file = sharedFile('ioctl', BYTES);
  const ops = scaled(s, 300_000);
  const c = runJson<Out>(cProgram('ioctl'), [file, ops, s.reps]);
  const py = runJson<Out>(pyScript('ioctl', file, ops, s.reps));
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const ts = timeLoop({ fd, buf }, ops, s.reps, calls);
    for (const [who, n] of [
      ['C', c.bytes],
      ['Python', py.bytes],
      ['TypeScript', buf.readInt32LE(0)],
    ] as const)
      if (n !== BYTES) throw new Error(`FIONREAD from ${who} says ${n} bytes, not ${BYTES}`);
    return {
      case: 'ioctl wrapper',
      main: { name: "sysIoctl(fd, 'FIONREAD', buf)", c: stats(c.ioctl), ts: stats(ts), py: stats(py.ioctl) },
      variants: [],
    };
  } finally {
    closeSync(fd);
  }
}
