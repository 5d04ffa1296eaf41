/**
 * One client's conversation with a served device: the version talk first, then each command
 * answered from the model. What a client must not send throws `ERR_VFIO_PROTOCOL`, and the
 * caller then closes that client's connection; what is allowed but fails is an
 * error reply with an errno. A handler of the model that throws is an `EIO` reply, and the
 * error goes to the server's `onError`: a model's bug must not take the server down.
 */
import { constants } from 'node:os';
import {
  VFIO_DEVICE_FLAGS_PCI,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_USER_DEVICE_GET_INFO,
  VFIO_USER_DEVICE_GET_IRQ_INFO,
  VFIO_USER_DEVICE_GET_REGION_INFO,
  VFIO_USER_DEVICE_RESET,
  VFIO_USER_DEVICE_SET_IRQS,
  VFIO_USER_DMA_MAP,
  VFIO_USER_DMA_UNMAP,
  VFIO_USER_REGION_READ,
  VFIO_USER_REGION_WRITE,
  VFIO_USER_VERSION,
  encodeStruct,
  vfio_irq_info,
  vfio_region_info,
} from '../../../structs/index.js';
import { closeAll, sysClose } from '../../sys/index.js';
import { commandName, protocolError, type Message } from '../message.js';
import {
  encodeDeviceInfo,
  encodeDmaUnmap,
  encodeRegionAccess,
  parseDmaMap,
  parseDmaUnmap,
  parseInfoRequest,
  parseIrqSet,
  parseRegionAccess,
} from '../payloads.js';
import {
  DEFAULT_CAPABILITIES,
  MAX_DATA_XFER_LIMIT,
  PROTOCOL_MAJOR,
  PROTOCOL_MINOR,
  encodeVersion,
  parseVersion,
  type Capabilities,
} from '../version.js';
import type { ModelContext } from './model.js';
import type { ServedDma } from './served-dma.js';
import type { Refusal, ServedInterrupts } from './served-irqs.js';
import type { ServedRegions } from './served-regions.js';

/**
 * What the server offers every client. 16 descriptors a message: QEMU's vfio-user-pci (10.1 to
 * 11.1 at least) refuses a server that offers more ("malformed max_msg_fds") and never attaches.
 */
export const SERVER_CAPABILITIES: Readonly<Capabilities> = {
  ...DEFAULT_CAPABILITIES,
  maxMsgFds: 16,
  maxDataXferSize: MAX_DATA_XFER_LIMIT,
};

/** A reply to send: the payload and descriptors, or an errno. */
export type SessionReply = { payload?: Uint8Array; fds?: number[] } | Refusal;

/** The device's parts a client's commands are answered from. */
export interface ServedDevice {
  readonly name: string;
  readonly regions: ServedRegions;
  readonly irqs: ServedInterrupts;
  readonly dma: ServedDma;
  readonly context: ModelContext;
  /** Config space as built, the client's interrupts taken away, then the model's own reset. */
  reset(): void;
  /** A model's handler threw: report it. */
  modelFailed(error: unknown, command: string): void;
}

export class ServerSession {
  readonly #device: ServedDevice;
  readonly #peer: string;
  #client: Capabilities | undefined;

  constructor(device: ServedDevice, peer: string) {
    this.#device = device;
    this.#peer = peer;
  }

