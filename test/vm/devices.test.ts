import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PCI_CAP_ID_MSIX, PCI_MSIX_TABLE, PCI_MSIX_TABLE_OFFSET } from '../../structs/index.js';
import { Container, IommufdContext, SysError, openDevice } from '../../src/index.js';
import { manifest, testDevice } from './manifest.js';
import { backend, on } from './backend.js';
import { openFdCount } from '../support/fd-count.js';
import { sysfsBars, sysfsCapabilities } from './sysfs-oracle.js';

const NVME_CAP = 0x00;
const NVME_VS = 0x08;
const NVME_CC = 0x14;

describe('nvme', () => {
  const nvme = testDevice('nvme');

  it('reads CAP and VS with the values QEMU 7.2 sets', () => {
    using dev = openDevice(nvme.bdf);
    const bar0 = dev.bar(0);
    const cap = bar0.read64(NVME_CAP);
    expect(Number(cap & 0xffffn)).toBe(0x7ff); // MQES
    expect(Number((cap >> 16n) & 1n)).toBe(1); // CQR
    expect(Number((cap >> 24n) & 0xffn)).toBe(0xf); // TO
    expect(Number((cap >> 37n) & 1n)).toBe(1); // CSS: NVM command set
    expect(Number((cap >> 48n) & 0xfn)).toBe(0); // MPSMIN: 4 KiB
    expect(Number((cap >> 52n) & 0xfn)).toBe(4); // MPSMAX: 64 KiB
    expect(bar0.read32(NVME_VS)).toBe(0x00010400); // NVMe 1.4
    // The same 64-bit register read as two 32-bit halves.
    expect(BigInt(bar0.read32(NVME_CAP)) | (BigInt(bar0.read32(NVME_CAP + 4)) << 32n)).toBe(cap);
  });

  it('leaves the MSI-X table out of the mapping and still reads it through the region', () => {
    using dev = openDevice(nvme.bdf);
    const msix = sysfsCapabilities(nvme.bdf).find((c) => c.id === PCI_CAP_ID_MSIX);
    expect(msix).toBeDefined();
    expect(dev.config.findCapability(PCI_CAP_ID_MSIX)).toBe(msix!.offset);
    const tableOffset = (dev.config.read32(msix!.offset + PCI_MSIX_TABLE) & PCI_MSIX_TABLE_OFFSET) >>> 0;
    const bar0 = dev.bar(0);
    expect(dev.regionInfo(0).msixMappable).toBe(true); // the kernel would allow it; we choose not to
    expect(bar0.isMapped(tableOffset, 4)).toBe(false);
    expect(bar0.isMapped(0, 4)).toBe(true);
    expect(bar0.mappedAreas.every((a) => a.end <= tableOffset || a.start >= tableOffset + 4096)).toBe(true);
    // Reads there go through pread and come back as one 32-bit value.
    expect(typeof bar0.read32(tableOffset + 12)).toBe('number');
    // Registers on both sides of the hole still answer.
    expect(bar0.read32(NVME_VS)).toBe(0x00010400);
    // With mapMsix the whole BAR is mapped, as the kernel offers.
    dev.close();
    using dev2 = openDevice(nvme.bdf);
    expect(dev2.bar(0, { mapMsix: true }).isMapped(tableOffset, 4)).toBe(true);
  });

  it('resets: the controller comes back disabled', () => {
    using dev = openDevice(nvme.bdf);
    expect(dev.info.canReset).toBe(true);
    const bar0 = dev.bar(0);
    bar0.write32(NVME_CC, 0x00460000); // IOSQES/IOCQES set, EN clear
    expect(bar0.read32(NVME_CC)).toBe(0x00460000);
    dev.reset();
    expect(bar0.read32(NVME_CC)).toBe(0);
    expect(bar0.read32(NVME_VS)).toBe(0x00010400);
  });
});

