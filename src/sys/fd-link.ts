/** What a descriptor of this process is, as the kernel names it in `/proc/self/fd`. */
import { readlinkSync } from 'node:fs';

/** The `/proc/self/fd` link of `fd` (`/dev/null`, `socket:[123]`, `anon_inode:[eventfd]`), or '' when it has none. */
export function fdLink(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

/** `fd` and what it is, for a message: `fd 7 (/dev/null)`. */
export function describeFd(fd: number): string {
  const link = fdLink(fd);
  return link ? `fd ${fd} (${link})` : `fd ${fd}`;
}

/** Whether `fd` is an eventfd. */
export const isEventfd = (fd: number): boolean => fdLink(fd) === 'anon_inode:[eventfd]';
