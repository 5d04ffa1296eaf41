/**
 * Opening a device another process handed over (`sendDevice`): one message of a UNIX socket,
 * checked field by field and descriptor by descriptor, becomes the same `Device` `openDevice`
 * gives, in the sender's IOMMU context. Whatever is refused leaves no descriptor open.
 */
import {
  decodeHandoff,
  handoff_header,
  HANDOFF_MAX_SIZE,
  VfioError,
  VfioErrorCode,
  type HandoffMessage,
} from '../../../structs/index.js';
import { parsePciAddress, PciSysfs, type PciAddress } from '../../pci/index.js';
import {
  checkInteger,
  closeAll,
  sysClose,
  sysWaitReadable,
  UnixListener,
  UnixSocket,
  type UnixListenOptions,
} from '../../sys/index.js';
import { CONTAINER_PATH, IOMMUFD_PATH } from '../../iommu/index.js';
import { Container } from '../context/container.js';
import { IommufdContext } from '../context/iommufd-context.js';
import { cdevNode, locateDevice } from '../context/locate.js';
import type { Device } from '../device/device.js';
import type { DeviceOptions } from '../device/opening.js';
import { checkDeviceFd, checkDeviceIds, checkNode } from './descriptors.js';

/** Options of `receiveDevice`. */
export interface ReceiveDeviceOptions extends DeviceOptions, Pick<UnixListenOptions, 'mode'> {
  /** The most milliseconds to wait for the sender (to connect, given a path, and to send); default 10 000. */
  timeoutMs?: number;
  /** Set the bus-master bit, as `openDevice` does (default true). */
  busMaster?: boolean;
  /** Root of sysfs, where the device is looked up (default `/sys`). */
  sysfsRoot?: string;
}

/** Descriptors most a message may bring before the socket layer refuses it outright. */
const MAX_FDS = 16;

/** The message's bytes and descriptors, read from a stream socket; a short or cut message is refused. */
function readMessage(socket: UnixSocket, timeoutMs: number): { bytes: Uint8Array; fds: number[] } {
  const from = socket.name;
  let head: { data: Uint8Array; fds: number[] };
  try {
    head = socket.receiveExactly(handoff_header.size, { maxFds: MAX_FDS, timeoutMs });
  } catch (e) {
    if (!(e instanceof VfioError && e.code === VfioErrorCode.CLOSED)) throw e;
    throw new VfioError(VfioErrorCode.HANDOFF, `device handoff from ${from}: ${e.message}`, { cause: e });
  }
  const size = new DataView(head.data.buffer, head.data.byteOffset).getUint32(8, true);
  if (size <= handoff_header.size || size > HANDOFF_MAX_SIZE) return { bytes: head.data, fds: head.fds };
  try {
    const rest = socket.receiveExactly(size - handoff_header.size, { timeoutMs });
    const bytes = new Uint8Array(size);
    bytes.set(head.data);
    bytes.set(rest.data, handoff_header.size);
    return { bytes, fds: head.fds };
  } catch (e) {
    closeAll(head.fds.map((fd) => () => sysClose(fd)));
    throw new VfioError(VfioErrorCode.HANDOFF, `device handoff from ${from}: ${(e as Error).message}`, { cause: e });
  }
}

/** One connection from `listener`, within `timeoutMs`. */
function acceptOne(listener: UnixListener, timeoutMs: number): UnixSocket {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = Math.max(0, Math.ceil(deadline - performance.now()));
    sysWaitReadable(listener.fd, left, listener.name, `no sender connected within ${timeoutMs} ms`);
    const socket = listener.accept();
    if (socket) return socket;
  }
}

/**
 * The `Device` of a checked message. `fds` are owned here until each is given to what closes it;
 * on any failure every one not yet given is closed.
 */
