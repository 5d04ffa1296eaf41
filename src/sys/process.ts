/** Facts about this process from /proc/self/status: locked memory and effective capabilities. */
import { readFileSync } from 'node:fs';
import { VfioError, VfioErrorCode } from '../../structs/index.js';

export const CAP_IPC_LOCK = 14;

function statusField(name: string): string | undefined {
  const text = readFileSync('/proc/self/status', 'utf8');
  const m = new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(text);
  return m?.[1].trim();
}

/** Bytes of memory this process has locked or pinned (VmLck: mlock and VFIO DMA pins alike). */
export function lockedBytes(): bigint {
  const v = statusField('VmLck');
  if (v === undefined) return 0n;
  const kib = /^(\d+) kB$/.exec(v);
  if (!kib) throw new VfioError(VfioErrorCode.MALFORMED, `/proc/self/status: VmLck is '${v}', not a size in kB`);
  return BigInt(kib[1]) * 1024n;
}

/** Whether the process holds capability `cap` in its effective set. */
export function hasCapability(cap: number): boolean {
  const v = statusField('CapEff');
  if (v === undefined) return false;
  if (!/^[0-9a-f]{1,16}$/i.test(v))
    throw new VfioError(VfioErrorCode.MALFORMED, `/proc/self/status: CapEff is '${v}', not a hex capability set`);
  return ((BigInt(`0x${v}`) >> BigInt(cap)) & 1n) === 1n;
}