describe('e1000e', () => {
  const nic = testDevice('e1000e');
  const IOADDR = 0x00;
  const IODATA = 0x04;
  const RDBAL = 0x2800; // receive descriptor base, low: a plain read/write register

  it('reaches a register through the I/O-port BAR with pread/pwrite, matching the memory BAR', () => {
    using dev = openDevice(nic.bdf);
    const io = dev.bar(2);
    expect(io.mappedAreas).toEqual([]); // I/O ports cannot be mmapped
    expect(io.size).toBe(32);
    const mem = dev.bar(0);
    io.write32(IOADDR, RDBAL);
    expect(io.read32(IOADDR)).toBe(RDBAL);
    io.write32(IODATA, 0x12345670);
    expect(mem.read32(RDBAL)).toBe(0x12345670);
    mem.write32(RDBAL, 0x0badcaf0);
    io.write32(IOADDR, RDBAL);
    expect(io.read32(IODATA)).toBe(0x0badcaf0);
  });
});

describe('config space of e1000e', () => {
  it('decodes the BARs as the kernel sees them, and walks both capability lists', () => {
    const nic = testDevice('e1000e');
    using dev = openDevice(nic.bdf);
    const decoded = dev.config
      .bars()
      .filter((b) => b.address !== 0n)
      .map((b) => ({ index: b.index, start: b.address, io: b.io }));
    expect(decoded).toEqual(sysfsBars(nic.bdf));
    expect(decoded.find((b) => b.index === 2)?.io).toBe(true);
    expect(dev.config.capabilities()).toEqual(sysfsCapabilities(nic.bdf));
    // PCIe: AER (1) and the device serial number (3) in extended config space.
    expect(dev.config.extendedCapabilities().map((c) => c.id)).toEqual([1, 3]);
    expect(dev.config.extendedCapabilities()[0].offset).toBe(0x100);
  });
});

describe('bulk copies', () => {
  it('copies bytes in and out of the e1000e multicast table, mapped and through pread/pwrite', () => {
    using dev = openDevice(testDevice('e1000e').bdf);
    const MTA = 0x5200; // 128 read/write dwords
    const mem = dev.bar(0);
    const data = new Uint8Array(512).map((_, i) => (i * 7 + 3) & 0xff);
    mem.writeBytes(MTA, data);
    expect(mem.readBytes(MTA, 512)).toEqual(data);
    expect(mem.read32(MTA + 4)).toBe((data[4] | (data[5] << 8) | (data[6] << 16) | (data[7] << 24)) >>> 0);
  });

  it('copies through pread/pwrite when the region is not mapped', () => {
    using dev = openDevice(testDevice('e1000e').bdf);
    const MTA = 0x5200;
    const viaKernel = dev.region(0, { mmap: false });
    expect(viaKernel.mappedAreas).toEqual([]);
    const data = new Uint8Array(512).map((_, i) => (i * 13 + 1) & 0xff);
    viaKernel.writeBytes(MTA, data);
    expect(viaKernel.readBytes(MTA, 512)).toEqual(data);
    expect(viaKernel.read32(MTA)).toBe((data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) >>> 0);
  });
});

