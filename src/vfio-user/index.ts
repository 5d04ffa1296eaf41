/**
 * vfio-user: a PCI device modelled in TypeScript and served on a UNIX socket (`serveDevice`),
 * and the client end that drives such a device.
 */
export { serveDevice, DeviceServer, type ServeOptions } from './server/server.js';
export type {
  AccessWidth,
  BarModel,
  BarRegisters,
  DeviceModel,
  InterruptModel,
  ModelContext,
  ModelDma,
} from './server/model.js';
export type { BarShape, PciIdentity } from './model/config-shape.js';
export { ClientConnection, type ConnectOptions, type Reply } from './client/connection.js';
export { openUserDevice, VFIO_USER_PREFIX, type UserDeviceOptions } from './client/open.js';
export { RegisterFile, type RegisterEvent, type RegisterHandlers } from './server/register-file.js';
