/** The VFIO layer: containers, groups, devices, regions. */
export { Container, CONTAINER_PATH, type ContainerOptions } from './container.js';
export { Group } from './group.js';
export { Device, regionName, irqIndexName, type DeviceInfo, type IrqInfo } from './device.js';
export { Region, type RegionOptions } from './region.js';
export type { Iommu, IommuInfo, DmaMapRequest } from './iommu.js';
export { Interrupts, IrqWaitAbortedError, type EnableIrqOptions, type IrqFired, type IrqRequest, type IrqAbortReason } from './interrupts.js';
export { chooseIrqType, checkVectorRange, IRQ_INDEX, type IrqType } from './irq-vectors.js';
export type { HotResetPeer } from './hot-reset.js';