  /**
   * Answers one command (ownership of `m.fds` passes here: each is kept or closed). Throws
   * `ERR_VFIO_PROTOCOL` for a message that must close the client's connection.
   */
  handle(m: Message): SessionReply {
    const kept = new Set<number>();
    try {
      if (m.reply) throw protocolError(this.#peer, `a reply (${commandName(m.command)}) when no command was sent`);
      if (!this.#client) {
        if (m.command !== VFIO_USER_VERSION)
          throw protocolError(this.#peer, `${commandName(m.command)} before VFIO_USER_VERSION`);
        return this.#version(m);
      }
      return this.#dispatch(m, kept);
    } finally {
      const stray = m.fds.filter((fd) => !kept.has(fd));
      closeAll(stray.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`)));
    }
  }

  #version(m: Message): SessionReply {
    if (m.fds.length) throw protocolError(this.#peer, `VFIO_USER_VERSION with ${m.fds.length} descriptors`);
    const v = parseVersion(m.payload, this.#peer);
    if (v.major !== PROTOCOL_MAJOR)
      throw protocolError(this.#peer, `protocol version ${v.major}.${v.minor}: this server speaks ${PROTOCOL_MAJOR}.x`);
    this.#client = v.capabilities;
    const capabilities = {
      ...SERVER_CAPABILITIES,
      maxDataXferSize: Math.min(MAX_DATA_XFER_LIMIT, v.capabilities.maxDataXferSize),
    };
    return {
      payload: encodeVersion({ major: PROTOCOL_MAJOR, minor: Math.min(v.minor, PROTOCOL_MINOR), capabilities }),
    };
  }

  #dispatch(m: Message, kept: Set<number>): SessionReply {
    const d = this.#device;
    const noFds = () => {
      if (m.fds.length) throw protocolError(this.#peer, `${commandName(m.command)} with ${m.fds.length} descriptors`);
    };
    const maxXfer = SERVER_CAPABILITIES.maxDataXferSize;
    switch (m.command) {
      case VFIO_USER_DEVICE_GET_INFO:
        noFds();
        return {
          payload: encodeDeviceInfo({
            flags: VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, // a served device always resets
            numRegions: d.regions.count,
            numIrqs: d.irqs.count,
          }),
        };
      case VFIO_USER_DEVICE_GET_REGION_INFO: {
        noFds();
        const { index } = parseInfoRequest(m.payload, vfio_region_info, this.#peer);
        const info = d.regions.info(index);
        if (!info) return { errno: constants.errno.EINVAL, why: `region ${index} does not exist` };
        const payload = Buffer.alloc(vfio_region_info.size);
        encodeStruct(payload, vfio_region_info, { argsz: payload.length, ...info, cap_offset: 0, offset: 0n });
        const fd = d.regions.mmapFd(index);
        return { payload, ...(fd === undefined ? {} : { fds: [fd] }) };
      }
      case VFIO_USER_DEVICE_GET_IRQ_INFO: {
        noFds();
        const { index } = parseInfoRequest(m.payload, vfio_irq_info, this.#peer);
        const info = d.irqs.info(index);
        if (!info) return { errno: constants.errno.EINVAL, why: `irq index ${index} does not exist` };
        const payload = Buffer.alloc(vfio_irq_info.size);
        encodeStruct(payload, vfio_irq_info, { argsz: payload.length, ...info });
        return { payload };
      }
      case VFIO_USER_DEVICE_SET_IRQS: {
        const req = parseIrqSet(m.payload, m.fds, this.#peer);
        m.fds.forEach((fd) => kept.add(fd));
        return d.irqs.set(req, m.fds) ?? {};
      }
      case VFIO_USER_REGION_READ: {
        noFds();
        const a = parseRegionAccess(m.payload, this.#peer, false, maxXfer);
        const data = this.#model(m, () => d.regions.read(a.region, a.offset, a.count, d.context));
        return data instanceof Uint8Array ? { payload: encodeRegionAccess({ ...a, data }) } : data;
      }
      case VFIO_USER_REGION_WRITE: {
        noFds();
        const a = parseRegionAccess(m.payload, this.#peer, true, maxXfer);
        const refused = this.#model(m, () => d.regions.write(a.region, a.offset, a.data!, d.context));
        return refused ?? { payload: encodeRegionAccess({ region: a.region, offset: a.offset, count: a.count }) };
      }
      case VFIO_USER_DMA_MAP: {
        if (m.fds.length > 1) throw protocolError(this.#peer, `VFIO_USER_DMA_MAP with ${m.fds.length} descriptors`);
        const req = parseDmaMap(m.payload, this.#peer);
        m.fds.forEach((fd) => kept.add(fd));
        return d.dma.map(req, m.fds) ?? {};
      }
      case VFIO_USER_DMA_UNMAP: {
        noFds();
        const req = parseDmaUnmap(m.payload, this.#peer);
        return d.dma.unmap(req) ?? { payload: encodeDmaUnmap(req) };
      }
      case VFIO_USER_DEVICE_RESET:
        noFds();
        return this.#model(m, () => d.reset()) ?? {};
      case VFIO_USER_VERSION:
        throw protocolError(this.#peer, 'VFIO_USER_VERSION a second time');
      default:
        return { errno: constants.errno.ENOSYS, why: `${commandName(m.command)} is not offered by this server` };
    }
  }

  /** Runs a model handler: a throw becomes an EIO reply and a report. */
  #model<T>(m: Message, fn: () => T): T | Refusal {
    try {
      return fn();
    } catch (e) {
      this.#device.modelFailed(e, commandName(m.command));
      return { errno: constants.errno.EIO, why: `the model failed: ${(e as Error).message}` };
    }
  }
}
