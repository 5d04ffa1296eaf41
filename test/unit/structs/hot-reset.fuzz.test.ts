// Fuzz: the hot-reset buffers (structs/hot-reset.ts): vfio_pci_hot_reset_info as the kernel
// fills it (random and mutated from valid ones, with group numbers and with iommufd device ids),
// the buffer grown to the count the kernel asks for, the addresses made from the devices (as
// src/vfio/device/hot-reset.ts does), and the reset request built from group fds. Each input returns
// or throws a coded error within the time bound; devices come only from inside the buffer.
// VFIO_TS_FUZZ_RUNS=100000 runs 100,000 inputs per property (replay: see test/support/fuzz.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  VFIO_PCI_HOT_RESET_FLAG_DEV_ID,
  buildHotReset,
  hotResetInfoBuffer,
  parseHotResetInfo,
  vfio_pci_dependent_device,
  vfio_pci_hot_reset,
  vfio_pci_hot_reset_info,
} from '../../../structs/index.js';
import { pciAddressOf } from '../../../src/pci/index.js';
import { hotResetSeed } from '../../support/fuzz-seeds.js';
import { fuzzBytes, fuzzParams, outcome } from '../../support/fuzz.js';

const RUNS = 2000;
const FIXED = vfio_pci_hot_reset_info.size;
const ITEM = vfio_pci_dependent_device.size;

const SEEDS = [
  hotResetSeed(0, [
    [5, 0, 0, 0x18],
    [5, 0, 0, 0x19],
    [7, 0, 1, 0],
  ]),
  // Through a cdev: iommufd device ids, -1 for a device not owned.
  hotResetSeed(VFIO_PCI_HOT_RESET_FLAG_DEV_ID, [
    [1, 0, 0, 0x18],
    [0xffffffff, 0x10, 0xff, 0xff],
  ]),
];

/** A count as the kernel might report one: small, at the edges of a u32, anything. */
const count = fc.oneof(
  fc.nat({ max: 64 }),
  fc.constantFrom(0x1fffffff, 0x7fffffff, 0xffffffff),
  fc.nat({ max: 0xffffffff }),
);

describe('fuzz: hot-reset buffers', () => {
  it('parseHotResetInfo: devices only from inside the buffer, each a valid address or a coded error', () => {
    fc.assert(
      fc.property(fuzzBytes(SEEDS, 96), (buf) => {
        const info = outcome(() => parseHotResetInfo(buf));
        if (!info) return;
        const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        expect([info.flags, info.count]).toEqual([view.getUint32(4, true), view.getUint32(8, true)]);
        expect(info.devices.length).toBeLessThanOrEqual(Math.min(info.count, Math.floor((buf.length - FIXED) / ITEM)));
        info.devices.forEach((d, i) => {
          const at = FIXED + i * ITEM;
          const raw = view.getUint32(at, true);
          expect(d.group).toBe(info.flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID ? raw | 0 : raw);
          expect([d.segment, d.bus, d.device * 8 + d.fn]).toEqual([
            view.getUint16(at + 4, true),
            view.getUint8(at + 6),
            view.getUint8(at + 7),
          ]);
          const address = outcome(() => pciAddressOf({ domain: d.segment, bus: d.bus, device: d.device, fn: d.fn }));
          expect(address).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/);
        });
      }),
      fuzzParams(RUNS),
    );
  });

  it('hotResetInfoBuffer: room for the count the kernel asked for, or a coded error', () => {
    fc.assert(
      fc.property(count, (n) => {
        const buf = outcome(() => hotResetInfoBuffer(n));
        if (!buf) return;
        expect(buf.length).toBe(FIXED + n * ITEM);
        expect(buf.readUInt32LE(0)).toBe(buf.length);
      }),
      // Found by this test: a buffer past 4 GiB asked for threw Node's RangeError (short of that: GiBs allocated).
      fuzzParams<[number]>(RUNS, [[536870911]]),
    );
  });

  it('buildHotReset: the fds as given, or a coded error', () => {
    const fd = fc.oneof(
      fc.nat({ max: 1024 }),
      fc.constantFrom(-1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 0.5, NaN),
      fc.double(),
    );
    fc.assert(
      fc.property(fc.array(fd, { maxLength: 16 }), (fds) => {
        const buf = outcome(() => buildHotReset(fds));
        if (!buf) return;
        expect(buf.length).toBe(vfio_pci_hot_reset.size + 4 * fds.length);
        expect([buf.readUInt32LE(0), buf.readUInt32LE(8)]).toEqual([buf.length, fds.length]);
        fds.forEach((v, i) => expect(buf.readInt32LE(vfio_pci_hot_reset.size + 4 * i)).toBe(v + 0));
      }),
      // Found by this test: a fraction written as fd 0, an fd past an int32 as Node's RangeError.
      fuzzParams<[number[]]>(RUNS, [[[-5e-324]], [[2 ** 31]]]),
    );
  });
});
