// Runs in the test VM: what `vfio info` and openDevice say about a device that is not there,
// and (in the no-IOMMU boot) about one without an IOMMU group: the device or the IOMMU is
// blamed, in the order a person checks, never /dev/vfio. The command runs in-process (runCli)
// to keep this quick; test/vm/cli.test.ts runs it as a child process.
import { describe, expect, it } from 'vitest';
import { openDevice } from '../../src/index.js';
import { runCliCaptured } from '../support/run-cli.js';
import { openFdCount } from '../support/fd-count.js';
import { manifest } from './manifest.js';
import { on, runsOn } from './backend.js';

const vfio = runCliCaptured;

describe('a device that is not there, or has no IOMMU group', () => {
  it('vfio info and openDevice of an address with no device say it does not exist', async () => {
    const before = openFdCount();
    const r = await vfio('info', '0000:09:00.0');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error \[ERR_VFIO_NO_DEVICE\]: PCI device 0000:09:00\.0 not found \(\/sys\/bus\/pci\/devices\/0000:09:00\.0 does not exist\)/,
    );
    expect(r.err).not.toMatch(/\/dev\/vfio/);
    expect(() => openDevice('09:00.0')).toThrow(/^PCI device 0000:09:00\.0 not found/);
    expect(openFdCount()).toBe(before);
  });

  if (runsOn('noiommu')) {
    it(`a device with no IOMMU group: the IOMMU is off, how to turn it on${on('noiommu')}`, async () => {
      // Behind no IOMMU only vfio-pci's devices get (fake) groups; the rng stays on virtio-pci.
      const rng = manifest().devices.find((d) => d.name === 'rng-host');
      expect(rng?.group).toBeNull();
      const r = await vfio('info', rng!.bdf);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        new RegExp(
          `^error \\[ERR_VFIO_NO_IOMMU\\]: ${rng!.bdf.replace(/\./g, '\\.')} has no IOMMU group and is bound to virtio-pci: the IOMMU is off or does not cover it\\. Turn it on \\(intel_iommu=on or amd_iommu=on`,
        ),
      );
      expect(r.err).toMatch(/vfio\.enable_unsafe_noiommu_mode=1/);
      expect(r.err).not.toMatch(/\/dev\/vfio/);
    });
  }
});
