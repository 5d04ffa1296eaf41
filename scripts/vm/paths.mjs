// Where the test rig keeps what it fetches and builds. See scripts/vm/README.md.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

/** The config fragment of the vfio guest kernel (scripts/vm/build-kernel). */
export const KERNEL_FRAGMENT = join(REPO, 'scripts', 'vm', 'kernel', 'vfio-guest.config');

/** The fragment's hash as build-kernel names its build: the first 12 hex digits of its sha256. */
export const kernelFragmentHash = () =>
  createHash('sha256').update(readFileSync(KERNEL_FRAGMENT)).digest('hex').slice(0, 12);

/**
 * The build of the vfio guest kernel made from this checkout's fragment:
 * `USER_CACHE/kernel-vfio/<version>-<fragment hash>/` (the newest version when there are
 * several), or null when build-kernel has not built it. Each fragment has its own build, so
 * clones whose fragments differ each boot their own.
 */
export function vfioKernelDir() {
  const root = join(USER_CACHE, 'kernel-vfio');
  if (!existsSync(root)) return null;
  const suffix = `-${kernelFragmentHash()}`;
  const builds = readdirSync(root)
    .filter((d) => d.endsWith(suffix) && existsSync(join(root, d, '.complete')))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return builds.length ? join(root, builds[builds.length - 1]) : null;
}
