/**
 * The unprivileged user the VM tests run children as (uid and gid 65534), and the device files
 * such a user is given, as a deployment gives a service user its VFIO files.
 */
import { chownSync, statSync } from 'node:fs';

/** Spawn options for a child run as uid and gid 65534, HOME a directory it may write (tsx caches there). */
export const NOBODY = { uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' } };

/**
 * Gives `files` to NOBODY until disposed (`using`), then back to their owners; if giving one
 * fails, those already given are given back before it throws.
 */
export function lendToNobody(files: readonly string[]): Disposable {
  const owners = files.map((f) => statSync(f));
  const giveBack = (count: number) => {
    for (let i = 0; i < count; i++) chownSync(files[i], owners[i].uid, owners[i].gid);
  };
  let lent = 0;
  try {
    for (; lent < files.length; lent++) chownSync(files[lent], NOBODY.uid, NOBODY.gid);
  } catch (e) {
    giveBack(lent);
    throw e;
  }
  return { [Symbol.dispose]: () => giveBack(files.length) };
}
