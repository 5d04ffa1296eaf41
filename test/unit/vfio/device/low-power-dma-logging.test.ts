// Low power and DMA logging over a stand-in channel that answers VFIO_DEVICE_FEATURE as the
// kernel does (vfio_pci_core.c, vfio_main.c): ENOTTY without the feature, EINVAL for a second
// entry. The real kernel (e1000e on vfio-pci, mtty) is in test/vm/low-power.test.ts and
// test/vm/mdev.test.ts.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SysError,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
  VFIO_DEVICE_FEATURE_MASK,
  VFIO_DEVICE_FEATURE_PROBE,
  VfioErrorCode,
  decodeStruct,
  vfio_device_feature,
  vfio_device_feature_dma_logging_control,
} from '../../../../structs/index.js';
import { DeviceFeatures } from '../../../../src/vfio/device/features.js';
import { DeviceLowPower } from '../../../../src/vfio/device/low-power.js';
import { DeviceDmaLogging } from '../../../../src/vfio/device/dma-logging.js';
import { openFdCount } from '../../../support/fd-count.js';
import { thrownBy } from '../../../support/thrown.js';

const fail = (errno: number) => new SysError({ syscall: 'ioctl(VFIO_DEVICE_FEATURE)', errno, target: 'device x' });
const NAME = 'device 0000:00:04.0';

/** Offers low power (`pm`) or DMA logging (`log`); keeps what the calls passed. */
function standIn(offers: 'pm' | 'log' | 'none') {
  const state = { engaged: false, wakeupFd: -1, control: undefined as undefined | Record<string, unknown> };
  const channel = {
    feature(arg: Uint8Array): number {
      const { flags } = decodeStruct<{ flags: number }>(arg, vfio_device_feature);
      const index = flags & VFIO_DEVICE_FEATURE_MASK;
      const pm = index >= 3 && index <= 5;
      const log = index >= 6 && index <= 8;
      if (!((offers === 'pm' && pm) || (offers === 'log' && log))) throw fail(25);
      if (flags & VFIO_DEVICE_FEATURE_PROBE) return 0;
      const payload = arg.subarray(8);
      if (index === VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY || index === VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP) {
        if (state.engaged) throw fail(22);
        state.engaged = true;
        if (index === VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP)
          state.wakeupFd = new DataView(payload.buffer, payload.byteOffset).getInt32(0, true);
      } else if (pm) state.engaged = false;
      if (index === VFIO_DEVICE_FEATURE_DMA_LOGGING_START) {
        state.control = decodeStruct(payload, vfio_device_feature_dma_logging_control);
        new DataView(payload.buffer, payload.byteOffset).setBigUint64(0, 8192n, true); // the driver's page size
      }
      if (index === VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT) expect(payload.length).toBe(32);
      return 0;
    },
  };
  const features = new DeviceFeatures({ channel, name: NAME, checkOpen: () => {} });
  return { features, state };
}

/** A fake sysfs root, with or without its power directory (CONFIG_PM). */
function sysfsDir(withPm: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ts-pm-'));
  if (withPm) mkdirSync(join(dir, 'power'));
  return dir;
}

describe('DeviceLowPower', () => {
  it('enters, refuses a second entry as INVALID_STATE, exits; with wakeup it hands the kernel an eventfd', () => {
    const { features, state } = standIn('pm');
    const lp = new DeviceLowPower({ features, name: NAME, sysfsRoot: sysfsDir(true) });
    lp.enter();
    expect(state.engaged).toBe(true);
    const e = thrownBy(() => lp.enter()) as SysError;
    expect(e.code).toBe(VfioErrorCode.INVALID_STATE);
    expect(e.message).toMatch(/EINVAL .*is in low power already: exit\(\) first/);
    lp.exit();
    lp.exit(); // the kernel makes nothing of a second exit
    expect(state.engaged).toBe(false);
    using wakeup = lp.enterWithWakeup();
    expect(state.wakeupFd).toBe(wakeup.fd);
  });

  it('refuses without CONFIG_PM naming it, and without the feature (ENOTTY), leaving no eventfd', () => {
    const fds = openFdCount();
    const noPm = new DeviceLowPower({ features: standIn('pm').features, name: NAME, sysfsRoot: sysfsDir(false) });
    for (const call of [() => noPm.enter(), () => noPm.enterWithWakeup()]) {
      const e = thrownBy(call);
      expect(e).toMatchObject({ code: VfioErrorCode.UNSUPPORTED });
      expect((e as Error).message).toMatch(/no power management \(CONFIG_PM is not set: .*\/power does not exist\)/);
    }
    const mdev = new DeviceLowPower({ features: standIn('none').features, name: NAME, sysfsRoot: sysfsDir(true) });
    const e = thrownBy(() => mdev.enterWithWakeup()) as SysError;
    expect(e.code).toBe(VfioErrorCode.UNSUPPORTED);
    expect(e.message).toMatch(/has no low-power control: vfio-pci and its variant drivers offer it/);
    // The driver is asked first: an mdev on a kernel without CONFIG_PM lacks the feature anywhere.
    const mdevNoPm = new DeviceLowPower({ features: standIn('none').features, name: NAME, sysfsRoot: sysfsDir(false) });
    expect((thrownBy(() => mdevNoPm.enter()) as Error).message).toMatch(/has no low-power control/);
    expect(openFdCount()).toBe(fds);
  });
});

describe('DeviceDmaLogging', () => {
  it('starts with the ranges (returning the page size the driver chose), reports a bitmap, stops', () => {
    const { features, state } = standIn('log');
    const log = new DeviceDmaLogging({ features, name: NAME });
    expect(log.supported()).toBe(true);
    expect(
      log.start([
        { iova: 0x10000n, length: 0x4000n },
        { iova: 0x40000n, length: 0x1000n },
      ]),
    ).toBe(8192n);
    expect(state.control).toMatchObject({ page_size: 4096n, num_ranges: 2 });
    const r = log.report(0x10000n, 0x100000n);
    expect(r.bitmap.length).toBe(32); // 256 pages
    expect(r.dirty).toEqual([]);
    log.stop();
  });

  it('checks its arguments before the kernel, and a driver without it is ERR_VFIO_UNSUPPORTED', () => {
    const log = new DeviceDmaLogging({ features: standIn('log').features, name: NAME });
    const bad = (call: () => unknown, message: RegExp) => {
      const e = thrownBy(call);
      expect(e).toMatchObject({ code: VfioErrorCode.INVALID_ARGUMENT });
      expect((e as Error).message).toMatch(message);
    };
    bad(() => log.start([]), /ranges an array of 0: expected an array of 1 to 256/);
    bad(() => log.start([{ iova: 0x800n, length: 0x1000n }]), /range 0 .*multiples of the page size 4096/);
    bad(() => log.start([{ iova: 0n, length: 0x1000n }], 3000n), /page size 3000n: expected a bigint power of two/);
    bad(() => log.report(0n, 0n), /length above 0/);
    bad(() => log.report(0n, 1n << 40n), /at most 134217728 pages/);
    const none = new DeviceDmaLogging({ features: standIn('none').features, name: NAME });
    expect(none.supported()).toBe(false);
    const e = thrownBy(() => none.start([{ iova: 0n, length: 0x1000n }])) as SysError;
    expect(e.code).toBe(VfioErrorCode.UNSUPPORTED);
    expect(e.message).toMatch(/ENOTTY .*has no DMA logging: its VFIO driver tracks no dirty pages \(vfio-pci does not/);
  });
});
