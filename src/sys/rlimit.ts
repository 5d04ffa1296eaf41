/** Resource limits (`getrlimit`/`setrlimit`), as bigints with `RLIM_INFINITY` kept as is. */
import { decodeStruct, rlimit, structBuffer, RLIMIT_MEMLOCK, RLIM_INFINITY } from '../../structs/index.js';
import { sysGetrlimit, sysSetrlimit } from './calls.js';

export interface Limit {
  soft: bigint;
  hard: bigint;
}

export { RLIMIT_MEMLOCK, RLIM_INFINITY };

export function getRlimit(resource: number): Limit {
  const buf = structBuffer(rlimit, {});
  sysGetrlimit(resource, buf);
  const r = decodeStruct<{ rlim_cur: bigint; rlim_max: bigint }>(buf, rlimit);
  return { soft: r.rlim_cur, hard: r.rlim_max };
}

export function setRlimit(resource: number, limit: Limit): void {
  const buf = structBuffer(rlimit, { rlim_cur: limit.soft, rlim_max: limit.hard });
  sysSetrlimit(resource, buf);
}
