/**
 * Where the rows that involve two processes run. On a virtual machine a CPU left idle is
 * handed back to the hypervisor, and waking it costs whatever the host makes it cost: on the
 * two-vCPU test machine C's median interrupt wake-up moved between 9 and 43 us from one run to
 * the next. Pinning takes that out: the interrupt row runs the device and the waiter on one
 * CPU (the wake-up is then the kernel's switch from one to the other, the same for every
 * language), the driver loop gives the NIC one CPU and the driver another.
 */
import { availableParallelism } from 'node:os';
import { koffi } from '../../structs/index.js';

const libc = koffi.load('libc.so.6');
const MASK_BYTES = 128; // sizeof(cpu_set_t)
const setAffinity = libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)') as (
  pid: number,
  size: number,
  mask: Uint8Array,
) => number;
const getAffinity = libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)') as (
  pid: number,
  size: number,
  mask: Uint8Array,
) => number;

/** The CPUs this thread may run on, ascending. */
export function allowedCpus(): number[] {
  const mask = new Uint8Array(MASK_BYTES);
  if (getAffinity(0, MASK_BYTES, mask) < 0) throw new Error(`sched_getaffinity failed (errno ${koffi.errno()})`);
  const out: number[] = [];
  for (let cpu = 0; cpu < MASK_BYTES * 8; cpu++) if (mask[cpu >> 3] & (1 << (cpu & 7))) out.push(cpu);
  return out;
}

/**
 * Runs `fn` with the calling thread on `cpu` alone (what it spawns meanwhile starts there too),
 * then puts the thread's mask back.
 */
export async function onCpu<T>(cpu: number, fn: () => T | Promise<T>): Promise<T> {
  const before = new Uint8Array(MASK_BYTES);
  if (getAffinity(0, MASK_BYTES, before) < 0) throw new Error(`sched_getaffinity failed (errno ${koffi.errno()})`);
  const mask = new Uint8Array(MASK_BYTES);
  mask[cpu >> 3] = 1 << (cpu & 7);
  if (setAffinity(0, MASK_BYTES, mask) < 0)
    throw new Error(`sched_setaffinity(CPU ${cpu}) failed (errno ${koffi.errno()})`);
  try {
    return await fn();
  } finally {
    setAffinity(0, MASK_BYTES, before);
  }
}

/** `command` run on `cpu` alone (through util-linux's `taskset`). */
export function onCpuCommand(cpu: number, command: [string, string[]] | string): [string, string[]] {
  const [exe, argv] = typeof command === 'string' ? [command, []] : command;
  return ['taskset', ['--cpu-list', String(cpu), exe, ...argv]];
}

/** Two CPUs for a row that runs two busy processes, or undefined on a machine with one. */
export function twoCpus(): [number, number] | undefined {
  const cpus = allowedCpus();
  return availableParallelism() >= 2 && cpus.length >= 2 ? [cpus[cpus.length - 2], cpus[cpus.length - 1]] : undefined;
}
