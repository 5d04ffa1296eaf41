// The error interrupt (VFIO_PCI_ERR_IRQ_INDEX): QEMU injects a PCIe error into the rig's
// hot-pluggable device (pcie_aer_inject_error, through the rig's monitor), the guest's AER driver
// receives it at the root port and reports it to vfio-pci, which signals the eventfd that
// interrupts.onError armed. Uncorrectable errors reach it, non-fatal and fatal (after a fatal one
// the kernel resets the link); correctable ones never do (the AER driver logs and clears them).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PCI_CAP_ID_EXP,
  PCI_COMMAND,
  PCI_COMMAND_SERR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_CERE,
  PCI_EXP_DEVCTL_FERE,
  PCI_EXP_DEVCTL_NFERE,
  PCI_EXP_DEVCTL_URRE,
} from '../../structs/index.js';
import { openDevice, type Device } from '../../src/index.js';
import { resourceFootprint } from '../support/fd-count.js';
import { enableRootPortSerr, ensurePlugged, hotplug, until } from './hotplug-device.js';
import { manifest, testDevice } from './manifest.js';
import { monitor } from './monitor.js';

/**
 * Lets the device report errors: the Device Control enables, and SERR#, which QEMU 7.2 also
 * wants of each function an error passes (hotplug-device.ts). Both are writable through VFIO.
 */
function enableErrorReporting(dev: Device): void {
  const config = dev.config;
  const exp = config.findCapability(PCI_CAP_ID_EXP);
  if (exp === undefined) throw new Error(`${dev.address} has no PCI Express capability`);
  config.write16(PCI_COMMAND, config.read16(PCI_COMMAND) | PCI_COMMAND_SERR);
  const enables = PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE;
  config.write16(exp + PCI_EXP_DEVCTL, config.read16(exp + PCI_EXP_DEVCTL) | enables);
  expect(config.read16(exp + PCI_EXP_DEVCTL) & enables).toBe(enables);
}

/** Injects `error` and waits until `reports` counts `total`; then a little longer, to see that no more come. */
async function inject(error: string, reports: number[], total: number): Promise<void> {
  monitor({ cmd: 'aer', device: hotplug.name, error });
  const sum = () => reports.reduce((a, b) => a + b, 0);
  await until(() => sum() >= total, `${total} error report(s) after ${error}`, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  expect(sum()).toBe(total);
}

describe('the error interrupt (AER)', () => {
  beforeAll(async () => {
    await ensurePlugged();
    enableRootPortSerr();
  }, 60_000);

  it('counts an uncorrectable non-fatal error, and a fatal one, each once', async () => {
    const before = resourceFootprint();
    {
      using dev = openDevice(hotplug.bdf);
      enableErrorReporting(dev);
      const reports: number[] = [];
      const off = dev.interrupts.onError(({ device, count }) => {
        expect(device).toBe(dev);
        reports.push(count);
      });
      await inject('POISON_TLP', reports, 1); // non-fatal by the default severity
      await inject('MALF_TLP', reports, 2); // fatal: the kernel resets the link afterwards
      off();
    }
    expect(resourceFootprint()).toEqual(before);
  }, 60_000);

  it('calls the handler from inside a blocked wait(), which goes on waiting for the vectors', () => {
    using dev = openDevice(hotplug.bdf);
    enableErrorReporting(dev);
    const irqs = dev.interrupts;
    irqs.enable('msix');
    let reports = 0;
    irqs.onError(() => {
      reports++;
      irqs.trigger(1); // what the wait returns
    });
    monitor({ cmd: 'aer', device: hotplug.name, error: 'COMP_ABORT' });
    expect(irqs.wait(10_000)).toEqual([{ vector: 1, count: 1 }]);
    expect(reports).toBe(1);
  }, 30_000);

  it("is refused, coded, where the device has none: 6.1's vfio-pci offers it for PCI Express devices only", () => {
    using edu = openDevice(testDevice('edu').bdf); // conventional PCI
    if (manifest().flavour === 'debian') {
      expect(() => edu.interrupts.onError(() => {})).toThrow(expect.objectContaining({ code: 'ERR_VFIO_UNSUPPORTED' }));
      expect(() => edu.interrupts.onError(() => {})).toThrow(
        `${edu.address} has no error interrupt (irq index 3 reports count 0): vfio-pci of older kernels (6.1) offers it for PCI Express devices only`,
      );
    } else {
      const off = edu.interrupts.onError(() => {}); // 7.x offers it for every PCI device
      off();
    }
  });
});
