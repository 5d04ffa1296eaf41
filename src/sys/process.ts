/** Facts about this process from /proc/self/status: locked memory and effective capabilities. */
import { readFileSync } from 'node:fs';

export const CAP_IPC_LOCK = 14;

function statusField(name: string): string | undefined {
  const text = readFileSync('/proc/self/status', 'utf8');
  const m = new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(text);
  return m?.[1].trim();
}

/** Bytes of memory this process has locked or pinned (VmLck: mlock and VFIO DMA pins alike). */
export function lockedBytes(): bigint {
  const v = statusField('VmLck');
  return v ? BigInt(v.split(/\s+/)[0]) * 1024n : 0n;
}

/** Whether the process holds capability `cap` in its effective set. */
export function hasCapability(cap: number): boolean {
  const v = statusField('CapEff');
  return v !== undefined && ((BigInt(`0x${v}`) >> BigInt(cap)) & 1n) === 1n;
}
