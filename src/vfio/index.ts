/** The VFIO layer: containers and iommufd contexts, groups, devices, regions, interrupts. */
export type { BackedContext, ContextBackend } from './context/backed.js';
export { Container, type ContainerOptions } from './context/container.js';
export { IommufdContext, type IommufdContextOptions } from './context/iommufd-context.js';
export { chooseIommu, IOMMU_CHOICES, type IommuContext, type IommuChoice } from './context/choose.js';
export { locateDevice, isVfioDriver, type DeviceLocation } from './context/locate.js';
export { Group, type GroupContainer } from './context/group.js';
export { regionName, regionIndex, irqIndexName } from './names.js';
export { type DeviceInfo, type IrqInfo } from './device/info.js';
export { Device, watchDeviceOpens } from './device/device.js';
export type { DeviceContext, DeviceGroup, DeviceOptions } from './device/opening.js';
export { Region, type RegionOptions } from './region/region.js';
export { Interrupts, type EnableIrqOptions } from './irq/interrupts.js';
export type { IrqFired } from './irq/wait-queue.js';
export type { IrqRequest } from './irq/request.js';
export type { IrqDevice } from './irq/set.js';
export { chooseIrqType, checkVectorRange, IRQ_INDEX, type IrqType } from './irq/vectors.js';
export type { HotResetPeer } from './device/hot-reset.js';
