import { readdirSync } from 'node:fs';

/** Open file descriptors of this process (from /proc/self/fd). */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
