/**
 * What `vfio doctor` reads of the machine, behind one interface so that host tests can give it
 * a fake tree and a chosen user: files under the sysfs, proc and dev roots, who is asking, and
 * that user's locked-memory limit.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAP_IPC_LOCK, getRlimit, hasCapability, type Limit } from '../../sys/index.js';
import { RLIMIT_MEMLOCK } from '../../../structs/index.js';
import { DEFAULT_SYSFS } from '../../pci/index.js';

export interface MachineFacts {
  /** Where sysfs, procfs and /dev are (`/sys`, `/proc`, `/dev` on a real machine). */
  readonly sysfs: string;
  readonly proc: string;
  readonly dev: string;
  /** The user asking: uid 0 passes every permission check. */
  readonly uid: number;
  /** Whether the process may lock memory without limit (CAP_IPC_LOCK). */
  readonly ipcLock: boolean;
  readonly memlock: Limit;
  /** Whether this user may open `path` for reading and writing. */
  canOpen(path: string): boolean;
}

/** The machine this process runs on (`sysfs` may point elsewhere, as `--sysfs` does). */
export function thisMachine(sysfs = DEFAULT_SYSFS): MachineFacts {
  return {
    sysfs,
    proc: '/proc',
    dev: '/dev',
    uid: process.getuid?.() ?? -1,
    ipcLock: hasCapability(CAP_IPC_LOCK),
    memlock: getRlimit(RLIMIT_MEMLOCK),
    canOpen: (path) => {
      try {
        accessSync(path, constants.R_OK | constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** A file's text, trimmed, or null when it cannot be read. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** A directory's entries, sorted, or null when it cannot be listed. */
export function listDir(path: string): string[] | null {
  try {
    return readdirSync(path).sort();
  } catch {
    return null;
  }
}

export const exists = (...parts: string[]): boolean => existsSync(join(...parts));
