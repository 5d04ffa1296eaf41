/**
 * Opening a device a vfio-user server serves: connect, talk versions, and make the same
 * `Device` a local one is, over a `VfioUserChannel`, with a `VfioUserContext` for its DMA.
 */
import { closeAll } from '../../sys/index.js';
import type { PciAddress } from '../../pci/index.js';
import { Device } from '../../vfio/index.js';
import { ClientConnection } from './connection.js';
import { VfioUserContext } from './context.js';
import { VfioUserChannel } from './user-channel.js';

/** The prefix of a vfio-user device's address: `vfio-user:/run/edu.sock`. */
export const VFIO_USER_PREFIX = 'vfio-user:';

/** Options of a vfio-user device. */
export interface UserDeviceOptions {
  /** The most milliseconds one command waits for the server (default 10 000). */
  timeoutMs?: number;
  /** The device's DMA address width in bits (default 64). */
  dmaBits?: number;
}

/** Opens the device served at the UNIX socket `path`; its `address` is `vfio-user:` + path. */
export function openUserDevice(path: string, options: UserDeviceOptions = {}): Device {
  const connection = ClientConnection.connect(path, { timeoutMs: options.timeoutMs });
  const channel = new VfioUserChannel(connection);
  let context: VfioUserContext | undefined;
  try {
    context = new VfioUserContext(connection);
    const dev = new Device({
      context,
      channel,
      iommuGroup: -1,
      address: `${VFIO_USER_PREFIX}${path}` as PciAddress,
      dmaBits: options.dmaBits,
      forget: () => {},
    });
    const opened = context;
    dev.onClose(() => opened.close());
    return dev;
  } catch (e) {
    closeAll([() => channel.close(), () => context?.close()]);
    throw e;
  }
}
