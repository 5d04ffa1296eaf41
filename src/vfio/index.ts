/** The VFIO layer: containers and iommufd contexts, groups, devices, regions, interrupts. */
export type { BackedContext, ContextBackend } from './context/backed.js';
export { Container, type ContainerOptions } from './context/container.js';
export { IommufdContext, type IommufdContextOptions } from './context/iommufd-context.js';
export { chooseIommu, IOMMU_CHOICES, type IommuContext, type IommuChoice } from './context/choose.js';
export { locateDevice, isVfioDriver, type DeviceLocation } from './context/locate.js';
export { locateMdev, locateVfioDevice, parseVfioAddress } from './context/locate-mdev.js';
export { MDEV_PREFIX, isMdevAddress, parseMdevAddress, type MdevUuid } from './mdev/address.js';
export { MdevSysfs, MDEV_KERNEL_NEEDS, type MdevInfo, type MdevParent, type MdevType } from './mdev/sysfs.js';
export { createMdev, removeMdev, type CreateMdevOptions, type RemoveMdevOptions } from './mdev/lifecycle.js';
export { Group, type GroupContainer } from './context/group.js';
export { regionName, regionIndex, irqIndexName } from './names.js';
export { deviceInfoOf, irqInfoOf, type DeviceInfo, type IrqInfo } from './device/info.js';
export { Device, watchDeviceOpens } from './device/device.js';
export type { DeviceContext, DeviceGroup, DeviceOptions } from './device/opening.js';
export type { DeviceChannel } from './device/channel.js';
export { KernelChannel } from './device/kernel-channel.js';
export type { RegionChannel, MmapSource } from './region/channel.js';
export type { IrqChannel } from './irq/set.js';
export { Region, type RegionOptions } from './region/region.js';
export { Interrupts, type EnableIrqOptions } from './irq/interrupts.js';
export type { IrqFired } from './irq/wait-queue.js';
export type { IrqRequest } from './irq/request.js';
export type { IrqDevice } from './irq/set.js';
export { chooseIrqType, checkVectorRange, IRQ_INDEX, type IrqType } from './irq/vectors.js';
export type { HotResetPeer } from './device/hot-reset.js';
export { DeviceFeatures, type FeatureSupport } from './device/features.js';
export {
  DeviceMigration,
  MIGRATION_STATES,
  type MigrationCaps,
  type MigrationState,
} from './device/migration.js';
export { MigrationStream, type PrecopyInfo } from './device/migration-stream.js';
