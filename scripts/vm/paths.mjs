// Where the test rig keeps what it fetches and builds. See scripts/vm/README.md.
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** In the clone: Debian's guest kernels, the arm64 pieces, Node's builds, the initramfs images. */
export const VM_CACHE = join(REPO, '.vm-cache');

/**
 * Outside the clone, shared by clones and kept by `git clean`: the vfio guest kernel
 * (scripts/vm/build-kernel) and the packed install.
 * `$VFIO_TS_CACHE`, else `$XDG_CACHE_HOME/vfio-ts` or `~/.cache/vfio-ts` (as build-kernel).
 */
export const USER_CACHE =
  process.env.VFIO_TS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vfio-ts');
