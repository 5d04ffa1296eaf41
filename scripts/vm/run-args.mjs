// The command line of scripts/vm/run: options through node:util parseArgs (strict), up to the
// command, which starts at `--` or at the first operand. A mistake exits 2 with a message.
import { parseArgs } from 'node:util';
import { ARCH_NAMES } from './arch.mjs';
import { DEFAULT_DEVICES, DEVICE_ALIASES } from './devices.mjs';
import { findNode, NODES } from './nodes.mjs';
import { USER_CACHE } from './paths.mjs';
import { join, resolve } from 'node:path';

export const KERNELS = ['debian', 'vfio'];

const OPTIONS = {
  arch: { type: 'string' },
  kernel: { type: 'string' },
  'no-iommu': { type: 'boolean' },
  devices: { type: 'string' },
  node: { type: 'string' },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  log: { type: 'string' },
  'vfio-user': { type: 'string', multiple: true },
  'keep-driver': { type: 'string', multiple: true },
  monitor: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const USAGE =
  'usage: scripts/vm/run [--arch x86_64|arm64] [--kernel debian|vfio] [--no-iommu] ' +
  '[--devices edu,nvme,e1000e,nonviable|none] [--node VERSION] [--timeout S] [--memory M] [--log FILE] [--vfio-user SOCKET]... [--keep-driver NAME]... [--monitor] -- CMD ARGS...\n';

const say = (msg) => process.stderr.write(`[vm] ${msg}\n`);

export function usage(msg) {
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
                                   in ${join(USER_CACHE, 'kernel-vfio')}/VERSION-HASH
                                   (HASH: of its config fragment);
                                   adds iommufd (/dev/iommu, /dev/vfio/devices/vfioN)
                                   and no-IOMMU mode
  --no-iommu             boot without the emulated VT-d (no intel-iommu device, no
                         intel_iommu=on) and with vfio.enable_unsafe_noiommu_mode=1: groups
                         are /dev/vfio/noiommu-N. Only with --kernel vfio.
  --devices LIST         comma-separated subset of the devices below, or none
                         (default ${DEFAULT_DEVICES.join(',')})
  --node VERSION         \`node\` in the guest is that pinned Node.js build (first in PATH):
                         ${NODES.map((n) => n.version).join(', ')} (or the major alone), from
                         scripts/vm/setup (scripts/vm/nodes.mjs); x86_64 only. Default: the host's
  --timeout S            kill QEMU after S seconds and exit 124 (default 900)
  --memory M             guest RAM, QEMU syntax (default 2G)
  --log FILE             keep the guest kernel log (ttyS0) in FILE, and print its last lines
                         when CMD fails (otherwise they are printed only when the rig fails)
  --vfio-user SOCKET     attach the vfio-user server listening on SOCKET to the guest as a PCI
                         device (QEMU's vfio-user-pci), bound to vfio-pci (unless
                         --keep-driver) as vfio-user0 at 00:10.0 (the next at 00:11.0, as
                         vfio-user1; repeatable). Boots Debian's newer QEMU
                         from scripts/vm/setup-qemu (.vm-cache/qemu-backports/) with the VT-d in
                         caching mode and the guest's RAM in a shared memfd. x86_64 only.
  --keep-driver NAME     leave device NAME (as the manifest names it: vfio-user1, edu, ...) on
                         the driver the guest's kernel bound it to, or none, instead of binding
                         it to vfio-pci (repeatable): a served device for its own kernel driver
  --monitor              let the guest's tests ask QEMU to unplug a hot-pluggable device, plug it
                         back, or inject a PCIe AER error into it (device_del, device_add,
                         pcie_aer_inject_error), through the virtio-serial port vfiots.monitor
                         (test/vm/monitor.ts); only those commands, only on this run's
                         hot-pluggable devices. x86_64 only
  -h, --help             this text

devices (each bound to vfio-pci in the guest unless noted):
  edu        QEMU's edu (1234:11e8): 1 MiB BAR0, MSI, INTx, a DMA engine, factorial unit
  nvme       NVMe controller (1b36:0010) on a fresh sparse 256 MiB image: MSI-X, reset
  e1000e     Intel 82574L NIC (8086:10d3) on an isolated user netdev: I/O BAR, ROM, MSI-X
  nonviable  a pci-bridge with a second edu ("edu-nonviable", bound to vfio-pci) and a
             virtio-rng ("rng-host", left on virtio-pci) behind it: one IOMMU group that
             is not viable (with --no-iommu each vfio device has its own group)
  sriov      an NVMe controller with SR-IOV ("nvme-pf", 1b36:0010, in an nvme-subsys): up
             to 2 VFs, 4 flexible queues and 2 flexible interrupts to give them; not a default
  hotplug    a virtio-rng with AER ("rng-hotplug", 1af4:1044, QEMU id hp0) alone behind a
             PCIe root port, with ACPI hot-plug off so the guest's pciehp serves the slot:
             --monitor unplugs it, plugs it back and injects AER errors into it; x86_64 only

in the guest: $VFIO_TS_MANIFEST = /run/vfio-ts/manifest.json says which device is where
(name, kind, bdf, group, groupPath, cdev, driver, viable), the kernel (flavour, version, arch),
the IOMMU (intel-vtd|arm-smmuv3|none) and the VFIO backends offered (type1, iommufd, noiommu).
VFIO_TS_VM=1, and every VFIO_TS_* variable of the host is passed in.
See scripts/vm/README.md.
`);
  process.exit(0);
}

