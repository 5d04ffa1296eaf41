import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { lockedBytes } from '../../src/sys/index.js';

/** Open file descriptors of this process (from /proc/self/fd). */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Open eventfds of this process (their /proc/self/fd links read `anon_inode:[eventfd]`). */
export function openEventfdCount(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]') n++;
    } catch {
      // the fd readdir itself used is gone by now
    }
  }
  return n;
}

/**
 * What a failed or finished call must leave as it found: open fds, mappings of device memory
 * (V8 maps and unmaps heap pages of its own, so only the lines naming VFIO count), and locked
 * memory (VmLck: pinned DMA memory).
 */
export function resourceFootprint(): { fds: number; deviceMaps: number; locked: bigint } {
  return {
    fds: openFdCount(),
    deviceMaps: readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .filter((l) => l.includes('vfio')).length,
    locked: lockedBytes(),
  };
}
