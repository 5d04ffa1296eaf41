import { readdirSync, readlinkSync } from 'node:fs';

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
