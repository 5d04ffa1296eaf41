/**
 * Handing an opened device to another process: its descriptors (the IOMMU context's, the
 * group's where there is one, the device's) go over a UNIX socket with SCM_RIGHTS, with a
 * small header that says what they are (`structs/handoff.ts`).
 */
import { encodeHandoff, VfioError, VfioErrorCode, type HandoffMessage } from '../../../structs/index.js';
import { checkInteger, UnixSocket } from '../../sys/index.js';
import { Container } from '../context/container.js';
import { IommufdContext } from '../context/iommufd-context.js';
import type { Device } from '../device/device.js';
import { isMdevAddress } from '../mdev/address.js';

/** Options of `sendDevice`. */
export interface SendDeviceOptions {
  /** Given a socket path: the most milliseconds to wait for the connection (default 10 000). */
  timeoutMs?: number;
}

/** The message and descriptors that hand `device` over; the context and group are marked shared. */
function handoffOf(device: Device): { message: HandoffMessage; fds: number[] } {
  const context = device.iommu;
  const base = { address: device.address, iommuGroup: device.iommuGroup, dmaBits: device.dmaBits };
  // The IOVAs the sender holds, so that the receiver's allocator steps around them.
  const dma = context.dma;
  const spans = dma.buffers > 0 ? dma.allocator().liveSpans.map((s) => ({ iova: s.start, size: s.end - s.start })) : [];
  if (context instanceof Container) {
    const group = context.groups.find((g) => g.number === device.iommuGroup && !g.closed);
    if (!group)
      throw new VfioError(
        VfioErrorCode.INTERNAL,
        `${device.name}: its group ${device.iommuGroup} is not in its container`,
      );
    group.markShared();
    context.backend.markShared();
    const backend = context.kind === 'noiommu' ? 'noiommu' : 'type1';
    // Without an IOMMU the device uses physical addresses: no IOVA to step around.
    const message = {
      ...base,
      backend,
      iommuId: context.iommuType,
      spans: backend === 'noiommu' ? [] : spans,
    } as const;
    return { message, fds: [context.fd, group.fd, device.fd] };
  }
  if (context instanceof IommufdContext) {
    context.backend.markShared();
    return { message: { ...base, backend: 'iommufd', iommuId: context.ioasId, spans }, fds: [context.fd, device.fd] };
  }
  throw new VfioError(
    VfioErrorCode.UNSUPPORTED,
    `${device.name} is in a ${context.kind} context, not a container or an iommufd one: only a device the kernel serves can be handed to another process`,
  );
}

/**
 * Sends an opened device to another process, which opens it with `receiveDevice`: one message
 * on `to` (a connected `UnixSocket`, or the path a receiver listens at) carrying the device's
 * descriptors and its IOMMU context's (the container and group, or the iommufd and its IOAS).
 *
 * The kernel objects are then held by both processes and live while either holds a descriptor:
 * this `Device` stays usable, and closing it (at once, or later) closes only this process's
 * descriptors and its own DMA buffers, never the receiver's device or context. The IOVA ranges
 * this process has mapped go with the message, and the receiver allocates around them; ranges
 * mapped here later may meet the receiver's, which the kernel refuses (EEXIST). Interrupts are
 * the receiver's to enable: a device with an interrupt type enabled is refused
 * (`ERR_VFIO_INVALID_STATE`), since the kernel keeps one set of eventfds per device. Only PCI
 * devices are handed over: a mediated device is refused (`ERR_VFIO_UNSUPPORTED`).
 */
export function sendDevice(device: Device, to: string | UnixSocket, options: SendDeviceOptions = {}): void {
  const name = `${device.name}`;
  if (device.closed) throw new VfioError(VfioErrorCode.CLOSED, `${name} is closed: there is nothing to send`);
  if (!device.channel.kernel)
    throw new VfioError(
      VfioErrorCode.UNSUPPORTED,
      `${name} is not served by the kernel: only a VFIO device fd can be handed to another process`,
    );
  // The receiver checks a PCI device's identity in sysfs (its address, group, ids); an mdev has
  // none of these to check.
  if (isMdevAddress(device.address))
    throw new VfioError(
      VfioErrorCode.UNSUPPORTED,
      `${name} is a mediated device: only a PCI device can be handed to another process; open the mdev in the process that drives it (openDevice('mdev:${device.address}'))`,
    );
  const irq = device.enabledIrqType;
  if (irq !== undefined)
    throw new VfioError(
      VfioErrorCode.INVALID_STATE,
      `${name} has ${irq} interrupts enabled: the kernel signals one set of eventfds per device, and the receiver sets its own; call device.interrupts.disable() before sending it`,
    );
  const timeoutMs = checkInteger('timeoutMs', `to send ${name}`, options.timeoutMs ?? 10_000, 0, 0x7fff_ffff);
  if (!(to instanceof UnixSocket) && typeof to !== 'string')
    throw new VfioError(
      VfioErrorCode.INVALID_ARGUMENT,
      `sendDevice(${name}, to): to must be a socket path or a UnixSocket`,
    );
  const { message, fds } = handoffOf(device);
  const bytes = encodeHandoff(message);
  const socket = typeof to === 'string' ? UnixSocket.connect(to, { timeoutMs }) : to;
  try {
    socket.sendAll(bytes, fds);
  } finally {
    if (socket !== to) socket.close();
  }
}
