// The test VM runner behind scripts/vm/run. See scripts/vm/README.md.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import {
  existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync, openSync, closeSync,
  ftruncateSync, copyFileSync, statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInitramfs } from './initramfs.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const CACHE = join(REPO, '.vm-cache');
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
      return ['-drive', `file=${img},if=none,id=nvm,format=raw`,
        '-device', 'nvme,serial=vfiots0001,drive=nvm'];
    },
    guest: [['nvme', 'nvme', '1b36', '0010', 'vfio', 'root']],
  },
  e1000e: {
    // A netdev that is isolated from the host, so QEMU does not warn "nic has no peer".
    qemu: ['-netdev', 'user,id=n0,restrict=on', '-device', 'e1000e,netdev=n0'],
    guest: [['e1000e', 'e1000e', '8086', '10d3', 'vfio', 'root']],
  },
  // A conventional PCI bridge: everything behind it is one IOMMU group. The virtio-rng
  // stays with its host driver (virtio-pci), so that group is not viable.
  nonviable: {
    qemu: ['-device', 'pci-bridge,id=br0,chassis_nr=1',
      '-device', 'edu,dma_mask=0xffffffffffffffff,bus=br0,addr=0x1',
      '-device', 'virtio-rng-pci,bus=br0,addr=0x2'],
    guest: [['edu-nonviable', 'edu', '1234', '11e8', 'vfio', 'bridge'],
      ['rng-host', 'virtio-rng', '1af4', '1005', 'host', 'bridge']],
  },
};
const DEFAULT_DEVICES = ['edu', 'nvme', 'e1000e', 'nonviable'];
const ALIASES = { 'edu-nonviable': 'nonviable', 'rng-host': 'nonviable' };

const ENV_KEEP = ['PATH', 'HOME', 'CI', 'TERM', 'NODE_OPTIONS', 'LANG', 'LC_ALL', 'TZ',
  'FORCE_COLOR', 'NO_COLOR', 'GITHUB_ACTIONS'];

function usage(msg) {
  if (msg) say(msg);
  process.stderr.write(
    'usage: scripts/vm/run [--devices edu,nvme,e1000e,nonviable|none] [--timeout S] ' +
    '[--memory M] [--log FILE] -- CMD ARGS...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { devices: DEFAULT_DEVICES, timeout: 900, memory: '2G', log: null, cmd: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--') { o.cmd = argv.slice(i + 1); break; }
    else if (a === '--devices') {
      const v = val();
      o.devices = v === 'none' || v === '' ? [] : v.split(',').map((d) => ALIASES[d] ?? d);
    } else if (a === '--timeout') o.timeout = Number(val());
    else if (a === '--memory') o.memory = val();
    else if (a === '--log') o.log = val();
    else if (a === '-h' || a === '--help') usage();
    else { o.cmd = argv.slice(i); break; }
  }
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
  const phoff = Number(b.readBigUInt64LE(0x20)), phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

