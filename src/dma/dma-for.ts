/** One DMA context per IOMMU context, so devices sharing a container share its IOVA space. */
import type { Iommu } from '../vfio/index.js';
import { Dma, type DmaOptions } from './dma.js';

const contexts = new WeakMap<Iommu, Dma>();

/** The DMA context of `iommu` (a `Container`), created on first use. */
export function dmaFor(iommu: Iommu, options?: DmaOptions): Dma {
  let dma = contexts.get(iommu);
  if (!dma || dma.closed) {
    dma = new Dma(iommu, options);
    contexts.set(iommu, dma);
  }
  return dma;
}
