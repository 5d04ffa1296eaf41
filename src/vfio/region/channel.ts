/**
 * What a region needs of whatever serves its device: bytes read and written at a region
 * offset, and where its mappable areas are mmapped from. The kernel serves them from the
 * device fd; a device served by another process (vfio-user) answers them over its socket and
 * hands over one fd per region to map.
 */
import type { RegionInfo } from '../../../structs/index.js';

/** The file a region's area is mmapped from, and where the area starts in it. */
export interface MmapSource {
  /** The fd to mmap (the kernel's: the device fd). */
  fd: number;
  /** The area's offset in that file (the kernel's: the region's offset plus the area's). */
  offset: bigint;
}

/** How a region reaches its device: the slow path's bytes and the mapped areas' source. */
export interface RegionChannel {
  /**
   * Reads `length` bytes at `offset` of region `info` into `into`; returns how many were read.
   * `target` names the region in errors (`BAR0 of 0000:00:03.0`).
   */
  readRegion(info: RegionInfo, offset: number, into: Uint8Array, length: number, target: string): number;
  /** Writes `length` bytes of `from` at `offset` of region `info`; returns how many were written. */
  writeRegion(info: RegionInfo, offset: number, from: Uint8Array, length: number, target: string): number;
  /** Where to mmap the area that starts `areaOffset` bytes into region `info`. */
  mmapSource(info: RegionInfo, areaOffset: number): MmapSource;
}
