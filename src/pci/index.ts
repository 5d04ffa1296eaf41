/** The PCI layer: addresses, sysfs discovery and binding, config space. */
export { parsePciAddress, pciAddressOf, type PciAddress } from './address.js';
export { PciSysfs, bindCommand, DEFAULT_SYSFS, type PciDeviceInfo } from './sysfs.js';
export { ConfigSpace, type ConfigAccessor, type PciBar, type PciCapability } from './config-space.js';
