/** Config space reached through the VFIO config region. */
import type { ConfigAccessor } from '../../pci/index.js';
import type { Region } from '../region/region.js';

export function regionConfigAccessor(region: Region): ConfigAccessor {
  return {
    size: region.size,
    name: region.name,
    read: (offset, width) =>
      width === 1 ? region.read8(offset) : width === 2 ? region.read16(offset) : region.read32(offset),
    write: (offset, width, value) =>
      width === 1
        ? region.write8(offset, value)
        : width === 2
          ? region.write16(offset, value)
          : region.write32(offset, value),
  };
}
