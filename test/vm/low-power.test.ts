// Runs in the test VM: runtime low power of a vfio-pci device, on the rig's e1000e (it has a PM
// capability, so the kernel takes it to D3hot). On Debian's 6.1 (CONFIG_PM) the kernel suspends
// it, as sysfs shows (reading sysfs wakes nothing); a read through the device fd wakes it for its
// length; exit() or the wake-up eventfd ends low power. Our 7.3 kernel is built without
// CONFIG_PM: the kernel takes the entry and does nothing, so the library refuses, naming it.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDevice, VfioErrorCode } from '../../src/index.js';
import { VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT } from '../../structs/index.js';
import { openFdCount } from '../support/fd-count.js';
import { thrownBy } from '../support/thrown.js';
import { manifest, testDevice } from './manifest.js';

const E1000E_STATUS = 0x08; // device status register, BAR0
const PCI_CAP_ID_PM = 0x01;
const PM_CTRL = 4; // PMCSR, from the capability
const PM_STATE_MASK = 0x3;

const bdf = testDevice('e1000e').bdf;
const sysfs = (file: string) => readFileSync(`/sys/bus/pci/devices/${bdf}/${file}`, 'utf8').trim();

/** Polls until `power/runtime_status` is `want` (the kernel suspends after the ioctl returns, from a work item). */
async function runtimeStatus(want: string): Promise<string> {
  const end = Date.now() + 5000;
  while (sysfs('power/runtime_status') !== want && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return sysfs('power/runtime_status');
}

/** Opens the e1000e with BAR0 reached through pread (mmaps fault while the device is in low power). */
function open() {
  const dev = openDevice(bdf);
  const pm = dev.config.capabilities().find((c) => c.id === PCI_CAP_ID_PM);
  if (!pm) throw new Error(`${bdf} has no PM capability`);
  return {
    dev,
    bar: dev.region(0, { mmap: false }),
    pmState: () => dev.config.read16(pm.offset + PM_CTRL) & PM_STATE_MASK,
  };
}

if (manifest().flavour === 'vfio') {
  describe('low power on a kernel without CONFIG_PM', () => {
    it('the kernel takes the entry and the device never sleeps; the library refuses, naming CONFIG_PM', () => {
      const fds = openFdCount();
      expect(existsSync('/sys/power')).toBe(false);
      expect(existsSync(`/sys/bus/pci/devices/${bdf}/power`)).toBe(false);
      const { dev, bar, pmState } = open();
      try {
        const status = bar.read32(E1000E_STATUS);
        // What the kernel does with the raw feature: accepts it, once, and the device stays in D0.
        dev.features.set(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
        expect(thrownBy(() => dev.features.set(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY))).toMatchObject({
          errnoName: 'EINVAL',
        });
        expect(pmState()).toBe(0);
        expect(bar.read32(E1000E_STATUS)).toBe(status);
        dev.features.set(VFIO_DEVICE_FEATURE_LOW_POWER_EXIT);
        for (const call of [() => dev.features.lowPower.enter(), () => dev.features.lowPower.enterWithWakeup()]) {
          const e = thrownBy(call);
          expect(e).toMatchObject({ code: VfioErrorCode.UNSUPPORTED });
          expect((e as Error).message).toMatch(
            new RegExp(
              `^low power for device ${bdf}: this kernel has no power management \\(CONFIG_PM is not set: /sys/power does not exist\\)`,
            ),
          );
        }
        dev.features.lowPower.exit(); // nothing to leave: the kernel makes nothing of it
      } finally {
        dev.close();
      }
      expect(openFdCount()).toBe(fds);
    });
  });
} else {
  describe('low power with runtime PM (CONFIG_PM)', () => {
    it('enter(): the kernel suspends the device to D3hot; a read wakes it for its length only; exit(): awake for good', async () => {
      const fds = openFdCount();
      const { dev, bar } = open();
      try {
        expect([sysfs('power/runtime_status'), sysfs('power_state')]).toEqual(['active', 'D0']);
        const status = bar.read32(E1000E_STATUS);
        dev.features.lowPower.enter();
        expect(await runtimeStatus('suspended')).toBe('suspended');
        expect(sysfs('power_state')).toBe('D3hot');
        // A read through the device fd resumes it, answers, and lets it sleep again.
        expect(bar.read32(E1000E_STATUS)).toBe(status);
        expect(await runtimeStatus('suspended')).toBe('suspended');
        const again = thrownBy(() => dev.features.lowPower.enter());
        expect(again).toMatchObject({ code: VfioErrorCode.INVALID_STATE });
        expect((again as Error).message).toMatch(/is in low power already: exit\(\) first/);
        expect(await runtimeStatus('suspended')).toBe('suspended');
        dev.features.lowPower.exit();
        await new Promise((r) => setTimeout(r, 200));
        expect([sysfs('power/runtime_status'), sysfs('power_state')]).toEqual(['active', 'D0']);
        expect(bar.read32(E1000E_STATUS)).toBe(status);
      } finally {
        dev.close();
      }
      expect(openFdCount()).toBe(fds);
    });

    it('enterWithWakeup(): the first wake-up ends low power for good and signals the eventfd', async () => {
      const fds = openFdCount();
      const { dev, bar } = open();
      try {
        const status = bar.read32(E1000E_STATUS);
        using wakeup = dev.features.lowPower.enterWithWakeup();
        expect(await runtimeStatus('suspended')).toBe('suspended');
        expect(wakeup.read()).toBe(0n);
        expect(bar.read32(E1000E_STATUS)).toBe(status); // wakes it
        expect(wakeup.read()).toBe(1n);
        await new Promise((r) => setTimeout(r, 200));
        expect([sysfs('power/runtime_status'), sysfs('power_state')]).toEqual(['active', 'D0']);
        dev.features.lowPower.enter(); // out of low power already: entry is taken again
        dev.features.lowPower.exit();
      } finally {
        dev.close();
      }
      expect(openFdCount()).toBe(fds);
    });
  });
}
