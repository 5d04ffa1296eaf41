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
  interleave,
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

type Out = { ioctl: number[]; bytes: number[] };
type Raw = { ioctl: number[]; bytes: number };

export async function ioctl(s: Size): Promise<CaseResult> {
  const file = sharedFile('ioctl', BYTES);
  const ops = scaled(s, 200_000);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const series = (r: Raw): Out => ({ ioctl: r.ioctl, bytes: [r.bytes] });
    const { c, ts, py } = await interleave<{ c: Out; ts: Out; py: Out }>(s.rounds, {
      c: () => series(runJson<Raw>(cProgram('ioctl'), [file, ops, s.reps])),
      ts: () => ({ ioctl: timeLoop({ fd, buf }, ops, s.reps, calls), bytes: [buf.readInt32LE(0)] }),
      py: () => series(runJson<Raw>(pyScript('ioctl', file, ops, s.reps))),
    });
    for (const [who, got] of [
      ['C', c.bytes],
      ['Python', py.bytes],
      ['TypeScript', ts.bytes],
    ] as const)
      if (got.some((n) => n !== BYTES))
        throw new Error(`FIONREAD from ${who} said ${got.join(', ')} bytes, not ${BYTES}`);
    return {
      case: 'ioctl wrapper',
      main: { name: "sysIoctl(fd, 'FIONREAD', buf)", c: stats(c.ioctl), ts: stats(ts.ioctl), py: stats(py.ioctl) },
      variants: [],
    };
  } finally {
    closeSync(fd);
  }
}