describe(`IOMMU contexts and groups (${backend})`, () => {
  it('opens devices through the backend under test, and the summary and dev.iommu.kind say which', () => {
    using dev = openDevice(testDevice('edu').bdf);
    expect(dev.iommu.kind).toBe(backend);
    expect(dev.iommu).toBeInstanceOf(backend === 'iommufd' ? IommufdContext : Container);
    expect(inspect(dev)).toContain(`{ iommu: ${backend}; regions:`);
    expect(dev.group === undefined).toBe(backend === 'iommufd');
    expect(dev.iommuGroup).toBe(testDevice('edu').group);
  });

  if (!manifest().backends.includes('iommufd')) {
    it('asking for iommufd on a kernel without it names CONFIG_IOMMUFD, and opens nothing [kernels without iommufd]', () => {
      const before = openFdCount();
      expect(() => openDevice(testDevice('edu').bdf, { iommu: 'iommufd' })).toThrow(
        /iommufd is not available for .*: \/dev\/iommu does not exist; the kernel needs CONFIG_IOMMUFD=y/,
      );
      expect(openFdCount()).toBe(before);
    });
  }

  it(`asking for no-IOMMU mode for a device behind an IOMMU says it has one${on('type1', 'iommufd')}`, () => {
    const edu = testDevice('edu');
    const before = openFdCount();
    expect(() => openDevice(edu.bdf, { iommu: 'noiommu' })).toThrow(
      new RegExp(
        `^${edu.bdf} \\(IOMMU group ${edu.group}\\) has an IOMMU: no-IOMMU mode is only for devices without one`,
      ),
    );
    expect(() => openDevice(edu.bdf, { iommu: 'vfio' as never })).toThrow(
      /iommu must be one of auto, type1, iommufd, noiommu; got 'vfio'/,
    );
    expect(openFdCount()).toBe(before);
  });

  it('holds two devices from two groups in one IOMMU context', () => {
    const before = openFdCount();
    const edu = testDevice('edu');
    const nvme = testDevice('nvme');
    expect(edu.group).not.toBe(nvme.group);
    const context = backend === 'iommufd' ? new IommufdContext() : new Container();
    const a = openDevice(edu.bdf, { context });
    const b = openDevice(nvme.bdf, { context, dmaBits: 32 });
    if (context instanceof Container)
      expect(context.groups.map((g) => g.number).sort()).toEqual([edu.group, nvme.group].sort());
    else expect(context.devices.map((d) => d.address).sort()).toEqual([edu.bdf, nvme.bdf].sort());
    expect(a.bar(0).read32(0)).toBe(0x010000ed);
    expect(b.bar(0).read32(8)).toBe(0x00010400);
    const info = context.info();
    expect(info.minPageSize).toBe(4096); // a size: a number
    expect(info.pageSizes & 0x1000n).toBe(0x1000n); // the kernel's bitmap: a bigint
    expect(info.iovaRanges.length).toBeGreaterThan(0);
    if (context instanceof Container) expect(info.dmaAvail).toBeGreaterThan(0);
    // One IOVA space, each device below its own DMA limit.
    const wide = a.dma.alloc(4096);
    const narrow = b.dma.alloc(4096);
    expect(a.dma.allocator()).toBe(b.dma.allocator());
    expect(narrow.iova + 4096n).toBeLessThanOrEqual(1n << 32n);
    expect(wide.iova).not.toBe(narrow.iova);
    a.close();
    expect(b.bar(0).read32(8)).toBe(0x00010400); // the other device is untouched
    context.close();
    expect(b.closed).toBe(true);
    expect(narrow.closed && wide.closed).toBe(true);
    expect(openFdCount()).toBe(before);
  });

  it('asking a context again for an open device, region or interrupts gives the same object', () => {
    const before = openFdCount();
    const edu = testDevice('edu');
    const context = backend === 'iommufd' ? new IommufdContext() : new Container();
    try {
      const a = context.device(edu.bdf);
      expect(context.device(edu.bdf)).toBe(a);
      expect(context.device(edu.bdf, { dmaBits: 64 })).toBe(a);
      expect(() => context.device(edu.bdf, { dmaBits: 32 })).toThrow(
        new RegExp(`^${edu.bdf} is already open with dmaBits 64: close it first to open it with dmaBits 32$`),
      );
      expect(a.bar(0)).toBe(a.bar(0));
      // A property makes no system call: the interrupts' epolls open with their first use.
      const fds = openFdCount();
      expect(a.interrupts).toBe(a.interrupts);
      expect(openFdCount()).toBe(fds);
      if (context instanceof Container) expect(context.group(a.iommuGroup)).toBe(a.group);
      // Once closed, asking again opens a new one.
      const bar = a.bar(0);
      bar.close();
      expect(a.bar(0)).not.toBe(bar);
      a.close();
      const b = context.device(edu.bdf);
      expect(b).not.toBe(a);
      expect(b.bar(0).read32(0)).toBe(0x010000ed);
    } finally {
      context.close();
    }
    expect(() => context.device(edu.bdf)).toThrow(/closed/);
    expect(openFdCount()).toBe(before);
  });

  it('several IOMMU contexts in one process', () => {
    using a = openDevice(testDevice('edu').bdf);
    using b = openDevice(testDevice('nvme').bdf);
    expect(a.iommu).not.toBe(b.iommu);
    expect(a.bar(0).read32(0)).toBe(0x010000ed);
  });

  it('names every member of a group that is not viable, with its driver and the fix', () => {
    const before = openFdCount();
    const dev = testDevice('edu-nonviable');
    const other = testDevice('rng-host');
    expect(dev.group).toBe(other.group);
    let message = '';
    try {
      openDevice(dev.bdf);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(new RegExp(`IOMMU group ${dev.group} is not viable`));
    expect(message).toContain(`${dev.bdf}: vfio-pci`);
    expect(message).toContain(`${other.bdf}: virtio-pci`);
    expect(message).toContain(`echo vfio-pci > /sys/bus/pci/devices/${other.bdf}/driver_override`);
    expect(openFdCount()).toBe(before); // nothing left open
  });

  it('a device on its host driver: says so and how to bind it, and leaves nothing open', () => {
    const rng = testDevice('rng-host');
    const before = openFdCount();
    expect(() => openDevice(rng.bdf)).toThrow(
      new RegExp(
        `^${rng.bdf} is bound to virtio-pci, not vfio-pci: bind it first \\(as root\\) with: vfio bind ${rng.bdf}  \\(or: echo vfio-pci > /sys/bus/pci/devices/${rng.bdf}/driver_override`,
      ),
    );
    expect(openFdCount()).toBe(before);
  });

  it('opening a device a second time gives the already-open error', () => {
    const edu = testDevice('edu');
    using first = openDevice(edu.bdf);
    let err: SysError | undefined;
    try {
      openDevice(edu.bdf);
    } catch (e) {
      err = e as SysError;
    }
    expect(err).toBeInstanceOf(SysError);
    if (backend === 'iommufd') {
      // The cdev opens again; binding it a second time is what the kernel refuses.
      expect(err!.syscall).toBe('ioctl(VFIO_DEVICE_BIND_IOMMUFD)');
      expect(err!.code).toBe('ERR_VFIO_DEVICE_BUSY');
      expect(err!.message).toContain(
        `${edu.bdf} is already open (bound to an iommufd), held by this process (pid ${process.pid})`,
      );
    } else {
      expect(err!.code).toBe('ERR_VFIO_GROUP_BUSY');
      expect(err!.errnoName).toBe('EBUSY');
      expect(err!.message).toContain(
        `IOMMU group ${edu.group} is already open, held by this process (pid ${process.pid})`,
      );
    }
    expect(first.bar(0).read32(0)).toBe(0x010000ed);
  });

  it('rejects what is not a PCI address before touching any file', () => {
    const before = openFdCount();
    for (const bad of ['', '3', '00:03', '0000:00:20.0', '00:03.8', '../../etc/passwd', 'zz:00.0']) {
      expect(() => openDevice(bad)).toThrow(/is not a PCI address/);
    }
    expect(openFdCount()).toBe(before);
  });

  it('accepts the short form and normalises it', () => {
    const edu = testDevice('edu');
    using dev = openDevice(edu.bdf.slice(5).toUpperCase());
    expect(dev.address).toBe(edu.bdf);
  });

  it('closes cleanly: twice is harmless, use after close throws, fds are back', () => {
    const before = openFdCount();
    const dev = openDevice(testDevice('nvme').bdf);
    const bar0 = dev.bar(0);
    const cfg = dev.config;
    const container = dev.iommu;
    dev.close();
    dev.close();
    expect(() => bar0.read32(0)).toThrow(/BAR0 of .* is closed/);
    expect(() => cfg.read16(0)).toThrow(/closed/);
    expect(() => dev.bar(0)).toThrow(/device .* is closed/);
    expect(container.closed).toBe(true);
    expect(() => container.info()).toThrow(/closed/);
    expect(openFdCount()).toBe(before);
  });
});
