// Where the MSI-X table and PBA sit in a BAR (msixRanges), and what is left to mmap once those
// ranges are rounded out to pages (subtractRanges, src/vfio/region/areas.ts), over a config
// space in a buffer.
import { describe, expect, it } from 'vitest';
import { ConfigSpace, type ConfigAccessor } from '../../../../src/pci/index.js';
import { msixRanges } from '../../../../src/vfio/device/msix-ranges.js';
import { subtractRanges } from '../../../../src/vfio/region/areas.js';

/**
 * A type 0 config space whose only capability is MSI-X at 0x40, with `vectors` vectors, the
 * table at `table.offset` of BAR `table.bar` and the PBA at `pba.offset` of BAR `pba.bar`.
 * Offsets and bits are the PCI spec's, written out here rather than taken from structs/.
 */
function msixConfig(
  vectors: number,
  table: { bar: number; offset: number },
  pba: { bar: number; offset: number },
): ConfigSpace {
  const buf = Buffer.alloc(256);
  buf.writeUInt16LE(0x0010, 0x06); // status: capability list
  buf[0x34] = 0x40; // first capability
  buf[0x40] = 0x11; // MSI-X
  buf[0x41] = 0x00; // last in the list
  buf.writeUInt16LE(vectors - 1, 0x42); // message control: table size - 1
  buf.writeUInt32LE((table.offset | table.bar) >>> 0, 0x44);
  buf.writeUInt32LE((pba.offset | pba.bar) >>> 0, 0x48);
  const access: ConfigAccessor = {
    size: buf.length,
    read: (o, w) => (w === 1 ? buf.readUInt8(o) : w === 2 ? buf.readUInt16LE(o) : buf.readUInt32LE(o)),
    write: () => {
      throw new Error('msixRanges must not write config space');
    },
  };
  return new ConfigSpace(access);
}

const PAGE = 4096;

describe('msixRanges', () => {
  it('a table and PBA in one BAR: 16 bytes per vector, 8 bytes of PBA per 64 vectors', () => {
    const cfg = msixConfig(8, { bar: 0, offset: 0x2000 }, { bar: 0, offset: 0x3000 });
    expect(msixRanges(cfg, 0)).toEqual([
      { start: 0x2000, end: 0x2080 },
      { start: 0x3000, end: 0x3008 },
    ]);
    expect(msixRanges(cfg, 1)).toEqual([]);
  });

  it('a table and PBA in different BARs: each BAR gets only its own range', () => {
    const cfg = msixConfig(65, { bar: 4, offset: 0 }, { bar: 2, offset: 0x800 });
    expect(msixRanges(cfg, 4)).toEqual([{ start: 0, end: 65 * 16 }]);
    expect(msixRanges(cfg, 2)).toEqual([{ start: 0x800, end: 0x810 }]); // 65 vectors: two PBA qwords
    expect(msixRanges(cfg, 0)).toEqual([]);
  });

  it('the largest table (2048 vectors) and an offset with bit 31 set stay positive', () => {
    const cfg = msixConfig(2048, { bar: 3, offset: 0x8000_0000 }, { bar: 3, offset: 0x8001_0000 });
    expect(msixRanges(cfg, 3)).toEqual([
      { start: 0x8000_0000, end: 0x8000_0000 + 2048 * 16 },
      { start: 0x8001_0000, end: 0x8001_0000 + 256 },
    ]);
  });

  it('a device without MSI-X has nothing to leave unmapped', () => {
    const buf = Buffer.alloc(256);
    const cfg = new ConfigSpace({ size: 256, read: (o) => buf[o], write: () => {} });
    expect(msixRanges(cfg, 0)).toEqual([]);
  });
});

describe('the BAR areas mapped around the MSI-X ranges', () => {
  const bar = (size: number) => [{ start: 0, end: size }];
  const mapped = (cfg: ConfigSpace, size: number, page = PAGE) => subtractRanges(bar(size), msixRanges(cfg, 0), page);
  /** Areas written as [start, end] pairs. */
  const areas = (...pairs: Array<[number, number]>) => pairs.map(([start, end]) => ({ start, end }));

  it('leaves out the whole pages holding the table and the PBA, maps the rest', () => {
    const cfg = msixConfig(8, { bar: 0, offset: 0x2000 }, { bar: 0, offset: 0x3000 });
    expect(mapped(cfg, 0x4000)).toEqual(areas([0, 0x2000]));
    expect(mapped(cfg, 0x8000)).toEqual(areas([0, 0x2000], [0x4000, 0x8000]));
  });

  it('a table and PBA sharing a page, or overlapping, leave out each page once', () => {
    const sharing = msixConfig(4, { bar: 0, offset: 0x1000 }, { bar: 0, offset: 0x1800 });
    expect(mapped(sharing, 0x4000)).toEqual(areas([0, 0x1000], [0x2000, 0x4000]));
    // A PBA inside the table (no valid device does this) is left out with it, not twice.
    const overlapping = msixConfig(256, { bar: 0, offset: 0x1000 }, { bar: 0, offset: 0x1f00 });
    expect(msixRanges(overlapping, 0)).toEqual(areas([0x1000, 0x2000], [0x1f00, 0x1f20]));
    expect(mapped(overlapping, 0x4000)).toEqual(areas([0, 0x1000], [0x2000, 0x4000]));
  });

  it('a table at the very end of the BAR leaves nothing after it', () => {
    const cfg = msixConfig(16, { bar: 0, offset: 0x3f00 }, { bar: 1, offset: 0 });
    expect(msixRanges(cfg, 0)).toEqual(areas([0x3f00, 0x4000]));
    expect(mapped(cfg, 0x4000)).toEqual(areas([0, 0x3000]));
  });

  it('rounds out to pages: a table across a page boundary takes both pages; 64 KiB pages take more', () => {
    const cfg = msixConfig(2, { bar: 0, offset: 0x1ff0 }, { bar: 1, offset: 0 });
    expect(msixRanges(cfg, 0)).toEqual(areas([0x1ff0, 0x2010]));
    expect(mapped(cfg, 0x4000)).toEqual(areas([0, 0x1000], [0x3000, 0x4000]));
    expect(mapped(cfg, 0x20000, 0x10000)).toEqual(areas([0x10000, 0x20000]));
  });
});
