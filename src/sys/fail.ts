/** How a failed system call becomes a `SysError`: shared by `calls.ts` and `socket-calls.ts`. */
import { SysError, errnoName } from '../../structs/index.js';
import { errno, libc } from './libc.js';

/**
 * What to tell the user: one hint for any errno, or hints by errno symbol (`{ EBUSY: '...' }`).
 * A hint by errno may be a function, called only when the call failed with that errno (for a
 * hint that costs work to write, such as who holds a busy file).
 */
export type Hint = string | Readonly<Partial<Record<string, string | (() => string)>>>;

/** Throws the `SysError` of a failed call: `e` is its errno when already read, else read now. */
export function fail(syscall: string, target?: string, hint?: Hint, e = errno()): never {
  const byErrno = typeof hint === 'object' ? hint[errnoName(e)] : hint;
  const text = typeof byErrno === 'function' ? byErrno() : byErrno;
  const description = String(libc.strerror(e) ?? 'unknown error');
  throw new SysError({ syscall, errno: e, target, hint: text, description });
}