/**
 * Where the options end: at `--` or at the first operand (the command, whose own options are
 * not ours), found by a lenient pass that knows which of ours take a value.
 */
function splitAtCommand(argv) {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const end = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
  if (!end) return [argv, []];
  return [argv.slice(0, end.index), argv.slice(end.kind === 'positional' ? end.index : end.index + 1)];
}

/** parseArgs' errors, in the words the rig has always used. */
function refuse(e) {
  const name = /'(-[^' ]+)/.exec(e.message)?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') usage(`unknown option ${name}`);
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
    usage(/does not take/.test(e.message) ? `${name} takes no value` : `${name} needs a value`);
  usage(e.message.split('\n')[0]);
}

/** The options of scripts/vm/run, checked; exits 2 (with usage) on a mistake, 0 after --help. */
export function parseRunArgs(argv) {
  const [ours, cmd] = splitAtCommand(argv);
  let values;
  try {
    ({ values } = parseArgs({ args: ours, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    refuse(e);
  }
  if (values.help) help();
  const o = {
    arch: 'x86_64',
    kernel: values.kernel ?? 'debian',
    noIommu: values['no-iommu'] ?? false,
    devices: DEFAULT_DEVICES,
    node: null,
    timeout: values.timeout === undefined ? 900 : Number(values.timeout),
    memory: values.memory ?? '2G',
    log: values.log ?? null,
    vfioUser: (values['vfio-user'] ?? []).map((p) => resolve(p)),
    keepDriver: values['keep-driver'] ?? [],
    monitor: values.monitor ?? false,
    cmd,
  };
  if (values.arch !== undefined) {
    o.arch = ARCH_NAMES[values.arch] ?? usage(`--arch must be x86_64 or arm64, not "${values.arch}"`);
  }
  if (values.devices !== undefined) {
    const v = values.devices;
    o.devices = v === 'none' || v === '' ? [] : v.split(',').map((d) => DEVICE_ALIASES[d] ?? d);
  }
  if (values.node !== undefined) {
    o.node = findNode(values.node);
    if (!o.node) usage(`--node must be one of ${NODES.map((n) => n.version).join(', ')}, not "${values.node}"`);
    if (o.arch !== 'x86_64') usage('--node takes x86-64 builds: not with --arch arm64');
  }
  if (!KERNELS.includes(o.kernel)) usage(`--kernel must be one of ${KERNELS.join(', ')}, not "${o.kernel}"`);
  if (o.noIommu && o.kernel !== 'vfio') {
    usage(
      `--no-iommu needs --kernel vfio: Debian's ${o.kernel === 'debian' ? '6.1 ' : ''}kernel has no VFIO no-IOMMU mode (CONFIG_VFIO_NOIOMMU)`,
    );
  }
  if (o.arch === 'arm64' && o.kernel !== 'debian')
    usage("--arch arm64 boots Debian's arm64 kernel only (--kernel debian)");
  if (o.vfioUser.length && o.arch !== 'x86_64')
    usage('--vfio-user attaches a device to the x86-64 guest only: not with --arch arm64');
  if (o.arch !== 'x86_64' && (o.monitor || o.devices.includes('hotplug')))
    usage('--monitor and the hotplug device are for the x86-64 guest only: not with --arch arm64');
  if (!o.cmd.length) usage('no command given');
  if (!(o.timeout > 0)) usage('--timeout needs a positive number of seconds');
  return o;
}
