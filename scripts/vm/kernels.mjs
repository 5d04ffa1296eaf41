// Finding what scripts/vm/run boots: the guest kernels scripts/vm/setup fetched or built, and the
// host programs it needs. See scripts/vm/README.md.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ARM64_CACHE, findArm64Kernel } from './arch.mjs';
import { USER_CACHE, VM_CACHE, kernelFragmentHash, vfioKernelDir } from './paths.mjs';

export function which(cmd) {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

/** A static binary has no PT_INTERP program header. */
export function isStatic(path) {
  const b = readFileSync(path);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20)),
    phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

/** Debian's kernel, unpacked by scripts/vm/setup into .vm-cache/kernel/<version>/. */
function findDebianKernel() {
  const cur = join(VM_CACHE, 'kernel', 'current');
  if (!existsSync(cur)) return null;
  const kver = readFileSync(cur, 'utf8').trim();
  const dir = join(VM_CACHE, 'kernel', kver);
  if (!existsSync(join(dir, '.complete'))) return null;
  // boot/vmlinux (extracted by scripts/vm/setup) boots faster than vmlinuz: no decompression.
  const vmlinux = join(dir, 'boot', 'vmlinux');
  return {
    flavour: 'debian',
    kver,
    image: existsSync(vmlinux) ? vmlinux : join(dir, 'boot', `vmlinuz-${kver}`),
    modDir: join(dir, 'lib', 'modules', kver),
  };
}

/**
 * Our kernel, built by scripts/vm/build-kernel from this checkout's fragment into
 * $VFIO_TS_CACHE/kernel-vfio/<version>-<fragment hash>/: no modules.
 */
function findVfioKernel() {
  const dir = vfioKernelDir();
  if (!dir) return null;
  const kver = readFileSync(join(dir, 'version'), 'utf8').trim();
  const vmlinux = join(dir, 'vmlinux'); // ELF with a PVH note: QEMU boots it directly
  return { flavour: 'vfio', kver, image: existsSync(vmlinux) ? vmlinux : join(dir, 'bzImage'), modDir: null };
}

export const findKernel = (flavour, arch) =>
  arch === 'arm64' ? findArm64Kernel() : flavour === 'vfio' ? findVfioKernel() : findDebianKernel();

/** Where the kernel should be, for the message when it is not. */
export const kernelWhere = (flavour, arch) =>
  arch === 'arm64'
    ? `the arm64 guest kernel in ${join(ARM64_CACHE, 'kernel')}/ (scripts/vm/setup-arm64)`
    : flavour === 'vfio'
      ? `the vfio guest kernel in ${join(USER_CACHE, 'kernel-vfio')}/<version>-${kernelFragmentHash()}/ (scripts/vm/build-kernel)`
      : 'the Debian guest kernel in .vm-cache/kernel/';
