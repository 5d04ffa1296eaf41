/** The IOMMU layer: the `Iommu` interface, its three backends and the IOVA allocator. */
export {
  formatRanges,
  checkMapRequest,
  checkUnmap,
  type Iommu,
  type IommuInfo,
  type IommuKind,
  type DmaMapRequest,
} from './iommu.js';
export { IovaAllocator, type IovaAllocatorOptions, type Span } from './iova-allocator.js';
export { Type1Iommu, CONTAINER_PATH, type Type1Options } from './type1.js';
export { IommufdIoas, IOMMUFD_PATH, type IommufdOptions } from './iommufd.js';
export { physicalAddressOf } from './pagemap.js';
