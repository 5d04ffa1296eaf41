// Hot-unplug of a device that is open and waited on: QEMU's device_del (through the rig's monitor)
// makes the guest's pciehp remove the device, which vfio-pci turns into the request interrupt and
// then waits for the device to be closed. The handler closes it, the pending wait ends with
// ERR_VFIO_DEVICE_REMOVED, the removal finishes, every later call is a coded error and nothing is
// left behind; plugged back, the device opens again. About 6 s per unplug: pciehp waits 5 s after
// the attention button QEMU presses, as a slot's user may change their mind.
import { beforeAll, describe, expect, it } from 'vitest';
import { IrqWaitAbortedError, openDevice, type Device, type IrqFired } from '../../src/index.js';
import { resourceFootprint } from '../support/fd-count.js';
import { ensurePlugged, hotplug, plugBack, present, unplug, until } from './hotplug-device.js';

const REMOVED = { code: 'ERR_VFIO_DEVICE_REMOVED' };

/** Every way back into a device the kernel took: each throws, with a code. */
function expectGone(dev: Device, irqs: Device['interrupts'], bar: ReturnType<Device['bar']>): void {
  for (const call of [
    () => dev.bar(0),
    () => dev.config,
    () => dev.interrupts,
    () => dev.dma,
    () => dev.reset(),
    () => irqs.enable('msix'),
    () => irqs.wait(0),
    () => irqs.onRequest(() => {}),
  ])
    expect(call).toThrow(expect.objectContaining(REMOVED));
  expect(() => dev.bar(0)).toThrow(
    /is gone: the kernel asked for .* back \(a hot-unplug, or vfio-pci unbound from it\)/,
  );
  expect(() => bar.read32(0)).toThrow(expect.objectContaining({ code: 'ERR_VFIO_CLOSED' }));
  expect(() => openDevice(hotplug.bdf)).toThrow(expect.objectContaining({ code: 'ERR_VFIO_NO_DEVICE' }));
}

/** Opened again after it was plugged back: its config space and an MSI-X vector work. */
async function opensAgain(): Promise<void> {
  await plugBack();
  using dev = openDevice(hotplug.bdf);
  expect(dev.config.read16(0)).toBe(0x1af4);
  const irqs = dev.interrupts;
  irqs.enable('msix');
  irqs.trigger(0);
  expect(irqs.wait(2000)).toEqual([{ vector: 0, count: 1 }]);
}

describe('hot-unplug of an open device', () => {
  beforeAll(ensurePlugged, 60_000);

  it('ends a blocked wait() with ERR_VFIO_DEVICE_REMOVED once the request handler closed it; nothing is left', async () => {
    const before = resourceFootprint();
    const dev = openDevice(hotplug.bdf);
    const irqs = dev.interrupts;
    const bar = dev.bar(4); // virtio's memory BAR, mapped: its mapping must go with the device
    const asked: number[] = [];
    let thrown: unknown;
    try {
      irqs.enable('msix');
      irqs.onRequest(({ device, count }) => {
        asked.push(count);
        device.close();
      });
      expect(resourceFootprint().deviceMaps).toBeGreaterThan(before.deviceMaps);
      await unplug();
      try {
        irqs.wait(30_000); // the request comes within the wait: pciehp waits 5 s first
      } catch (e) {
        thrown = e;
      }
    } finally {
      dev.close();
    }
    expect(thrown).toBeInstanceOf(IrqWaitAbortedError);
    expect(thrown).toMatchObject({ ...REMOVED, reason: 'removed' });
    expect(asked).toEqual([1]);
    await until(() => !present(), 'the removal to finish');
    expect(resourceFootprint()).toEqual(before);
    expectGone(dev, irqs, bar);
    await opensAgain();
    expect(resourceFootprint()).toEqual(before);
  }, 90_000);

  it('ends a pending waitAsync() and a for-await loop the same way, from the event loop', async () => {
    const before = resourceFootprint();
    const dev = openDevice(hotplug.bdf);
    const irqs = dev.interrupts;
    const bar = dev.bar(4);
    let asked = 0;
    try {
      irqs.enable('msix');
      irqs.onRequest(({ device }) => {
        asked++;
        device.close();
      });
      const waited = irqs.waitAsync(30_000).catch((e: unknown) => e);
      const looped = (async () => {
        const got: IrqFired[] = [];
        for await (const fired of irqs) got.push(fired);
        return got;
      })();
      await unplug();
      const ended = await waited;
      expect(ended).toBeInstanceOf(IrqWaitAbortedError);
      expect(ended).toMatchObject({ ...REMOVED, reason: 'removed' });
      expect(await looped).toEqual([]); // the loop ended, as it does when a wait is aborted
    } finally {
      dev.close();
    }
    expect(asked).toBe(1);
    await until(() => !present(), 'the removal to finish');
    expect(resourceFootprint()).toEqual(before);
    expectGone(dev, irqs, bar);
    await expect(irqs.waitAsync(0)).rejects.toMatchObject(REMOVED);
    await opensAgain();
    expect(resourceFootprint()).toEqual(before);
  }, 90_000);
});
