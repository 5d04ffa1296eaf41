/**
 * The mmapped parts of a region: which byte ranges are mapped (what the kernel offers for mmap,
 * less the ranges asked to stay unmapped, such as the MSI-X table), mapping and unmapping them,
 * and finding the one an access falls in. Whatever is not mapped is reached through
 * pread/pwrite (region-slow-path.ts).
 */
import {
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  type RegionInfo,
} from '../../../structs/index.js';
import { closeAll, Mapping, MmioWindow, pageSize } from '../../sys/index.js';
import { hex } from '../../sys/index.js';
import type { RegionChannel } from './channel.js';

/** One mmapped part of a region: the byte range `[start, end)` of the region. */
export interface MappedArea {
  start: number;
  end: number;
  mapping: Mapping;
  window: MmioWindow;
}

/** `areas` minus the page-rounded `exclude` ranges. */
export function subtractRanges(
  areas: Array<{ start: number; end: number }>,
  exclude: Array<{ start: number; end: number }>,
  page: number,
): Array<{ start: number; end: number }> {
  let out = areas.filter((a) => a.end > a.start);
  for (const x of exclude) {
    const xs = Math.floor(x.start / page) * page;
    const xe = Math.ceil(x.end / page) * page;
    out = out.flatMap((a) => {
      if (xe <= a.start || xs >= a.end) return [a];
      const parts = [];
      if (a.start < xs) parts.push({ start: a.start, end: xs });
      if (xe < a.end) parts.push({ start: xe, end: a.end });
      return parts;
    });
  }
  return out;
}

/**
 * Maps the parts of the region `info` that its device offers (its sparse areas, else all of
 * it) less `exclude`, from where `channel` says, with the region's read and write permissions;
 * `name` names the region in errors. When one mapping fails, those made before it are unmapped.
 */
export function mapAreas(
  channel: RegionChannel,
  info: RegionInfo,
  name: string,
  exclude: Array<{ start: number; end: number }>,
): MappedArea[] {
  const prot =
    (info.flags & VFIO_REGION_INFO_FLAG_READ ? PROT_READ : 0) |
    (info.flags & VFIO_REGION_INFO_FLAG_WRITE ? PROT_WRITE : 0);
  const page = pageSize();
  const offered = (info.sparseMmap ?? [{ offset: 0n, size: info.size }]).map((a) => ({
    start: Number(a.offset),
    end: Number(a.offset + a.size),
  }));
  const areas: MappedArea[] = [];
  try {
    for (const { start, end } of subtractRanges(offered, exclude, page)) {
      if (start % page !== 0) continue; // the kernel only offers page-aligned areas; skip anything else
      const { fd, offset } = channel.mmapSource(info, start);
      const mapping = new Mapping({
        length: end - start,
        prot,
        flags: MAP_SHARED,
        fd,
        offset,
        target: `${name} [${hex(start)}, ${hex(end)})`,
      });
      areas.push({ start, end, mapping, window: new MmioWindow(mapping.buffer) });
    }
  } catch (e) {
    unmapAreas(areas);
    throw e;
  }
  return areas;
}

/** The window of the one area that covers all of `[0, size)`, if the areas are that one. */
export function wholeWindow(areas: readonly MappedArea[], size: number): MmioWindow | undefined {
  return areas.length === 1 && areas[0].start === 0 && areas[0].end >= size ? areas[0].window : undefined;
}

/** The area holding all of `[offset, offset + length)`, or undefined. */
export function areaFor(areas: readonly MappedArea[], offset: number, length: number): MappedArea | undefined {
  for (const a of areas) if (offset >= a.start && offset + length <= a.end) return a;
  return undefined;
}

/** Unmaps every area (each is tried; the first error is rethrown), then empties `areas`. */
export function unmapAreas(areas: MappedArea[]): void {
  closeAll(areas.map((a) => () => a.mapping.close()));
  areas.length = 0;
}
