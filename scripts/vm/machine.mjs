// QEMU's command line for scripts/vm/run: the machine (q35 with VT-d, or arm64's virt with an
// SMMUv3), the kernel and its command line, the host's / over 9p, the ports and the devices.
// See scripts/vm/README.md.
import { existsSync } from 'node:fs';
import { ARM64_MACHINE, layerShare } from './arch.mjs';
import { channelArgs } from './channels.mjs';
import { deviceArgs } from './devices.mjs';
import { monitorArgs } from './monitor.mjs';
import { vfioUserArgs } from './vfio-user.mjs';

/** The guest kernel's command line. `dir`: the run's directory on the host (the guest finds its files there). */
export function kernelAppend({ arm64, noIommu, dir }) {
  return [
    arm64 ? 'console=ttyAMA0' : 'console=ttyS0',
    'quiet',
    'panic=-1',
    ...(noIommu ? ['vfio.enable_unsafe_noiommu_mode=1'] : arm64 ? [] : ['intel_iommu=on']),
    'hugepages=64',
    'mitigations=off',
    // On a busy host a TCG guest can miss the ticks of x86's boot-time IO-APIC timer check, which
    // then panics ("timer doesn't work through Interrupt-remapped IO-APIC"; seen with three guests
    // and a lint on 2 cores): the timer works, the check is what fails.
    ...(arm64 ? [] : ['no_timer_check']),
    `vfiots.dir=${dir}`,
  ].join(' ');
}

/**
 * QEMU's arguments. `o`: the parsed options (arch, noIommu, memory, devices); `kernel`: from
 * kernels.mjs; `layer`: the arm64 userland layer's directory or null.
 */
export function qemuArgs({ o, kernel, initrd, tmp, nonce, consoleLog, layer }) {
  const arm64 = o.arch === 'arm64';
  const served = o.vfioUser.length > 0; // vfio-user devices, on QEMU from scripts/vm/setup-qemu
  return [
    '-name',
    `vfiots-${nonce}`,
    // qboot (shipped with Debian's QEMU) gets to the kernel ~0.4 s sooner than SeaBIOS.
    ...(!arm64 && existsSync('/usr/share/qemu/qboot.rom') ? ['-bios', 'qboot.rom'] : []),
    ...(arm64
      ? ARM64_MACHINE
      : ['-machine', served ? 'q35,memory-backend=ram' : 'q35', '-accel', 'tcg', '-cpu', 'max']),
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
    // QEMU's vfio-user-pci behind a VT-d needs its caching mode: the guest then reports every
    // mapping it makes, which QEMU passes on to the server as DMA maps.
    ...(o.noIommu || arm64 ? [] : ['-device', `intel-iommu,intremap=on${served ? ',caching-mode=on' : ''}`]),
    '-kernel',
    kernel.image,
    '-initrd',
    initrd,
    '-append',
    kernelAppend({ arm64, noIommu: o.noIommu, dir: tmp }),
    '-virtfs',
    'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap',
    ...(layer ? layerShare(layer) : []),
    '-device',
    'virtio-serial-pci',
    ...channelArgs(tmp),
    ...(o.monitor ? monitorArgs(tmp) : []),
    ...deviceArgs(o.devices, arm64, tmp),
    ...vfioUserArgs(o.vfioUser, o.memory),
  ];
}
