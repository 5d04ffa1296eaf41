// The request interrupt: the kernel asking for the device back when someone unbinds vfio-pci.
import { describe, expect, it } from 'vitest';
import { existsSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDevice } from '../../src/index.js';
import { testDevice } from './manifest.js';
import { openEventfdCount } from '../support/fd-count.js';

describe('request interrupt', () => {
  const nic = testDevice('e1000e');

  it('tells the script the kernel wants the device back; closing it lets the unbind finish', async () => {
    const dev = openDevice(nic.bdf);
    let asked = 0;
    const off = dev.interrupts.onRequest(({ device }) => {
      asked++;
      device.close();
    });
    expect(typeof off).toBe('function');
    // The unbind blocks in the kernel until the device is closed: write it on the thread pool.
    await writeFile('/sys/bus/pci/drivers/vfio-pci/unbind', nic.bdf);
    expect(asked).toBe(1);
    expect(dev.closed).toBe(true);
    expect(existsSync(`/sys/bus/pci/devices/${nic.bdf}/driver`)).toBe(false);
    // Bind it back for the other tests (driver_override still says vfio-pci).
    await writeFile('/sys/bus/pci/drivers_probe', nic.bdf);
    expect(readlinkSync(`/sys/bus/pci/devices/${nic.bdf}/driver`)).toMatch(/vfio-pci$/);
    using again = openDevice(nic.bdf);
    expect(again.interrupts.best).toBe('msix');
  }, 30_000);

  it('unsubscribing the last handler disables the request interrupt and frees its eventfd', async () => {
    using dev = openDevice(nic.bdf);
    const irqs = dev.interrupts;
    const before = openEventfdCount();
    const off = irqs.onRequest(() => {});
    const off2 = irqs.onRequest(() => {});
    expect(openEventfdCount()).toBe(before + 1); // one eventfd for the request, whatever the handlers
    await sleep(20);
    off();
    expect(openEventfdCount()).toBe(before + 1); // another handler still listens
    off2();
    off2();
    expect(openEventfdCount()).toBe(before);
  });
});
