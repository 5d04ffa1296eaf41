/** Resource limits (`getrlimit`/`setrlimit`), as bigints with `RLIM_INFINITY` kept as is. */
import { decodeStruct, rlimit, structBuffer, RLIMIT_MEMLOCK, RLIM_INFINITY } from '../../structs/index.js';
import { errno, libc } from './libc.js';
import { SysError } from './errors.js';

export interface Limit {
  soft: bigint;
  hard: bigint;
}

export { RLIMIT_MEMLOCK, RLIM_INFINITY };

export function getRlimit(resource: number): Limit {
  const buf = structBuffer(rlimit, {});
  if (libc.getrlimit(resource, buf) < 0)
    throw new SysError({ syscall: 'getrlimit', errno: errno(), target: `resource ${resource}` });
  const r = decodeStruct<{ rlim_cur: bigint; rlim_max: bigint }>(buf, rlimit);
  return { soft: r.rlim_cur, hard: r.rlim_max };
}

export function setRlimit(resource: number, limit: Limit): void {
  const buf = structBuffer(rlimit, { rlim_cur: limit.soft, rlim_max: limit.hard });
  if (libc.setrlimit(resource, buf) < 0)
    throw new SysError({ syscall: 'setrlimit', errno: errno(), target: `resource ${resource}` });
}