function findKernel() {
  const cur = join(CACHE, 'kernel', 'current');
  if (!existsSync(cur)) return null;
  const kver = readFileSync(cur, 'utf8').trim();
  const dir = join(CACHE, 'kernel', kver);
  if (!existsSync(join(dir, '.complete'))) return null;
  // boot/vmlinux (extracted by scripts/vm/setup) boots faster than vmlinuz: no decompression.
  const vmlinux = join(dir, 'boot', 'vmlinux');
  return { kver, dir, image: existsSync(vmlinux) ? vmlinux : join(dir, 'boot', `vmlinuz-${kver}`) };
}

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
  flush() { if (!this.done && this.held.length) this.sink(this.held); this.held = Buffer.alloc(0); }
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
  let names = [];
  try { names = readdirSync(tmpdir()).filter((n) => n.startsWith('vfiots-vm-')); } catch { return; }
  for (const n of names) {
    const dir = join(tmpdir(), n);
    try {
      const pid = Number(readFileSync(join(dir, 'qemu.pid'), 'utf8'));
      try { process.kill(pid, 0); continue; } catch { /* dead: stale */ }
    } catch {
      // No pid file yet: a run that is starting, unless it is old.
      try { if (Date.now() - statSync(dir).mtimeMs < 3600_000) continue; } catch { continue; }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv) {
  if (process.env.VFIO_TS_SKIP_VM === '1') {
    const line = '!'.repeat(72);
    process.stderr.write(`${line}\n!!! VFIO_TS_SKIP_VM=1: the VM test suite was SKIPPED, nothing ran in the VM.\n${line}\n`);
    process.exit(0);
  }
  const o = parseArgs(argv);
  const known = Object.keys(DEVICES);
  for (const d of o.devices) if (!known.includes(d)) usage(`unknown device "${d}" (known: ${known.join(', ')})`);

  const qemuBin = which('qemu-system-x86_64');
  const kernel = findKernel();
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p) && isStatic(p));
  const missing = [!qemuBin && 'qemu-system-x86_64', !kernel && 'the guest kernel in .vm-cache/',
    !busybox && 'a static busybox (package busybox-static)'].filter(Boolean);
  if (missing.length) {
    say(`missing: ${missing.join(', ')}.`);
    say(`run scripts/vm/setup (as root) to install them, then try again.`);
    process.exit(EXIT_RIG);
  }

  let initrd;
  try {
    initrd = ensureInitramfs({
      cacheDir: CACHE, kernelDir: kernel.dir, kver: kernel.kver, busybox,
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
      try { process.kill(-qemu.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  const cleanup = () => {
    killQemu();
    if (o.log) try { copyFileSync(consoleLog, o.log); } catch { /* no log */ }
    rmSync(tmp, { recursive: true, force: true });
  };
  const logTail = (n = 60) => {
    let text = '';
    try { text = readFileSync(consoleLog, 'utf8'); } catch { /* none */ }
    const lines = text.split('\n');
    process.stderr.write(`[vm] ---- last ${n} lines of the guest kernel log ----\n` +
      lines.slice(-n - 1).join('\n') + `\n[vm] ---- end of guest kernel log ----\n`);
  };
  // Ends the run: QEMU is killed and reaped before the runner exits, so none survives it.
  const finish = async (code, { showLog = code !== 0 } = {}) => {
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
  process.on('exit', () => { killQemu(); rmSync(tmp, { recursive: true, force: true }); });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { say(`${sig}: stopping the VM`); finish(sig === 'SIGINT' ? 130 : 143, { showLog: false }); });
  }
  process.on('uncaughtException', (e) => { say(`error: ${e?.stack ?? e}`); finish(EXIT_RIG); });

  // What the guest reads from the host share before it runs the command.
  const cwd = process.cwd();
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (ENV_KEEP.includes(k) || k.startsWith('VFIO_TS_')) env[k] = v;
  }
  if (process.stdout.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  env.VFIO_TS_MANIFEST = '/run/vfio-ts/manifest.json';
  env.VFIO_TS_VM = '1';
  writeFileSync(join(tmp, 'cmd.sh'),
    `cd ${shq(cwd)} || exit 125\n` +
    Object.entries(env).map(([k, v]) => `export ${k}=${shq(v)}\n`).join('') +
    `exec ${o.cmd.map(shq).join(' ')}\n`);
  writeFileSync(join(tmp, 'guest.conf'), `NONCE=${nonce}\nCWD=${shq(cwd)}\n`);
  const guestDevices = o.devices.flatMap((d) => DEVICES[d].guest);
  writeFileSync(join(tmp, 'devices.list'), guestDevices.map((g) => g.join(' ')).join('\n') + '\n');

  // Output channels: the command's stdout and stderr, and control lines (kernel, ready, exit).
  const marker = `\0VFIOTS-EOF-${nonce}\0`;
  let exitCode = null;
  let outDone = false, errDone = false;
  let eofTimer = null;
  const maybeDone = () => {
    if (exitCode === null) return;
    if (outDone && errDone) finish(exitCode);
    else if (!eofTimer) {
      eofTimer = setTimeout(() => { say('output did not end cleanly; some may be lost'); finish(exitCode); }, 5000);
    }
  };
  const outF = new UntilMarker(marker, (b) => b.length && process.stdout.write(b), () => { outDone = true; maybeDone(); });
  const errF = new UntilMarker(marker, (b) => b.length && process.stderr.write(b), () => { errDone = true; maybeDone(); });
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
          const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
          const [word, ...rest] = line.split(' ');
          if (word === 'KERNEL') say(`guest kernel ${rest.join(' ')} (booted in ${since()})`);
          else if (word === 'READY') say(`devices bound; command starts at ${since()}`);
          else if (word === 'FAIL') { say(`guest setup failed: ${rest.join(' ')}`); exitCode = EXIT_RIG; outDone = errDone = true; }
          else if (word === 'EXIT') { exitCode = Number(rest[0]); maybeDone(); }
        }
      });
    }),
  ];
  for (const s of servers) s.unref();

  const chardev = (id) => ['-chardev', `socket,id=${id},path=${join(tmp, `${id}.sock`)}`,
    '-device', `virtserialport,chardev=${id},name=vfiots.${id}`];
  const append = ['console=ttyS0', 'quiet', 'panic=-1', 'intel_iommu=on', 'hugepages=64',
    'mitigations=off', `vfiots.dir=${tmp}`].join(' ');
  const args = [
    '-name', `vfiots-${nonce}`,
    // qboot (shipped with Debian's QEMU) gets to the kernel ~0.4 s sooner than SeaBIOS.
    ...(existsSync('/usr/share/qemu/qboot.rom') ? ['-bios', 'qboot.rom'] : []),
    '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', o.memory,
    '-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none', '-nic', 'none',
    '-monitor', 'none', '-serial', `file:${consoleLog}`, '-no-reboot',
    '-device', 'intel-iommu,intremap=on',
    '-kernel', kernel.image, '-initrd', initrd, '-append', append,
    '-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap',
    '-device', 'virtio-serial-pci', ...chardev('ctl'), ...chardev('out'), ...chardev('err'),
    ...o.devices.flatMap((d) => DEVICES[d].qemu ?? DEVICES[d].setup(tmp)),
  ];
  // setpriv --pdeathsig: QEMU dies with the runner even if the runner is SIGKILLed.
  const setpriv = which('setpriv');
  const [bin, binArgs] = setpriv
    ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', qemuBin, ...args]]
    : [qemuBin, args];
  qemu = spawn(bin, binArgs, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  say(`qemu pid ${qemu.pid} (devices: ${o.devices.join(',') || 'none'}; timeout ${o.timeout} s)`);
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
  qemu.on('error', (e) => { say(`cannot start QEMU: ${e.message}`); finish(EXIT_RIG); });
  qemu.on('exit', (code, sig) => {
    if (finished) return;
    outF.flush(); errF.flush();
    if (exitCode !== null) return finish(exitCode);
    say(`QEMU exited (${sig ?? `code ${code}`}) before the command finished (guest panic or crash?)`);
    finish(EXIT_RIG, { showLog: true });
  });

  const timer = setTimeout(() => {
    say(`TIMED OUT after ${o.timeout} s: killing QEMU`);
    outF.flush(); errF.flush();
    finish(EXIT_TIMEOUT, { showLog: true });
  }, o.timeout * 1000);
  timer.unref?.();
}
