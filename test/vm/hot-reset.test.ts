import { describe, expect, it } from 'vitest';
import { PciSysfs, SysError, openDevice, parsePciAddress } from '../../src/index.js';
import { hotReset } from '../../src/vfio/device/hot-reset.js';
import { testDevice } from './manifest.js';
import { backend } from './backend.js';

describe(`PCI hot reset (${backend})`, () => {
  it('a device on the root bus cannot be hot reset, and the error says why', () => {
    using dev = openDevice(testDevice('edu').bdf);
    let err: SysError | undefined;
    try {
      dev.hotResetPeers();
    } catch (e) {
      err = e as SysError;
    }
    expect(err).toBeInstanceOf(SysError);
    expect(err!.code).toBe('ERR_VFIO_SYSCALL');
    expect(err!.errnoName).toBe('ENODEV');
    expect(err!.message).toMatch(/no bus or slot reset can reach .*: it has no slot reset and no parent bridge/);
  });

  it('behind the bridge: lists every device on the bus with its group, and resets the bus', () => {
    const edu = testDevice('edu-nonviable');
    const rng = testDevice('rng-host');
    const sysfs = new PciSysfs();
    const rngAddr = parsePciAddress(rng.bdf);
    sysfs.bind(rngAddr, 'vfio-pci'); // the group becomes viable
    try {
      using dev = openDevice(edu.bdf);
      const bar0 = dev.bar(0);
      expect(bar0.read32(0)).toBe(0x010000ed);
      const peers = dev.hotResetPeers();
      expect(peers).toEqual(
        expect.arrayContaining([
          { address: edu.bdf, group: edu.group },
          { address: rng.bdf, group: rng.group },
        ]),
      );
      expect(peers.every((p) => p.group === edu.group)).toBe(true);
      expect(dev.busMasterEnabled()).toBe(true);
      // Through a container, without the fds of the affected groups the kernel would refuse:
      // the library says which. Through iommufd, the kernel checks ownership itself.
      if (backend !== 'iommufd') {
        expect(() => hotReset(dev, new Map())).toThrow(
          new RegExp(
            `hot reset of ${edu.bdf} also resets .*${rng.bdf} \\(group ${rng.group}\\).*: open that group in this process first`,
          ),
        );
      }
      dev.hotReset();
      // The device answers after the bus reset, and the kernel restored its config space.
      expect(bar0.read32(0)).toBe(0x010000ed);
      bar0.write32(0x04, 0x12345678);
      expect(bar0.read32(0x04)).toBe(0xedcba987);
    } finally {
      sysfs.bind(rngAddr, 'virtio-pci');
    }
    expect(sysfs.driver(rngAddr)).toBe('virtio-pci');
  });
});
