// Builds (and caches in .vm-cache/) the busybox initramfs of the test VM: busybox, /init
// (scripts/vm/init.sh), the guest kernel's modules with their dependencies, in load order.
// A kernel without modules (the vfio flavour: everything built in) gets none: modDir null.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, readdirSync, renameSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

// The modules the guest needs, in load order (docs/DESIGN.md, "The test rig"), plus overlay (the
// writable layer over the 9p share) and virtio_console (the ports that carry the command's
// output). Dependencies found in the modules' own .modinfo are loaded before each one.
export const MODULES = [
  'netfs',
  'fscache',
  '9pnet',
  'virtio_ring',
  'virtio',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_pci',
  '9pnet_virtio',
  '9p',
  'irqbypass',
  'vfio',
  'vfio_virqfd',
  'vfio_iommu_type1',
  'vfio-pci-core',
  'vfio-pci',
  'overlay',
  'virtio_console',
];

// Bump when the layout of the archive changes, so old caches are not reused.
const FORMAT = 2;

const norm = (name) => name.replace(/-/g, '_');

/** Map of normalised module name -> path of its .ko, for one extracted kernel. */
function indexModules(modDir) {
  const index = new Map();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ko')) index.set(norm(e.name.slice(0, -3)), p);
    }
  };
  walk(join(modDir, 'kernel'));
  return index;
}

/** The `depends=` field of a module's .modinfo section (what `modinfo -F depends` prints). */
export function moduleDepends(koPath) {
  const buf = readFileSync(koPath);
  const key = Buffer.from('\0depends=');
  const at = buf.indexOf(key);
  if (at < 0) return [];
  const end = buf.indexOf(0, at + key.length);
  const value = buf.subarray(at + key.length, end).toString('latin1');
  return value ? value.split(',').filter(Boolean) : [];
}

/** Modules to load, dependencies first, each once. */
export function resolveModules(modDir, wanted = MODULES) {
  const index = indexModules(modDir);
  const builtin = new Set(
    readFileSync(join(modDir, 'modules.builtin'), 'latin1')
      .split('\n')
      .filter(Boolean)
      .map((l) => norm(l.replace(/^.*\//, '').replace(/\.ko.*$/, ''))),
  );
  const order = [];
  const seen = new Set();
  const visit = (name, from) => {
    const n = norm(name);
    if (seen.has(n) || builtin.has(n)) return;
    const ko = index.get(n);
    if (!ko) throw new Error(`module ${name}${from ? ` (needed by ${from})` : ''} is not in ${modDir}`);
    seen.add(n);
    for (const dep of moduleDepends(ko)) visit(dep, name);
    order.push({ name: n, ko });
  };
  for (const m of wanted) visit(m);
  return order;
}

// --- cpio "newc" writer ------------------------------------------------------------------
function cpioEntry(name, mode, data = Buffer.alloc(0), rdev = [0, 0]) {
  const nameBuf = Buffer.from(name + '\0');
  const fields = [0, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
  const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''));
  const pad = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  return [header, nameBuf, pad(header.length + nameBuf.length), data, pad(data.length)];
}

function buildCpio(files) {
  const parts = [];
  for (const f of files) parts.push(...cpioEntry(f.name, f.mode, f.data, f.rdev));
  parts.push(...cpioEntry('TRAILER!!!', 0));
  return Buffer.concat(parts);
}

/**
 * Returns the path of the initramfs for this kernel, building it when the cache has none for
 * these inputs (flavour, init script, kernel version, busybox binary, module list, format).
 * `modDir` is the kernel's lib/modules/<kver>, or null for a kernel without modules.
 */
export function ensureInitramfs({ cacheDir, flavour, modDir, kver, busybox, initScript }) {
  const init = readFileSync(initScript);
  const bb = readFileSync(busybox);
  const wanted = modDir ? MODULES : [];
  const key = createHash('sha256')
    .update(JSON.stringify({ FORMAT, flavour, kver, modules: wanted }))
    .update(init)
    .update(bb)
    .digest('hex')
    .slice(0, 16);
  const name = (k) => `initramfs-${flavour}-${kver}-${k}.cpio`;
  const out = join(cacheDir, name(key));
  if (existsSync(out)) return out;

  const mods = modDir ? resolveModules(modDir, wanted) : [];
  const D = 0o040755,
    X = 0o100755,
    R = 0o100644;
  const files = [
    { name: 'bin', mode: D },
    { name: 'dev', mode: D },
    { name: 'proc', mode: D },
    { name: 'sys', mode: D },
    { name: 'tmp', mode: D },
    { name: 'lib', mode: D },
    { name: 'lib/modules', mode: D },
    { name: 'dev/console', mode: 0o020600, rdev: [5, 1] },
    { name: 'bin/busybox', mode: X, data: bb },
    { name: 'init', mode: X, data: init },
    { name: 'modules.list', mode: R, data: Buffer.from(mods.map((m) => `${m.name}\n`).join('')) },
    ...mods.map((m) => ({ name: `lib/modules/${m.name}.ko`, mode: R, data: readFileSync(m.ko) })),
  ];
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, buildCpio(files));
  renameSync(tmp, out);
  // Older builds for this flavour are of no further use (the other flavour's stays), nor are
  // those of the naming before flavours.
  const prefix = `initramfs-${flavour}-`;
  for (const f of readdirSync(cacheDir)) {
    if (!/^initramfs-.*\.cpio$/.test(f) || join(cacheDir, f) === out) continue;
    const oldNaming = !/^initramfs-(debian|vfio)-/.test(f);
    if (f.startsWith(prefix) || oldNaming) rmSync(join(cacheDir, f), { force: true });
  }
  return out;
}
