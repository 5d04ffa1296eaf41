/** The DMA layer: IOVA allocation, DMA buffers and pools, hugepages. */
export { Dma, type DmaAllocOptions, type DmaOptions } from './dma.js';
export { DmaBuffer } from './dma-buffer.js';
export { DmaPool, DmaPoolEntry } from './dma-pool.js';

export type { HugePageSize } from './memory.js';
