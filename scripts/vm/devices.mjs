// The test devices of scripts/vm/run: name -> QEMU arguments (or setup(tmp) returning them; arm64
// where they differ there) and what the guest should find, as the "name kind vendor device want
// place" lines of devices.list (see init.sh). See scripts/vm/README.md.
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ARM64_NONVIABLE } from './arch.mjs';

export const DEVICES = {
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
  // An NVMe controller with SR-IOV (QEMU 7.2): two VFs, each to get 2 of the 4 flexible queues
  // and 1 of the 2 flexible interrupts from the PF. SR-IOV needs a subsystem, and the namespace
  // as its own device (QEMU refuses drive= on such a controller). Only the SR-IOV rows have it.
  sriov: {
    setup(tmp) {
      const img = join(tmp, 'sriov.img');
      const fd = openSync(img, 'w');
      ftruncateSync(fd, 16 * 1024 * 1024);
      closeSync(fd);
      return [
        '-drive',
        `file=${img},if=none,id=nvm-sriov,format=raw`,
        '-device',
        'nvme-subsys,id=subsys-sriov',
        '-device',
        'nvme,id=nvme-pf,serial=vfiots0002,subsys=subsys-sriov,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2',
        '-device',
        'nvme-ns,drive=nvm-sriov,bus=nvme-pf',
      ];
    },
    guest: [['nvme-pf', 'nvme', '1b36', '0010', 'vfio', 'root']],
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
export const DEFAULT_DEVICES = ['edu', 'nvme', 'e1000e', 'nonviable'];
/** The guest's names of the devices behind the bridge select the bridge. */
export const DEVICE_ALIASES = { 'edu-nonviable': 'nonviable', 'rng-host': 'nonviable' };

/** QEMU's arguments for the devices (`tmp`: the run's directory, for nvme's image). */
export const deviceArgs = (devices, arm64, tmp) =>
  devices.flatMap((d) => (arm64 && DEVICES[d].arm64) || DEVICES[d].qemu || DEVICES[d].setup(tmp));

/** What the guest is told of each device, as arrays; `extra`: more of them (the vfio-user devices). */
export const guestDevices = (devices, extra = []) => [...devices.flatMap((d) => DEVICES[d].guest), ...extra];

/**
 * devices.list for the guest's /init; the devices named in `keepDriver` are left on the driver
 * their kernel gave them (want `host`) instead of being bound to vfio-pci.
 */
export const guestDeviceList = (devices, extra = [], keepDriver = []) =>
  guestDevices(devices, extra)
    .map(([name, kind, vendor, device, want, place]) =>
      [name, kind, vendor, device, keepDriver.includes(name) ? 'host' : want, place].join(' '),
    )
    .join('\n') + '\n';