function adopt(m: HandoffMessage, fds: number[], from: string, options: ReceiveDeviceOptions): Device {
  const pending = new Set(fds);
  const give = (fd: number): number => (pending.delete(fd), fd);
  let context: Container | IommufdContext | undefined;
  try {
    let address: PciAddress;
    try {
      address = parsePciAddress(m.address);
    } catch (e) {
      throw new VfioError(VfioErrorCode.HANDOFF, `device handoff from ${from}: ${(e as Error).message}`, { cause: e });
    }
    const sysfs = new PciSysfs(options.sysfsRoot);
    const loc = locateDevice(sysfs, address);
    if (loc.group !== m.iommuGroup || loc.noIommu !== (m.backend === 'noiommu'))
      throw new VfioError(
        VfioErrorCode.HANDOFF,
        `device handoff from ${from}: ${address} is in ${loc.noIommu ? 'no-IOMMU ' : ''}group ${loc.group} here, and the message says ${m.backend} group ${m.iommuGroup}`,
      );
    const deviceOptions = { dmaBits: options.dmaBits ?? m.dmaBits };
    let dev: Device;
    if (m.backend === 'iommufd') {
      const cdev = cdevNode(loc) ?? undefined;
      checkNode('iommufd', fds[0], IOMMUFD_PATH, from);
      checkDeviceFd(fds[1], address, sysfs, cdev ?? `a cdev of ${address}`, from);
      const ctx = new IommufdContext({ sysfsRoot: options.sysfsRoot }, { fd: give(fds[0]), ioasId: m.iommuId });
      context = ctx;
      dev = ctx.adoptDevice(give(fds[1]), address, loc.group, deviceOptions);
    } else {
      const noIommu = m.backend === 'noiommu';
      checkNode('container', fds[0], CONTAINER_PATH, from);
      checkNode('group', fds[1], `/dev/vfio/${noIommu ? 'noiommu-' : ''}${loc.group}`, from);
      checkDeviceFd(fds[2], address, sysfs, undefined, from);
      const c = new Container({ noIommu, sysfsRoot: options.sysfsRoot }, { fd: give(fds[0]), iommuType: m.iommuId });
      context = c;
      dev = c.adoptGroup(loc.group, give(fds[1])).adoptDevice(give(fds[2]), address, deviceOptions);
    }
    const opened = context;
    dev.onClose(() => opened.close());
    checkDeviceIds(dev.config, address, sysfs, from);
    if (m.spans.length > 0) {
      const allocator = dev.dma.allocator();
      for (const s of m.spans) allocator.reserve(s.iova, Number(s.size));
    }
    if (options.busMaster !== false) dev.setBusMaster(true);
    return dev;
  } catch (e) {
    closeAll([...[...pending].map((fd) => () => sysClose(fd)), () => context?.close()]);
    throw e;
  }
}

/**
 * Opens a device another process sent with `sendDevice`: the same `Device` `openDevice` gives
 * (regions, DMA, interrupts), in the sender's IOMMU context, as this process's user. DMA memory
 * is this process's and counts against its own locked-memory limit; interrupts get eventfds of
 * its own. `from` is a connected `UnixSocket`, a `UnixListener` (one connection is accepted),
 * or a path to listen at for one sender (the socket file, mode 0600 unless `mode` says, is
 * removed once the message is in). Every field and descriptor is checked against sysfs and the
 * device nodes; a message that is not right throws `ERR_VFIO_HANDOFF` with every descriptor
 * that came closed. Closing the device closes this process's descriptors; the sender's, if it
 * still holds them, stay valid.
 */
export function receiveDevice(from: string | UnixSocket | UnixListener, options: ReceiveDeviceOptions = {}): Device {
  const timeoutMs = checkInteger('timeoutMs', 'to receive a device', options.timeoutMs ?? 10_000, 0, 0x7fff_ffff);
  if (!(from instanceof UnixSocket) && !(from instanceof UnixListener) && typeof from !== 'string')
    throw new VfioError(
      VfioErrorCode.INVALID_ARGUMENT,
      'receiveDevice(from): from must be a socket path, a UnixListener or a UnixSocket',
    );
  const listener = typeof from === 'string' ? UnixListener.listen(from, { mode: options.mode }) : undefined;
  let socket: UnixSocket | undefined;
  try {
    socket = from instanceof UnixSocket ? from : acceptOne(listener ?? (from as UnixListener), timeoutMs);
    const { bytes, fds } = readMessage(socket, timeoutMs);
    let message: HandoffMessage;
    try {
      message = decodeHandoff(bytes, fds.length, socket.name);
    } catch (e) {
      closeAll(fds.map((fd) => () => sysClose(fd)));
      throw e;
    }
    return adopt(message, fds, socket.name, options);
  } finally {
    closeAll([() => socket !== from && socket?.close(), () => listener?.close()]);
  }
}
