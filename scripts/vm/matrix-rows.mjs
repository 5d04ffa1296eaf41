// The rows of the VM test matrix (scripts/vm/test-matrix): each is one guest boot of
// scripts/vm/run running the vm project of vitest, with VFIO_TS_IOMMU (the library's default
// backend in that run; scripts/vm/run passes VFIO_TS_* variables into the guest).
// `seconds`: a full run's time as last measured, for placing rows in lanes (npm run test:vm on
// the 2-core machine, two lanes, the machine's load 2-4; scripts/vm/README.md).
import { major, otherNodes } from './nodes.mjs';

// The front ends (the vfio command, vfio repl, the README's blocks, the example drivers) call
// the library as any script does; they start node processes, which costs seconds each under
// TCG. They run on arm64 (6.1, the container) and with iommufd on 7.x (x86-64): once per backend
// and once per architecture, not again on x86-64's 6.1 or with the container on 7.x, where the
// library's own suite covers what differs between kernels.
const FRONT_ENDS = [
  'test/vm/cli.test.ts',
  'test/vm/repl.test.ts',
  'test/vm/regmap-cli.test.ts',
  'test/vm/regmap-repl.test.ts',
  'test/vm/readme-blocks.test.ts',
  'test/vm/examples.test.ts',
  'test/vm/example-e1000e.test.ts',
];

// Processes killed, raced and forked, and the soak: about a minute per row under TCG. They run
// on 6.1 with the container (x86-64 and arm64) and on 7.x with iommufd, not again with the
// container on 7.x.
const PROCESS_TESTS = ['test/vm/crash.test.ts', 'test/vm/soak.test.ts'];

// What only an arm64 guest can show (SMMUv3's aperture, the GICv3 ITS): its row alone runs it.
const ARM64_ONLY = ['test/vm/arm64.test.ts'];

// vfio bind and unbind --restore move devices between drivers through sysfs, the same on every
// architecture: x86-64's 6.1 with the container, 7.x with the container and with iommufd (the
// device held open while a killed bind waits to unbind it is a group's or a cdev's). Not on
// arm64, whose kernel is the same 6.1 and whose row is the longest.
const BIND = ['test/vm/bind.test.ts'];

// Tracing, record and replay (the example drivers traced, `vfio trace`, `vfio replay`): on 6.1
// with the container and on 7.x with iommufd, the two ways DMA is mapped; the wrapping it does
// is the same on every kernel and architecture.
const TRACE = ['test/vm/trace.test.ts'];

// Devices modelled in TypeScript and served on the host, in the guest through QEMU 11.1's
// vfio-user-pci: the edu model driven by the library, and the PCI-IDIO-16 model driven by the
// guest kernel's own driver. Their row alone runs them, and runs nothing else (the row's QEMU is
// not the others').
const VFIO_USER = ['test/vm/vfio-user.test.ts', 'test/vm/pci-idio-16.test.ts'];

// Handing a device to another process (sendDevice, receiveDevice): on x86-64 with the container
// (6.1, whose fdinfo does not name a device, and 7.x), with iommufd, and without an IOMMU (the
// receiver as root there); the arm64 row adds nothing.
const HANDOFF = ['test/vm/handoff.test.ts'];

// Mediated devices (the kernel's sample mtty, in our 7.x kernel) with the container and with
// iommufd; on x86-64's 6.1, which has none, the coded refusal. Not on arm64 (6.1 again).
const MDEV = ['test/vm/mdev.test.ts'];

// SR-IOV and VF tokens need the rig's NVMe controller with SR-IOV (the `sriov` device), which
// the other rows do not boot: rows of their own, with that device alone, on 6.1 with the
// container and on 7.x with the container and with iommufd (the two ways a VF token is given).
const SRIOV = ['test/vm/sriov.test.ts'];

// Hot-unplug and AER: a device unplugged by QEMU while it is open and waited on, plugged back, and
// PCIe errors injected into it. They need the hot-pluggable device and the monitor (HOTPLUG_RIG);
// they run on 6.1 and 7.x, the container and iommufd (the kernel's two ways of removing an open
// device: its group and its cdev), not on arm64 (no q35 root port; the rig's monitor is x86-64's).
const HOTPLUG = ['test/vm/hot-unplug.test.ts', 'test/vm/aer.test.ts'];

