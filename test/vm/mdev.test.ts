// Runs in the test VM: mediated devices, on the kernel's sample mtty (a virtual PCI serial card,
// CONFIG_SAMPLE_VFIO_MDEV_MTTY in our 7.3 kernel). mdevs made and removed through sysfs, opened
// by UUID through this row's way into VFIO (the container or iommufd), a byte looped back
// through a port's 8250 registers (BAR0, I/O, reached through the region read/write), an MSI
// counted; and on Debian's 6.1, which has no mdev support loaded, the coded refusal.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MdevSysfs,
  createMdev,
  openDevice,
  removeMdev,
  sendDevice,
  VfioErrorCode,
  type Device,
  type MdevInfo,
  type MigrationState,
} from '../../src/index.js';
import { openFdCount } from '../support/fd-count.js';
import { runCliCaptured } from '../support/run-cli.js';
import { thrownBy } from '../support/thrown.js';
import { backend } from './backend.js';
import { manifest, testDevice } from './manifest.js';

// 8250 UART registers, offsets in a port's I/O BAR.
const UART_RX_TX = 0;
const UART_IER = 1;
const UART_FCR = 2;
const UART_LSR = 5;
const IER_RDI = 0x01; // receive data interrupt
const FCR_FIFO_CLEAR = 0x07; // FIFO on, both cleared (mtty then raises at one byte)
const LSR_DR = 0x01; // data ready
const LSR_THRE = 0x20; // transmit holding register empty

/** Asserts that `call` throws an error with `code` whose message matches `message`. */
function expectRefused(call: () => unknown, code: VfioErrorCode, message: RegExp): void {
  const e = thrownBy(call);
  expect(e).toMatchObject({ code });
  expect((e as Error).message).toMatch(message);
}

/** mdevs on /sys/bus/mdev now. */
const mdevsNow = (): string[] => (existsSync('/sys/bus/mdev/devices') ? readdirSync('/sys/bus/mdev/devices') : []);

/** Makes an mdev of `type`, runs `fn` with it, and removes it whatever happens. */
function withMdev<T>(type: string, fn: (info: MdevInfo) => T): T {
  const info = createMdev(type);
  try {
    return fn(info);
  } finally {
    removeMdev(info.uuid);
  }
}

/** `withMdev` for an async `fn`: the mdev is removed once its promise settles. */
async function withMdevAsync<T>(type: string, fn: (info: MdevInfo) => Promise<T>): Promise<T> {
  const info = createMdev(type);
  try {
    return await fn(info);
  } finally {
    removeMdev(info.uuid);
  }
}

/** Port `n` (0 or 1) of an open mtty: its I/O BAR, the FIFO on and empty. */
function port(dev: Device, n = 0) {
  const bar = dev.bar(n);
  bar.write8(UART_FCR, FCR_FIFO_CLEAR);
  return bar;
}

