// The fault table: one wrong call per row against the real devices, each checked for what a
// program would look at: the error's stable `code`, a message that names the resource and the
// fix, and that the call left nothing behind (open fds, memory mappings and locked memory are
// back to where they were before the row).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VFIO_PCI_CONFIG_REGION_INDEX } from '../../structs/index.js';
import {
  Container,
  e1000eMap,
  IommufdContext,
  isVfioError,
  openDevice,
  VfioErrorCode,
  type Device,
} from '../../src/index.js';
import { REPO } from '../support/markdown-blocks.js';
import { resourceFootprint } from '../support/fd-count.js';
import { testDevice } from './manifest.js';
import { backend } from './backend.js';

type Js = Record<string, (...args: unknown[]) => unknown>;
const js = (x: unknown): Js => x as Js;

interface Row {
  name: string;
  call: () => unknown;
  code: VfioErrorCode;
  /** Must appear in the message: the resource, as the user knows it. */
  resource: () => string;
  /** Must match the message: what to do about it. */
  fix: RegExp;
}

const code = VfioErrorCode;

describe(`the fault table: codes, messages and nothing left behind (${backend})`, () => {
  const edu = testDevice('edu');
  const e1000e = testDevice('e1000e');
  let dev: Device;
  let nic: Device;

  beforeAll(() => {
    dev = openDevice(edu.bdf);
    nic = openDevice(e1000e.bdf);
    // What a device makes once on first use (the interrupt epolls) is made before the rows count.
    dev.interrupts.enable('msi');
    dev.interrupts.disable();
    dev.bar(0); // regions are mapped on first use, and stay until the device closes
    nic.bar(0);
    nic.bar(2);
    nic.rom();
  });
  afterAll(() => {
    nic?.close();
    dev?.close();
  });

  const EDU_BAR0 = (): string => `BAR0 of ${edu.bdf}`;
  const context = (): Container | IommufdContext => (backend === 'iommufd' ? new IommufdContext() : new Container());

  const ROWS: Row[] = [
    // Finding the device.
    {
      name: 'missing device',
      call: () => openDevice('0000:00:1f.6'),
      code: code.NO_DEVICE,
      resource: () => '0000:00:1f.6',
      fix: /lspci -D/,
    },
    {
      name: 'not a PCI address',
      call: () => openDevice('00:3.0x'),
      code: code.INVALID_ADDRESS,
      resource: () => "'00:3.0x'",
      fix: /such as 0000:00:03\.0/,
    },
    {
      name: 'device on its host driver',
      call: () => openDevice(testDevice('rng-host').bdf),
      code: code.NOT_VFIO_BOUND,
      resource: () => testDevice('rng-host').bdf,
      fix: /vfio bind/,
    },
    {
      name: 'non-viable group',
      call: () => openDevice(testDevice('edu-nonviable').bdf),
      code: code.GROUP_NOT_VIABLE,
      resource: () => `IOMMU group ${testDevice('edu-nonviable').group}`,
      fix: /driver_override/,
    },
    {
      name: 'device already open in another context',
      call: () => openDevice(edu.bdf),
      code: backend === 'iommufd' ? code.DEVICE_BUSY : code.GROUP_BUSY,
      resource: () => (backend === 'iommufd' ? edu.bdf : `IOMMU group ${edu.group}`),
      fix: new RegExp(`held by this process \\(pid ${process.pid}\\).*close it there first`),
    },
    {
      name: 'unknown iommu choice',
      call: () => openDevice(edu.bdf, { iommu: 'vtd' as never }),
      code: code.INVALID_ARGUMENT,
      resource: () => "'vtd'",
      fix: /iommu must be one of auto, type1, iommufd, noiommu/,
    },
    {
      name: 'no-IOMMU mode for a device with an IOMMU',
      call: () => openDevice(edu.bdf, { iommu: 'noiommu' }),
      code: code.INVALID_ARGUMENT,
      resource: () => edu.bdf,
      fix: /no-IOMMU mode is only for devices without one/,
    },
    {
      name: 'DMA address width out of range',
      call: () => {
        const ctx = context();
        try {
          return ctx.device(testDevice('nvme').bdf, { dmaBits: 99 });
        } finally {
          ctx.close();
        }
      },
      code: code.OUT_OF_RANGE,
      resource: () => `dmaBits 99 of ${testDevice('nvme').bdf}`,
      fix: /expected an integer from 12 to 64/,
    },
    // Registers.
    {
      name: 'read past the end of a BAR',
      call: () => dev.bar(0).read32(0x100000),
      code: code.OUT_OF_RANGE,
      resource: EDU_BAR0,
      fix: /expected a multiple of 4 from 0 to 0xffffc/,
    },
    {
      name: 'misaligned register read',
      call: () => dev.bar(0).read32(2),
      code: code.MISALIGNED,
      resource: EDU_BAR0,
      fix: /expected a multiple of 4/,
    },
    {
      name: 'value wider than the access',
      call: () => dev.bar(0).write32(4, 2 ** 32),
      code: code.OUT_OF_RANGE,
      resource: EDU_BAR0,
      fix: /nothing is truncated/,
    },
    {
      name: 'a number where a 64-bit value is a bigint',
      call: () => js(dev.bar(0)).write64(0x80, 4096),
      code: code.INVALID_ARGUMENT,
      resource: EDU_BAR0,
      fix: /pass 4096n/,
    },
    {
      name: "write to a read-only region (the NIC's expansion ROM)",
      call: () => nic.rom().write32(0, 1),
      code: code.READ_ONLY,
      resource: () => `ROM of ${e1000e.bdf}`,
      fix: /nothing was written/,
    },
    {
      name: 'a width the region refuses (8 bytes on an I/O-port BAR)',
      call: () => nic.bar(2).read64(0),
      code: code.UNSUPPORTED,
      resource: () => `BAR2 of ${e1000e.bdf}`,
      fix: /use two 4-byte accesses/,
    },
    {
      name: 'BAR index out of range',
      call: () => dev.bar(6),
      code: code.OUT_OF_RANGE,
      resource: () => `device ${edu.bdf}`,
      fix: /has BARs 0-5, not 6/,
    },
    {
      name: 'region index the device lacks',
      call: () => dev.region(99),
      code: code.OUT_OF_RANGE,
      resource: () => edu.bdf,
      fix: /has regions 0-\d+, not 99/,
    },
    {
      name: 'BAR the device does not implement',
      call: () => dev.bar(5),
      code: code.UNSUPPORTED,
      resource: () => `BAR5 of ${edu.bdf}`,
      fix: /not implemented \(size 0\)/,
    },
    {
      name: 'config space read past its end',
      call: () => dev.region(VFIO_PCI_CONFIG_REGION_INDEX).read32(0x1000),
      code: code.OUT_OF_RANGE,
      resource: () => `config of ${edu.bdf}`,
      fix: /expected a multiple of 4 from 0 to 0xfc/,
    },
    {
      name: 'bulk write of something that is not bytes',
      call: () => js(dev.bar(0)).writeBytes(0, [1, 2]),
      code: code.INVALID_ARGUMENT,
      resource: EDU_BAR0,
      fix: /expected a Uint8Array/,
    },
    {
      name: 'unknown register of a register map',
      call: () => e1000eMap.bind(nic.bar(0)).get('NOPE'),
      code: code.REGISTER_MAP,
      resource: () => 'NOPE',
      fix: /its registers/,
    },
    // DMA.
    {
      name: 'DMA buffer of size 0',
      call: () => dev.dma.alloc(0),
      code: code.OUT_OF_RANGE,
      resource: () => 'DMA context',
      fix: /expected an integer from 1/,
    },
    {
      name: 'DMA buffer size as a string',
      call: () => js(dev.dma).alloc('4096'),
      code: code.INVALID_ARGUMENT,
      resource: () => 'DMA context',
      fix: /a number/,
    },
    {
      // A process address is above 4 GiB on x86-64 and arm64 alike, and within an SMMUv3's
      // 48-bit aperture: a 32-bit device is what refuses it everywhere.
      name: 'identity IOVA beyond what the device reaches',
      call: () => dev.dma.alloc(4096, { iova: 'identity', addressBits: 32 }),
      code: code.IOVA_UNAVAILABLE,
      resource: () => 'identity IOVA',
      fix: /Use the default iova/,
    },
    {
      name: 'IOVA space exhausted below a narrow DMA limit',
      call: () => {
        const ctx = context();
        try {
          const narrow = ctx.device(testDevice('nvme').bdf, { dmaBits: 13 });
          narrow.dma.alloc(16384);
        } finally {
          ctx.close();
        }
      },
      code: code.IOVA_EXHAUSTED,
      resource: () => 'no free IOVA range of 0x4000 bytes',
      fix: /allocations hold/,
    },
    {
      name: 'pool larger than 4 GiB',
      call: () => dev.dma.pool(2 ** 20, 8192),
      code: code.OUT_OF_RANGE,
      resource: () => 'pool of 1048576 x 8192 bytes',
      fix: /limited to 4 GiB/,
    },
    {
      name: 'pool entry freed twice',
      call: () => {
        const pool = dev.dma.pool(2, 64);
        try {
          const e = pool.alloc()!;
          pool.free(e);
          pool.free(e);
        } finally {
          pool.close();
        }
      },
      code: code.INVALID_STATE,
      resource: () => 'DMA pool entry 0',
      fix: /freed twice/,
    },
    {
      name: 'pool entry freed to another pool',
      call: () => {
        const a = dev.dma.pool(2, 64);
        const b = dev.dma.pool(2, 64);
        try {
          b.free(a.alloc()!);
        } finally {
          a.close();
          b.close();
        }
      },
      code: code.INVALID_ARGUMENT,
      resource: () => 'DMA pool of 2 x 64 bytes',
      fix: /a pool it does not belong to/,
    },
    // Interrupts.
    {
      name: 'irq type the device lacks (edu has no MSI-X)',
      call: () => dev.interrupts.enable('msix'),
      code: code.UNSUPPORTED,
      resource: () => edu.bdf,
      fix: /use another type, or enable\('auto'\)/,
    },
    {
      name: 'more vectors than the device has',
      call: () => dev.interrupts.enable('msi', { count: 4 }),
      code: code.OUT_OF_RANGE,
      resource: () => edu.bdf,
      fix: /use count 1-1/,
    },
    {
      name: 'unknown interrupt type',
      call: () => dev.interrupts.enable('msi-y' as never),
      code: code.INVALID_ARGUMENT,
      resource: () => 'msi-y',
      fix: /'msix', 'msi', 'intx' or 'auto'/,
    },
    {
      name: 'unmask with no interrupts enabled',
      call: () => dev.interrupts.unmask(0),
      code: code.INVALID_STATE,
      resource: () => edu.bdf,
      fix: /call device.interrupts.enable\(\) first/,
    },
    {
      name: 'MSI enabled while INTx is',
      call: () => {
        dev.interrupts.enable('intx');
        try {
          dev.interrupts.enable('msi');
        } finally {
          dev.interrupts.disable();
        }
      },
      code: code.INVALID_STATE,
      resource: () => edu.bdf,
      fix: /call interrupts.disable\(\) first/,
    },
    {
      name: 'mask of a vector VFIO cannot mask (MSI)',
      call: () => {
        dev.interrupts.enable('msi');
        try {
          dev.interrupts.mask(0);
        } finally {
          dev.interrupts.disable();
        }
      },
      code: code.UNSUPPORTED,
      resource: () => edu.bdf,
      fix: /mask it in the device instead/,
    },
    {
      name: 'reset of a device without a reset method',
      call: () => dev.reset(),
      code: code.UNSUPPORTED,
      resource: () => edu.bdf,
      fix: /Reinitialise it through its registers/,
    },
    // Use after close.
    {
      name: 'a closed DMA buffer',
      call: () => {
        const b = dev.dma.alloc(4096);
        b.close();
        return b.bytes;
      },
      code: code.CLOSED,
      resource: () => 'DMA buffer at IOVA',
      fix: /allocate a new one/,
    },
    {
      name: 'a closed pool',
      call: () => {
        const p = dev.dma.pool(2, 64);
        p.close();
        return p.alloc();
      },
      code: code.CLOSED,
      resource: () => 'DMA pool of 2 x 64 bytes',
      fix: /allocate a new pool/,
    },
    {
      name: 'a region of a closed device',
      call: () => {
        const ctx = context();
        const d = ctx.device(testDevice('nvme').bdf);
        const bar = d.bar(0);
        ctx.close();
        return bar.read32(0);
      },
      code: code.CLOSED,
      resource: () => `BAR0 of ${testDevice('nvme').bdf}`,
      fix: /open it again/,
    },
  ];

  for (const row of ROWS) {
    it(`${row.name}: ${row.code}`, () => {
      const before = resourceFootprint();
      let err: unknown;
      try {
        row.call();
      } catch (e) {
        err = e;
      }
      expect(isVfioError(err), `${row.name} threw ${String(err)}`).toBe(true);
      const e = err as Error & { code: string };
      expect(e.code, e.message).toBe(row.code);
      expect(e.message).toContain(row.resource());
      expect(e.message).toMatch(row.fix);
      expect(resourceFootprint()).toEqual(before);
    });
  }

  it('has at least 30 rows', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(30);
  });

  it('no permission as an unprivileged user: ERR_VFIO_PERMISSION naming the file, nothing left open', () => {
    const t0 = Date.now();
    // The built package (scripts/vm/test-matrix builds dist/ first), run as nobody.
    const script = `
      import(${JSON.stringify(join(REPO, 'dist/src/index.js'))}).then((m) => {
        const before = require('node:fs').readdirSync('/proc/self/fd').length;
        try { m.openDevice(${JSON.stringify(edu.bdf)}); console.log('opened'); }
        catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errnoName, message: e.message,
          left: require('node:fs').readdirSync('/proc/self/fd').length - before })); }
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    const r = JSON.parse(out) as { code: string; errno: string; message: string; left: number };
    expect(r.code).toBe('ERR_VFIO_PERMISSION');
    expect(r.errno).toBe('EACCES');
    expect(r.message).toMatch(backend === 'iommufd' ? /\/dev\/(iommu|vfio)/ : /\/dev\/vfio\/vfio|\/dev\/vfio\/\d+/);
    expect(r.message).toMatch(/run as root|chown/);
    expect(r.left).toBe(0);
    process.stderr.write(`unprivileged child: ${Date.now() - t0} ms\n`);
  });
});
