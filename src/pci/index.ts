/** The PCI layer: addresses, sysfs discovery and binding, IOMMU-group viability, config space. */
export { parsePciAddress, pciAddressOf, type PciAddress } from './address.js';
export { PciSysfs, bindCommand, DEFAULT_SYSFS, type PciDeviceInfo } from './sysfs.js';
export { ConfigSpace, type ConfigAccessor, type PciBar, type PciCapability } from './config-space.js';
export {
  NOIOMMU_PARAMETER,
  TURN_IOMMU_ON,
  VFIO_SAFE_DRIVERS,
  blocks as blocksViability,
  notViableMessage,
  viabilityBlockers,
} from './viability.js';
export { SRIOV_PARAMETER, TURN_SRIOV_ON, physfnOf, sriovState, writeNumVfs, type SriovState } from './sriov.js';
