// A Device over a channel that is not the kernel's: a stand-in for a device served by another
// process, its regions in buffers and BAR0 mapped from a file of its own. Everything the
// device, its regions and its interrupts ask goes through the channel, and hot reset, which
// only the kernel can do, is refused.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_PCI_NUM_IRQS,
  VFIO_PCI_NUM_REGIONS,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  VfioErrorCode,
  type IrqSetRequest,
  type RegionInfo,
} from '../../../../structs/index.js';
import { parsePciAddress } from '../../../../src/pci/index.js';
import { Device } from '../../../../src/vfio/device/device.js';
import type { DeviceChannel } from '../../../../src/vfio/device/channel.js';
import type { DeviceContext } from '../../../../src/vfio/device/opening.js';
import type { DeviceInfo, IrqInfo } from '../../../../src/vfio/device/info.js';
import type { MmapSource } from '../../../../src/vfio/region/channel.js';

const RW = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
/** Far past any file: a region used at the kernel's offset instead of the channel's answer would fail. */
const FAR = 0x100_0000_0000n;

/** What the stand-in was asked, in order. */
type Call =
  | { op: 'read' | 'write'; index: number; offset: number; length: number }
  | { op: 'setIrqs'; req: IrqSetRequest; target: string }
  | { op: 'reset' | 'close' };

/** BAR0: 4 KiB mapped from `mapFd`; BAR1: 256 bytes read and written by message; config space. */
class StandInChannel implements DeviceChannel {
  readonly fd = -1;
  readonly kernel = false;
  readonly calls: Call[] = [];
  readonly #mapFd: number;
  readonly #bytes = new Map<number, Buffer>([
    [1, Buffer.alloc(0x100)],
    [VFIO_PCI_CONFIG_REGION_INDEX, Buffer.alloc(0x100)],
  ]);

  constructor(mapFd: number) {
    this.#mapFd = mapFd;
    this.#bytes.get(VFIO_PCI_CONFIG_REGION_INDEX)!.writeUInt32LE(0x11e8_1234, 0); // vendor, device
  }

  readDeviceInfo(): DeviceInfo {
    const numRegions = VFIO_PCI_NUM_REGIONS;
    return { flags: 0, numRegions, numIrqs: VFIO_PCI_NUM_IRQS, canReset: true, isPci: true };
  }

  readRegionInfo(index: number): RegionInfo {
    const region = (flags: number, size: bigint): RegionInfo => ({
      index,
      flags,
      size,
      offset: FAR * BigInt(index + 1),
      msixMappable: false,
      caps: [],
    });
    if (index === 0) return region(RW | VFIO_REGION_INFO_FLAG_MMAP, 0x1000n);
    const bytes = this.#bytes.get(index);
    return bytes ? region(RW, BigInt(bytes.length)) : region(0, 0n);
  }

  readIrqInfo(index: number): IrqInfo {
    const count = index === VFIO_PCI_MSI_IRQ_INDEX ? 4 : 0;
    return { index, count, flags: 0, eventfd: count > 0, maskable: false, automasked: false, noresize: false };
  }

  readRegion(info: RegionInfo, offset: number, into: Uint8Array, length: number): number {
    this.calls.push({ op: 'read', index: info.index, offset, length });
    return this.#bytes.get(info.index)!.copy(into, 0, offset, offset + length);
  }

  writeRegion(info: RegionInfo, offset: number, from: Uint8Array, length: number): number {
    this.calls.push({ op: 'write', index: info.index, offset, length });
    return Buffer.from(from.buffer, from.byteOffset, length).copy(this.#bytes.get(info.index)!, offset);
  }

  mmapSource(_info: RegionInfo, areaOffset: number): MmapSource {
    return { fd: this.#mapFd, offset: BigInt(areaOffset) };
  }

  setIrqs(req: IrqSetRequest, target: string): void {
    this.calls.push({ op: 'setIrqs', req, target });
  }

  reset(): void {
    this.calls.push({ op: 'reset' });
  }

  close(): void {
    this.calls.push({ op: 'close' });
  }
}

let dir: string;
let mapFd: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfio-ts-channel-'));
  const file = join(dir, 'bar0');
  writeFileSync(file, Buffer.alloc(0x1000));
  mapFd = openSync(file, 'r+');
});
afterAll(() => {
  closeSync(mapFd);
  rmSync(dir, { recursive: true });
});

function open(channel: DeviceChannel): Device {
  const context = { kind: 'type1', dma: { withAddressBits: () => ({}) } } as unknown as DeviceContext;
  const address = parsePciAddress('0000:00:03.0');
  return new Device({ context, iommuGroup: 3, address, channel, forget: () => {} });
}

describe('a device whose channel is not the kernel', () => {
  it('reads its info, regions, config space, interrupts and reset through the channel', () => {
    const channel = new StandInChannel(mapFd);
    const dev = open(channel);
    expect(dev.fd).toBe(-1);
    expect(dev.regions.map((r) => r.size)).toEqual([0x1000n, 0x100n, 0n, 0n, 0n, 0n, 0n, 0x100n, 0n]);
    expect(dev.interrupts.supported).toEqual({ intx: 0, msi: 4, msix: 0 });

    const bar0 = dev.bar(0); // mapped where the channel says, not at the region's offset
    expect(bar0.isMapped(0, 0x1000)).toBe(true);
    bar0.write32(0x10, 0xdead_beef);
    const seen = Buffer.alloc(4);
    readSync(mapFd, seen, 0, 4, 0x10);
    expect(seen.readUInt32LE(0)).toBe(0xdead_beef);

    const bar1 = dev.bar(1);
    expect(bar1.isMapped(0)).toBe(false);
    channel.calls.length = 0;
    bar1.write32(4, 0x1234_5678);
    expect(bar1.read32(4)).toBe(0x1234_5678);
    expect(channel.calls).toEqual([
      { op: 'write', index: 1, offset: 4, length: 4 },
      { op: 'read', index: 1, offset: 4, length: 4 },
    ]);
    expect(dev.config.read16(0)).toBe(0x1234);

    channel.calls.length = 0;
    dev.interrupts.enable('msi', { count: 2 });
    const [armed] = channel.calls as Array<Extract<Call, { op: 'setIrqs' }>>;
    expect(armed.target).toBe('0000:00:03.0 irq index 1 (MSI vectors 0..1)');
    expect(armed.req).toMatchObject({ index: VFIO_PCI_MSI_IRQ_INDEX, start: 0, count: 2 });
    expect(armed.req.action).toBe(VFIO_IRQ_SET_ACTION_TRIGGER);
    expect(armed.req.eventfds).toHaveLength(2); // the eventfds themselves, for the channel to pass on

    channel.calls.length = 0;
    dev.reset();
    dev.close();
    expect(channel.calls.map((c) => c.op)).toEqual(['reset', 'setIrqs', 'close']); // MSI disabled, then closed
  });

  it('refuses a hot reset, which only the kernel can do', () => {
    using dev = open(new StandInChannel(mapFd));
    const message =
      "hot reset of 0000:00:03.0: the device is served by another process, not by the kernel's VFIO, and only the kernel can reset a PCI bus or slot; use device.reset() instead";
    expect(() => dev.hotReset()).toThrow(message);
    expect(() => dev.hotResetPeers()).toThrow(expect.objectContaining({ code: VfioErrorCode.UNSUPPORTED, message }));
  });
});