// Runtime low power of the e1000e: on 6.1, whose CONFIG_PM suspends it, and on our 7.x kernel,
// built without CONFIG_PM, for the coded refusal (the same with either backend: the container's
// row only). Not on arm64 (Debian's 6.1 again).
const LOW_POWER = ['test/vm/low-power.test.ts'];
const HOTPLUG_RIG = ['--devices', 'edu,nvme,e1000e,nonviable,hotplug', '--monitor'];

// Locked memory counted per user: iommufd charges all of a user's processes together (the
// container charges each alone, which dma-limits.test.ts covers on every row): the iommufd row only.
const MEMLOCK_SHARED = ['test/vm/memlock.test.ts'];

// DMA: edu's round trips and a device's life with DMA, under every Node (the node rows); the
// refusals (limits: a child process of another user) and DMA at scale (10,000 cycles, 4 GiB)
// depend on the kernel, not on Node: the rows on the machine's Node run them.
const DMA_CORE = ['test/vm/dma.test.ts', 'test/vm/dma-lifecycle.test.ts'];
const DMA = [...DMA_CORE, 'test/vm/dma-limits.test.ts', 'test/vm/dma-scale.test.ts'];

// Interrupts: edu's MSI, INTx and asynchronous waits, nvme's MSI-X, and the request interrupt.
const INTERRUPTS = ['test/vm/interrupts.test.ts', 'test/vm/msix.test.ts', 'test/vm/device-request.test.ts'];

/**
 * The device suite's core, run again under each pinned Node other than the machine's: what
 * depends on the Node running it. The rig's checks (with: `node` is the row's Node), opening
 * devices and their regions (koffi's prebuilt binary, `using`), DMA, every interrupt kind and way
 * of waiting (the libuv poll seam), the REPL (node's repl module, util.inspect), the command, and
 * the README's blocks (the package imported by name, TypeScript through tsx).
 */
const NODE_CORE_DEVICE = ['test/vm/edu.test.ts', 'test/vm/devices.test.ts', ...DMA_CORE, ...INTERRUPTS];
export const NODE_CORE = [
  'test/vm/rig.test.ts',
  ...NODE_CORE_DEVICE,
  'test/vm/repl.test.ts',
  'test/vm/cli.test.ts',
  'test/vm/readme-blocks.test.ts',
];

