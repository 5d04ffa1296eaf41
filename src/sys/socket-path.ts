/**
 * A listening socket's place in the file system: whether the path is free (nothing there, or a
 * socket file left over by a server that is gone), a temporary name beside it to bind under
 * before the socket file is renamed into place, and which file is there (so that a listener
 * removes its own socket file only).
 */
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  EADDRINUSE,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SUN_PATH_MAX,
  SysError,
  VfioErrorCode,
  VfioRangeError,
} from '../../structs/index.js';
import { sysClose } from './calls.js';
import { fail } from './fail.js';
import { sysBind, sysConnect, sysSocket } from './socket-calls.js';

/** Random hex digits of a temporary name: up to 16, at least 6 (a clash is tried again). */
const RANDOM_DIGITS = 16;
const FEWEST_DIGITS = 6;
const BIND_ATTEMPTS = 8;

/**
 * Throws unless a listener may put its socket at `path`: nothing is there, or a socket file
 * that nothing listens on (a `connect` to it is refused), which the listener replaces. A live
 * server there, or a file of another kind, is refused with EADDRINUSE, as `bind` to the path
 * would be. The check connects to a live server once, and closes at once.
 */
export function refuseOccupied(path: string): void {
  const live = listening(path);
  if (live === undefined) return;
  if (live)
    fail(
      'bind',
      path,
      `something is listening at ${path} already (another server, or a listener of this process): stop it, or choose another path`,
      EADDRINUSE,
    );
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isSocket())
    fail(
      'bind',
      path,
      `${path} exists and is not a socket (${kindOf(stat)}), so it is not replaced: remove it, or choose another path`,
      EADDRINUSE,
    );
}

/** Whether something accepts connections at `path`: undefined when there is nothing there. */
function listening(path: string): boolean | undefined {
  const fd = sysSocket(SOCK_STREAM, SOCK_NONBLOCK);
  try {
    sysConnect(fd, path, undefined, `${path} (is a server there?)`);
    return true;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    switch (e.errnoName) {
      case 'ENOENT':
        return undefined;
      // A socket file with no listener, or not a socket at all (the caller tells them apart).
      case 'ECONNREFUSED':
        return false;
      // A listener whose queue is full, or a live socket of another type.
      case 'EAGAIN':
      case 'EPROTOTYPE':
        return true;
      default:
        throw e;
    }
  } finally {
    sysClose(fd);
  }
}

function kindOf(stat: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory';
  return stat.isSymbolicLink() ? 'a symbolic link' : 'a special file';
}

/**
 * Binds `fd` under a new name in `path`'s directory (`.` and random hex digits, as many as
 * fit in a socket path) and returns that name, for a rename to `path` later: the same file
 * system, so the rename puts the socket file there in one step.
 */
export function bindBeside(fd: number, path: string): string {
  const dir = dirname(path);
  const digits = Math.min(RANDOM_DIGITS, SUN_PATH_MAX - Buffer.byteLength(join(dir, '.x')) + 1);
  if (digits < FEWEST_DIGITS)
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `socket path ${path}: its directory leaves no room for a temporary name beside it (${FEWEST_DIGITS} bytes and a dot) within the ${SUN_PATH_MAX} bytes of a UNIX socket path: choose a shorter directory`,
    );
  const hints = {
    ENOENT: `the directory ${dir} does not exist: create it first`,
    EACCES: `the process may not create files in ${dir}: choose a directory it may write to`,
  };
  for (let attempt = 1; ; attempt++) {
    const temporary = join(
      dir,
      `.${randomBytes(RANDOM_DIGITS / 2)
        .toString('hex')
        .slice(0, digits)}`,
    );
    try {
      sysBind(fd, temporary, `${temporary} (bound there, to be renamed to ${path})`, hints);
      return temporary;
    } catch (e) {
      if (!(e instanceof SysError && e.errnoName === 'EADDRINUSE') || attempt === BIND_ATTEMPTS) throw e;
    }
  }
}

/** Which file is at `path` (device and inode), or undefined when there is none or it cannot be seen. */
export function fileIdentity(path: string): string | undefined {
  try {
    const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    return stat && `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}
