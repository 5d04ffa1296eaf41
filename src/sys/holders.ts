/**
 * Who holds a file open: the processes with an fd on it, found through /proc/PID/fd. Used on the
 * error path of a busy VFIO group or cdev, so that the message can name the holder. The kernel
 * shows another user's fds only to root (or a process with CAP_SYS_PTRACE): those are skipped.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface FileHolder {
  pid: number;
  /** The process's command name (`comm`), or '' when it could not be read. */
  command: string;
}

/** The processes that have `path` open, this one included; empty when none can be seen. */
export function holdersOf(path: string): FileHolder[] {
  const found: FileHolder[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return found;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to see
    }
    const holds = fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
    if (holds) found.push({ pid: Number(pid), command: commandOf(pid) });
  }
  return found;
}

function commandOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * `pid 123 (node), this process`: the holders for a message (`holders`, when already looked up),
 * or how to find them when none are visible.
 */
export function describeHolders(path: string, holders: FileHolder[] = holdersOf(path)): string {
  if (holders.length === 0) return `no holder is visible to this process (as root: fuser -v ${path})`;
  return holders
    .map((h) =>
      h.pid === process.pid ? `this process (pid ${h.pid})` : `pid ${h.pid}${h.command ? ` (${h.command})` : ''}`,
    )
    .join(', ');
}
