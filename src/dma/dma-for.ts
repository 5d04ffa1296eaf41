/** One DMA context per IOMMU context, so devices sharing a container share its IOVA space. */
import type { Iommu } from '../iommu/index.js';
import { Dma, type DmaOptions } from './dma.js';

const contexts = new WeakMap<Iommu, Dma>();

/**
 * The DMA context of `iommu` (a `Container` or an `IommufdContext`), created on first use;
 * with `addressBits`, a view of it that allocates below that width.
 */
export function dmaFor(iommu: Iommu, options: DmaOptions = {}): Dma {
  let dma = contexts.get(iommu);
  if (!dma || dma.closed) {
    dma = new Dma(iommu);
    contexts.set(iommu, dma);
  }
  return options.addressBits === undefined ? dma : dma.withAddressBits(options.addressBits);
}