describe('migration of a device that has none', () => {
  it('edu on vfio-pci: supported() says no, caps() is ERR_VFIO_UNSUPPORTED saying why', () => {
    const fds = openFdCount();
    using dev = openDevice(testDevice('edu').bdf);
    expect(dev.migration.supported()).toBe(false);
    for (const call of [() => dev.migration.caps(), () => dev.migration.state(), () => dev.migration.setState('stop')])
      expectRefused(
        call,
        VfioErrorCode.UNSUPPORTED,
        /^ioctl\(VFIO_DEVICE_FEATURE (GET|SET) MIG.*\) on device 0000:00:03\.0 failed: ENOTTY .*cannot be migrated: its VFIO driver implements no migration states/,
      );
    dev.close();
    expect(openFdCount()).toBe(fds);
  });

  it('edu on vfio-pci: vfio info shows no migration, and DMA logging is ERR_VFIO_UNSUPPORTED saying why', async () => {
    const fds = openFdCount();
    {
      using dev = openDevice(testDevice('edu').bdf);
      expect(dev.features.dmaLogging.supported()).toBe(false);
      for (const call of [
        () => dev.features.dmaLogging.start([{ iova: 0n, length: 0x1000n }]),
        () => dev.features.dmaLogging.report(0n, 0x1000n),
        () => dev.features.dmaLogging.stop(),
      ])
        expectRefused(
          call,
          VfioErrorCode.UNSUPPORTED,
          /^ioctl\(VFIO_DEVICE_FEATURE (GET|SET) DMA_LOGGING_.*\) on device 0000:00:03\.0 failed: ENOTTY .*has no DMA logging: its VFIO driver tracks no dirty pages \(vfio-pci does not/,
        );
    }
    expect(openFdCount()).toBe(fds);
    const { out, err } = await runCliCaptured('info', testDevice('edu').bdf);
    expect(err).toBe('');
    const features = out.slice(out.indexOf('device features'));
    expect(features).toMatch(/^ {3}1 MIGRATION +none$/m);
    expect(features).toMatch(/^ {3}6 DMA_LOGGING_START +none$/m);
    // vfio-pci's own: low power (SET only), on both kernels.
    expect(features).toMatch(/^ {3}3 LOW_POWER_ENTRY +set$/m);
    expect(features).toMatch(/^ {3}5 LOW_POWER_EXIT +set$/m);
  });
});

if (manifest().flavour !== 'vfio') {
  describe('mediated devices on a kernel without them', () => {
    it('every entry refuses with ERR_VFIO_UNSUPPORTED, naming CONFIG_VFIO_MDEV and the vendor driver', () => {
      const before = openFdCount();
      const uuid = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';
      for (const call of [
        () => new MdevSysfs().types(),
        () => createMdev('mtty-1'),
        () => openDevice(uuid),
        () => openDevice(`mdev:${uuid}`),
      ]) {
        const e = thrownBy(call);
        expect(e).toMatchObject({ code: VfioErrorCode.UNSUPPORTED });
        expect((e as Error).message).toMatch(
          /^this kernel has no mediated devices: \/sys\/class\/mdev_bus does not exist; the kernel needs CONFIG_VFIO_MDEV and a vendor driver .*CONFIG_SAMPLE_VFIO_MDEV_MTTY/,
        );
      }
      expect(openFdCount()).toBe(before);
    });
  });
} else {
  describe(`mediated devices: the mtty sample [${backend}]`, () => {
    it('lists mtty as a parent with its two types', () => {
      const sysfs = new MdevSysfs();
      expect(sysfs.parents().map((p) => p.name)).toContain('mtty');
      const [one, two] = sysfs.types('mtty');
      expect(one).toMatchObject({ id: 'mtty-1', parent: 'mtty', name: 'Single port serial', deviceApi: 'vfio-pci' });
      expect(two).toMatchObject({ id: 'mtty-2', parent: 'mtty', name: 'Dual port serial', deviceApi: 'vfio-pci' });
      expect(one.description).toBeNull();
      // 24 ports between them: a two-port card takes two.
      expect(one.availableInstances).toBe(24 - 0);
      expect(two.availableInstances).toBe(12);
    });

    it('makes an mdev, opens it by UUID, loops a byte back through its port and counts an MSI, then removes it', () => {
      const fds = openFdCount();
      const uuid = withMdev('mtty-1', (info) => {
        expect(info).toMatchObject({ type: 'mtty-1', parent: 'mtty', driver: 'mtty' });
        expect(existsSync(`/dev/vfio/${info.iommuGroup}`)).toBe(true);
        expect(existsSync(`/dev/vfio/devices/${info.cdev}`)).toBe(true);
        expect(new MdevSysfs().type('mtty-1').availableInstances).toBe(23);
        expect(mdevsNow()).toEqual([info.uuid]);
        {
          using dev = openDevice(info.uuid);
          expect(dev.address).toBe(info.uuid);
          expect(dev.iommu.kind).toBe(backend);
          expect(dev.iommuGroup).toBe(info.iommuGroup);
          expect(dev.group === undefined).toBe(backend === 'iommufd');
          // The emulated config space: a 16550-compatible serial controller, BAR0 eight I/O ports.
          expect([dev.config.vendorId(), dev.config.deviceId()]).toEqual([0x4348, 0x3253]);
          expect(dev.config.read32(0x08) >>> 8).toBe(0x070002);
          expect(dev.info.isPci).toBe(true);
          expect(dev.regionInfo(0).size).toBe(8n);
          expect(dev.config.bars()[0]).toMatchObject({ index: 0, io: true });
          expect(dev.interrupts.supported).toMatchObject({ intx: 1, msi: 1, msix: 0 });

          const bar = port(dev);
          expect(bar.read8(UART_LSR) & (LSR_DR | LSR_THRE)).toBe(LSR_THRE);
          dev.interrupts.enable('msi');
          bar.write8(UART_IER, IER_RDI);
          bar.write8(UART_RX_TX, 0x5a); // transmitted, and back in the receive FIFO
          expect(dev.interrupts.wait(2000)).toEqual([{ vector: 0, count: 1 }]);
          expect(bar.read8(UART_LSR) & LSR_DR).toBe(LSR_DR);
          expect(bar.read8(UART_RX_TX)).toBe(0x5a);
          expect(bar.read8(UART_LSR) & (LSR_DR | LSR_THRE)).toBe(LSR_THRE);
          bar.write8(UART_IER, 0);
        }
        return info.uuid;
      });
      expect(mdevsNow()).not.toContain(uuid);
      expect(new MdevSysfs().type('mtty-1').availableInstances).toBe(24);
      expect(openFdCount()).toBe(fds);
    });

    it('opens mdev:UUID too, each port of a two-port card its own BAR; vfio info, write and read take the UUID', async () => {
      await withMdevAsync('mtty-2', async (info) => {
        {
          using dev = openDevice(`mdev:${info.uuid}`);
          expect(dev.address).toBe(info.uuid);
          const [p0, p1] = [port(dev, 0), port(dev, 1)];
          p0.write8(UART_RX_TX, 0x11);
          p1.write8(UART_RX_TX, 0x22);
          expect([p1.read8(UART_RX_TX), p0.read8(UART_RX_TX)]).toEqual([0x22, 0x11]);
        }
        const infoOut = await runCliCaptured('info', info.uuid);
        expect(infoOut.err).toBe('');
        expect(infoOut.out.split('\n')[0]).toBe(
          `${info.uuid} 4348:3253 Serial controller (class 070002), driver mtty, IOMMU group ${info.iommuGroup}`,
        );
        // The features mtty's driver offers, probed: migration with its flags, DMA logging; no low power.
        const features = infoOut.out.slice(infoOut.out.indexOf('device features'));
        expect(features).toMatch(/^ {3}1 MIGRATION +get: STOP_COPY, P2P, PRE_COPY$/m);
        expect(features).toMatch(/^ {3}2 MIG_DEVICE_STATE +get, set$/m);
        expect(features).toMatch(/^ {3}3 LOW_POWER_ENTRY +none$/m);
        expect(features).toMatch(/^ {3}6 DMA_LOGGING_START +set$/m);
        expect(features).toMatch(/^ {3}8 DMA_LOGGING_REPORT +get$/m);
        expect(await runCliCaptured('write', info.uuid, '1', '0', '0x7e', '--width', '8')).toMatchObject({ code: 0 });
        expect(await runCliCaptured('read', `mdev:${info.uuid}`, '1', '0', '--width', '8')).toEqual({
          code: 0,
          out: '0x7e',
          err: '',
        });
      });
    });

    it('refuses an unknown type, a type with no instances left, an unknown UUID and removing an open mdev', () => {
      const fds = openFdCount();
      expectRefused(
        () => createMdev('mtty-9'),
        VfioErrorCode.INVALID_ARGUMENT,
        /^no mdev type mtty-9: the types are mtty-1 \(mtty: Single port serial\)/,
      );
      const unknown = '0b8f1a2e-6e3c-4f7b-9a43-1c2d3e4f5a6b';
      expectRefused(
        () => openDevice(unknown),
        VfioErrorCode.NO_DEVICE,
        new RegExp(`^mdev ${unknown} not found \\(/sys/bus/mdev/devices/${unknown} does not exist\\)`),
      );
      // Twelve two-port cards take all 24 ports.
      const made: MdevInfo[] = [];
      try {
        while (new MdevSysfs().type('mtty-2').availableInstances > 0) made.push(createMdev('mtty-2'));
        expect(made).toHaveLength(12);
        expectRefused(
          () => createMdev('mtty-1'),
          VfioErrorCode.NO_INSTANCES,
          /^mdev type mtty-1 of mtty has no instances left \(available_instances is 0\)/,
        );
        {
          using dev = openDevice(made[0].uuid);
          expectRefused(
            () => removeMdev(dev.address),
            VfioErrorCode.DEVICE_BUSY,
            new RegExp(`^mdev ${made[0].uuid} is open: .* is held by this process`),
          );
        }
      } finally {
        for (const m of made) removeMdev(m.uuid);
      }
      expect(mdevsNow()).toEqual([]);
      expect(openFdCount()).toBe(fds);
    });

    it('moves the state of one mtty, bytes waiting in its receive FIFO, into a second, which returns them', () => {
      const fds = openFdCount();
      withMdev('mtty-1', (a) =>
        withMdev('mtty-1', (b) => {
          using src = openDevice(a.uuid);
          using dst = openDevice(b.uuid);
          expect(src.migration.supported()).toBe(true);
          expect(src.migration.caps()).toEqual({ stopCopy: true, p2p: true, preCopy: true, flags: 7 });
          expect(src.migration.state()).toBe('running');
          const sent = port(src);
          for (const c of [0x61, 0x62, 0x63]) sent.write8(UART_RX_TX, c); // looped back, not read
          expect(port(dst).read8(UART_LSR) & LSR_DR).toBe(0);

          // Pre-copy while it runs: mtty gives its header first, the ports at STOP_COPY.
          const stream = src.migration.setState('pre-copy');
          expect(stream?.direction).toBe('read');
          const { initialBytes } = stream!.precopyInfo();
          expect(initialBytes).toBeGreaterThan(0);
          const header = stream!.readAll();
          expect(header.length).toBe(initialBytes);
          expect(stream!.precopyInfo()).toEqual({ initialBytes: 0, dirtyBytes: 0, flags: 0 });
          const total = src.migration.dataSize();
          expect(src.migration.setState('stop-copy')).toBeNull(); // the same stream goes on
          const rest = stream!.readAll();
          expect(header.length + rest.length).toBe(total);
          expectRefused(
            () => stream!.precopyInfo(),
            VfioErrorCode.INVALID_STATE,
            /in the PRE_COPY and PRE_COPY_P2P states only/,
          );
          stream!.close();
          expect(src.migration.setState('stop')).toBeNull();
          expect(src.migration.state()).toBe('stop');

          dst.migration.load(Buffer.concat([header, rest]));
          expect(dst.migration.state()).toBe('stop');
          dst.migration.setState('running');
          const got = dst.bar(0);
          expect(got.read8(UART_LSR) & LSR_DR).toBe(LSR_DR);
          expect([got.read8(UART_RX_TX), got.read8(UART_RX_TX), got.read8(UART_RX_TX)]).toEqual([0x61, 0x62, 0x63]);
          expect(got.read8(UART_LSR) & LSR_DR).toBe(0);

          // save() and load() do the same round in one call each: back the other way, where the
          // bytes the first still holds give way to the second's empty FIFO.
          src.migration.load(dst.migration.save());
          expect(dst.migration.state()).toBe('stop');
          src.migration.setState('running');
          expect(sent.read8(UART_LSR) & LSR_DR).toBe(0);
        }),
      );
      expect(openFdCount()).toBe(fds);
    });

    it('logs DMA: starts on ranges, reports an empty bitmap (mtty writes no memory), stops; the kernel checks the ranges', () => {
      const fds = openFdCount();
      withMdev('mtty-1', (a) => {
        using dev = openDevice(a.uuid);
        expect(dev.features.dmaLogging.supported()).toBe(true);
        const ranges = [
          { iova: 0x100000n, length: 0x10000n },
          { iova: 0x400000n, length: 0x200000n },
        ];
        expect(dev.features.dmaLogging.start(ranges)).toBe(4096n);
        port(dev).write8(UART_RX_TX, 0x41); // the device at work while it is logged
        const r = dev.features.dmaLogging.report(0x400000n, 0x200000n);
        expect(r).toMatchObject({ iova: 0x400000n, length: 0x200000n, pageSize: 4096n, dirty: [] });
        expect(r.bitmap.length).toBe(64); // 512 pages
        expect(r.bitmap.every((b) => b === 0)).toBe(true);
        // What the kernel checks itself: ranges that overlap.
        expectRefused(
          () =>
            dev.features.dmaLogging.start([
              { iova: 0n, length: 0x2000n },
              { iova: 0x1000n, length: 0x1000n },
            ]),
          VfioErrorCode.INVALID_ARGUMENT,
          /^ioctl\(VFIO_DEVICE_FEATURE SET DMA_LOGGING_START\) on device .* failed: EINVAL .*the ranges: they overlap/,
        );
        dev.features.dmaLogging.stop();
        expectRefused(
          () => dev.features.lowPower.enter(),
          VfioErrorCode.UNSUPPORTED,
          /has no low-power control: vfio-pci and its variant drivers offer it/,
        );
      });
      expect(openFdCount()).toBe(fds);
    });

    it('is not handed to another process: sendDevice refuses an mdev before it connects', () => {
      const fds = openFdCount();
      withMdev('mtty-1', (info) => {
        using dev = openDevice(info.uuid);
        // A path nobody listens at: the refusal comes before any connection or descriptor is made.
        expectRefused(
          () => sendDevice(dev, '/tmp/vfio-ts-nobody-listens.sock'),
          VfioErrorCode.UNSUPPORTED,
          new RegExp(
            `is a mediated device: only a PCI device can be handed to another process; open the mdev in the process that drives it \\(openDevice\\('mdev:${info.uuid}'\\)\\)$`,
          ),
        );
        expect(dev.bar(0).read8(UART_LSR) & LSR_THRE).toBe(LSR_THRE); // still this process's, and working
      });
      expect(openFdCount()).toBe(fds);
    });

    it('refuses a state it does not know, a move the kernel does not make, and data from elsewhere', () => {
      const fds = openFdCount();
      withMdev('mtty-1', (a) => {
        using dev = openDevice(a.uuid);
        expectRefused(
          () => dev.migration.setState('flying' as MigrationState),
          VfioErrorCode.INVALID_ARGUMENT,
          /^setState\(\) of device .*: "flying" \(a string\) is not a state to ask for; one of stop, running, stop-copy/,
        );
        const stream = dev.migration.setState('stop-copy');
        expectRefused(
          () => dev.migration.setState('pre-copy'),
          VfioErrorCode.INVALID_STATE,
          /refused to move to pre-copy: it offers running, stop, stop-copy, resuming, running-p2p, pre-copy, pre-copy-p2p, .*now in stop-copy$/,
        );
        expectRefused(
          () => stream!.write(Buffer.alloc(1)),
          VfioErrorCode.INVALID_STATE,
          /this stream is for reading a saved state/,
        );
        dev.migration.setState('stop');
        expectRefused(
          () => dev.migration.load(Buffer.alloc(60, 0xee)),
          VfioErrorCode.INVALID_ARGUMENT,
          /^write on migration data of device .* failed: EFAULT .*the device's driver refused the data: it is not a state saved from a compatible device/,
        );
        expect(dev.migration.state()).toBe('resuming');
        // The device closes the stream it still has open.
        dev.close();
        expect(stream!.closed).toBe(true);
      });
      expect(openFdCount()).toBe(fds);
    });
  });
}