/** The rows on the machine's own Node: kernels, backends and architectures. */
const MACHINE_ROWS = [
  {
    name: 'debian-type1',
    arch: 'x86_64',
    kernel: 'debian',
    backend: 'type1',
    rig: ['--kernel', 'debian', '--memory', '6G', ...HOTPLUG_RIG],
    exclude: [...FRONT_ENDS, ...ARM64_ONLY, ...VFIO_USER, ...SRIOV, ...MEMLOCK_SHARED],
    seconds: 275,
  },
  {
    name: 'vfio-type1',
    arch: 'x86_64',
    kernel: 'vfio',
    backend: 'type1',
    rig: ['--kernel', 'vfio', '--memory', '6G', ...HOTPLUG_RIG],
    // The node rows run the core on this kernel and backend, under three Nodes: not again here.
    exclude: [
      ...FRONT_ENDS,
      ...PROCESS_TESTS,
      ...ARM64_ONLY,
      ...NODE_CORE_DEVICE,
      ...TRACE,
      ...VFIO_USER,
      ...SRIOV,
      ...MEMLOCK_SHARED,
    ],
    seconds: 200,
  },
  {
    name: 'vfio-iommufd',
    arch: 'x86_64',
    kernel: 'vfio',
    backend: 'iommufd',
    // The longest x86-64 row (every test but arm64's, SR-IOV's and low power's): more than the default 900 s before
    // scripts/vm/run gives up, for a machine busy with other work (it took 540-600 s on a quiet one).
    rig: ['--kernel', 'vfio', '--memory', '6G', '--timeout', '1500', ...HOTPLUG_RIG],
    exclude: [...ARM64_ONLY, ...VFIO_USER, ...SRIOV, ...LOW_POWER],
    seconds: 530,
  },
  {
    name: 'arm64-type1',
    arch: 'arm64',
    kernel: 'debian',
    backend: 'type1',
    // The slowest row (the front ends, and an emulated SMMUv3 slow to map and unmap): more than
    // the default 900 s before scripts/vm/run gives up, for a machine busy with other work.
    rig: ['--arch', 'arm64', '--kernel', 'debian', '--memory', '6G', '--timeout', '1800'],
    // The README's blocks alone: every block starts node under TCG (about 15 s each, 350 s for
    // all of docs/); the pages' blocks call the same library, and run on vfio-iommufd.
    env: { VFIO_TS_DOC_BLOCKS: 'README.md' },
    exclude: [
      ...BIND,
      ...TRACE,
      ...VFIO_USER,
      ...HANDOFF,
      ...SRIOV,
      ...MDEV,
      ...HOTPLUG,
      ...LOW_POWER,
      ...MEMLOCK_SHARED,
    ],
    seconds: 605,
  },
  {
    name: 'vfio-noiommu',
    arch: 'x86_64',
    kernel: 'vfio',
    backend: 'noiommu',
    seconds: 100,
    rig: ['--kernel', 'vfio', '--no-iommu', '--memory', '6G'],
    // Without an IOMMU only DMA, interrupts, the argument checks (whose DMA rows name the
    // no-IOMMU context), a device with no group and the doctor (which must say there is no
    // IOMMU) mean anything (no groups to share, no IOVA ranges): the rest of the suite is
    // about the IOMMU.
    files: [
      ...DMA,
      ...INTERRUPTS,
      'test/vm/arguments.test.ts',
      'test/vm/device-missing.test.ts',
      'test/vm/doctor.test.ts',
      ...HANDOFF,
    ],
  },
  {
    name: 'vfio-user',
    arch: 'x86_64',
    kernel: 'vfio',
    backend: 'type1',
    // No QEMU device: the served models alone (test-matrix starts their servers and adds a
    // --vfio-user for each, in this order: vfio-user0, vfio-user1). The edu, on vfio-pci, is
    // driven through both of this kernel's ways in; the PCI-IDIO-16 is left to gpio-pci-idio-16.
    rig: ['--kernel', 'vfio', '--devices', 'none', '--keep-driver', 'vfio-user1'],
    serve: ['edu', 'pci-idio-16'],
    files: VFIO_USER,
    seconds: 60,
  },
  ...['debian-type1', 'vfio-type1', 'vfio-iommufd'].map((like) => ({
    name: like.replace(/^(debian|vfio)-/, 'sriov-$1-'),
    arch: 'x86_64',
    kernel: like.startsWith('debian') ? 'debian' : 'vfio',
    backend: like.endsWith('iommufd') ? 'iommufd' : 'type1',
    rig: ['--kernel', like.startsWith('debian') ? 'debian' : 'vfio', '--devices', 'sriov'],
    files: SRIOV,
    // Measured with the machine busy with other guests: 52, 79 and 66 s.
    seconds: { 'debian-type1': 55, 'vfio-type1': 80, 'vfio-iommufd': 70 }[like],
  })),
];

/**
 * One row per pinned Node other than the machine's (`nodeN`): the core above, on our kernel with
 * the container (the way into VFIO that every kernel has; the Node-dependent code is the same
 * for every backend).
 */
const nodeRows = (machineNode) =>
  otherNodes(machineNode).map((n) => ({
    name: `node${major(n.version)}`,
    arch: 'x86_64',
    kernel: 'vfio',
    backend: 'type1',
    node: n.version,
    rig: ['--kernel', 'vfio', '--memory', '6G', '--node', n.version],
    files: NODE_CORE,
    // The README's blocks (its first device as TypeScript, as JavaScript, and with `using` on
    // 24+): the pages under docs/ call the same library in the same way, and run on the
    // machine's Node in the front-end rows.
    env: { VFIO_TS_DOC_BLOCKS: 'README.md' },
    seconds: 250,
  }));

/** Every row, for the machine whose Node is `machineNode`. */
export const matrixRows = (machineNode = process.versions.node) => [
  ...MACHINE_ROWS.map((r) => ({ ...r, node: machineNode })),
  ...nodeRows(machineNode),
];
