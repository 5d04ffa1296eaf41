/**
 * A `Device`'s channel to a vfio-user server: each question the kernel answers for a local
 * device becomes a message with the same payload (`vfio_region_info`, `vfio_irq_info`,
 * `vfio_irq_set`), read and write are region messages, and a region the server offers to map
 * comes with the descriptor to mmap. So `Device`, `Region` and `Interrupts` work unchanged.
 */
import {
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_USER_DEVICE_GET_INFO,
  VFIO_USER_DEVICE_GET_IRQ_INFO,
  VFIO_USER_DEVICE_GET_REGION_INFO,
  VFIO_USER_DEVICE_RESET,
  VFIO_USER_DEVICE_SET_IRQS,
  VFIO_USER_REGION_READ,
  VFIO_USER_REGION_WRITE,
  VfioError,
  VfioErrorCode,
  buildIrqSet,
  decodeStruct,
  parseRegionInfo,
  queryVariable,
  vfio_irq_info,
  vfio_region_info,
  type IrqSetRequest,
  type RegionInfo,
} from '../../../structs/index.js';
import { closeAll, sysClose } from '../../sys/index.js';
import {
  deviceInfoOf,
  irqInfoOf,
  type DeviceChannel,
  type DeviceInfo,
  type IrqInfo,
  type MmapSource,
} from '../../vfio/index.js';
import {
  encodeDeviceInfo,
  encodeInfoRequest,
  encodeIrqSet,
  encodeRegionAccess,
  parseDeviceInfo,
  parseRegionAccess,
} from '../payloads.js';
import type { ClientConnection } from './connection.js';

export class VfioUserChannel implements DeviceChannel {
  readonly kernel = false;
  readonly #connection: ClientConnection;
  /** Per region index: the descriptor the server sent to mmap it. */
  readonly #regionFds = new Map<number, number>();

  constructor(connection: ClientConnection) {
    this.#connection = connection;
  }

  get fd(): number {
    return this.#connection.fd;
  }

  readDeviceInfo(): DeviceInfo {
    const reply = this.#connection.request(VFIO_USER_DEVICE_GET_INFO, encodeDeviceInfo(undefined));
    const info = parseDeviceInfo(reply.payload, this.#peer);
    return deviceInfoOf(info.flags, info.numRegions, info.numIrqs);
  }

  readRegionInfo(index: number): RegionInfo {
    let fd: number | undefined;
    const buf = queryVariable(
      vfio_region_info,
      { index },
      (b) => {
        const reply = this.#connection.request(
          VFIO_USER_DEVICE_GET_REGION_INFO,
          encodeInfoRequest(vfio_region_info, index, b.length),
        );
        if (fd !== undefined) sysClose(fd, `the descriptor of region ${index}`);
        fd = reply.fds[0];
        closeAll(reply.fds.slice(1).map((extra) => () => sysClose(extra, `a descriptor from ${this.#peer}`)));
        b.fill(0);
        b.set(reply.payload.subarray(0, b.length));
      },
      'VFIO_USER_DEVICE_GET_REGION_INFO',
    );
    const info = parseRegionInfo(buf);
    if (fd !== undefined && info.flags & VFIO_REGION_INFO_FLAG_MMAP) this.#keep(index, fd);
    else if (fd !== undefined) sysClose(fd, `the descriptor of region ${index}`);
    return info;
  }

  readIrqInfo(index: number): IrqInfo {
    const reply = this.#connection.request(VFIO_USER_DEVICE_GET_IRQ_INFO, encodeInfoRequest(vfio_irq_info, index));
    if (reply.payload.length < vfio_irq_info.size)
      throw new VfioError(VfioErrorCode.MALFORMED, `${this.#peer}: an irq info of ${reply.payload.length} bytes`);
    const raw = decodeStruct<{ flags: number; count: number }>(reply.payload, vfio_irq_info);
    return irqInfoOf(index, raw.flags, raw.count);
  }

  readRegion(info: RegionInfo, offset: number, into: Uint8Array, length: number): number {
    const max = this.#connection.server.maxDataXferSize;
    for (let done = 0; done < length;) {
      const count = Math.min(max, length - done);
      const at = BigInt(offset + done);
      const reply = this.#connection.request(
        VFIO_USER_REGION_READ,
        encodeRegionAccess({ region: info.index, offset: at, count }),
      );
      const got = parseRegionAccess(reply.payload, this.#peer, true, max);
      if (got.count !== count)
        throw new VfioError(
          VfioErrorCode.PROTOCOL,
          `${this.#peer} answered a read of ${count} bytes with ${got.count}`,
        );
      into.set(got.data!, done);
      done += count;
    }
    return length;
  }

  writeRegion(info: RegionInfo, offset: number, from: Uint8Array, length: number): number {
    const max = this.#connection.server.maxDataXferSize;
    for (let done = 0; done < length;) {
      const count = Math.min(max, length - done);
      const data = from.subarray(done, done + count);
      this.#connection.request(
        VFIO_USER_REGION_WRITE,
        encodeRegionAccess({ region: info.index, offset: BigInt(offset + done), count, data }),
      );
      done += count;
    }
    return length;
  }

  mmapSource(info: RegionInfo, areaOffset: number): MmapSource {
    const fd = this.#regionFds.get(info.index);
    if (fd === undefined)
      throw new VfioError(VfioErrorCode.UNSUPPORTED, `${this.#peer} sent no descriptor to map region ${info.index}`);
    return { fd, offset: info.offset + BigInt(areaOffset) };
  }

  /**
   * The kernel takes -1 for "no eventfd on this vector"; vfio-user has no such value, so runs of
   * real eventfds go as descriptors and runs of -1 as a request without any (which takes them away).
   * A run of eventfds is cut into requests of at most the descriptors the server takes in one
   * message (16 from serveDevice, whose client QEMU accepts no more).
   */
  setIrqs(req: IrqSetRequest): void {
    buildIrqSet(req); // the same checks as for the kernel, with the same messages
    const { index, start, count, action } = req;
    if (req.eventfds) {
      const fds = req.eventfds;
      const most = Math.max(1, this.#connection.server.maxMsgFds);
      for (let i = 0; i < fds.length;) {
        let j = i;
        while (j < fds.length && fds[j] >= 0 === fds[i] >= 0 && (fds[i] < 0 || j - i < most)) j++;
        const run = fds.slice(i, j);
        const payload = encodeIrqSet({
          flags: VFIO_IRQ_SET_DATA_EVENTFD | action,
          index,
          start: start + i,
          count: j - i,
        });
        this.#connection.request(VFIO_USER_DEVICE_SET_IRQS, payload, run[0] >= 0 ? run : []);
        i = j;
      }
      return;
    }
    const flags = (req.bools ? VFIO_IRQ_SET_DATA_BOOL : VFIO_IRQ_SET_DATA_NONE) | action;
    this.#connection.request(VFIO_USER_DEVICE_SET_IRQS, encodeIrqSet({ flags, index, start, count, bools: req.bools }));
  }

  reset(): void {
    this.#connection.request(VFIO_USER_DEVICE_RESET);
  }

  close(): void {
    const fds = [...this.#regionFds.values()];
    this.#regionFds.clear();
    closeAll([...fds.map((fd) => () => sysClose(fd, 'a region descriptor')), () => this.#connection.close()]);
  }

  get #peer(): string {
    return `the vfio-user server at ${this.#connection.path}`;
  }

  #keep(index: number, fd: number): void {
    const old = this.#regionFds.get(index);
    if (old !== undefined) sysClose(old, `the descriptor of region ${index}`);
    this.#regionFds.set(index, fd);
  }
}
