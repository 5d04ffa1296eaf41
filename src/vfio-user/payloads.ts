/**
 * The payloads of vfio-user commands and replies, built and checked. Each parser takes what a
 * peer sent and either returns fields that describe only bytes it sent and values in range, or
 * throws `ERR_VFIO_PROTOCOL` naming the peer and the field: sizes, counts and descriptors are
 * never taken on trust.
 */
import {
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  decodeStruct,
  encodeStruct,
  vfio_irq_set,
  vfio_user_device_info,
  vfio_user_dma_access,
  vfio_user_dma_map,
  vfio_user_dma_unmap,
  vfio_user_region_access,
  type TypeObject,
} from '../../structs/index.js';
import { protocolError } from './message.js';

/** Decodes `type` from the start of `payload`, which must hold it whole. */
function fixed<T>(payload: Uint8Array, type: TypeObject, peer: string, what: string): T {
  if (payload.length < type.size)
    throw protocolError(peer, `${what} of ${payload.length} bytes, shorter than its ${type.size}-byte structure`);
  return decodeStruct<T>(payload, type);
}

/** A buffer holding `type` filled from `value`, then `extra` bytes. */
function build(type: TypeObject, value: Record<string, unknown>, extra?: Uint8Array): Buffer {
  const buf = Buffer.alloc(type.size + (extra?.length ?? 0));
  encodeStruct(buf, type, value);
  if (extra) buf.set(extra, type.size);
  return buf;
}

/** A region or DMA read or write: where, how many bytes, and the bytes when they travel. */
export interface Access {
  /** Region index (region accesses) . */
  region: number;
  /** Offset in the region, or the DMA address. */
  offset: bigint;
  count: number;
  /** The bytes: on a write request and a read reply. */
  data?: Uint8Array;
}

/** `VFIO_USER_REGION_READ`/`WRITE` payload: data on a write request and a read reply. */
export function encodeRegionAccess(a: Access): Buffer {
  return build(vfio_user_region_access, { offset: a.offset, region: a.region, count: a.count }, a.data);
}

/**
 * Parses a region access. `withData`: the payload must carry exactly `count` bytes after the
 * structure; else none. `maxCount`: the receiver's `max_data_xfer_size`.
 */
export function parseRegionAccess(payload: Uint8Array, peer: string, withData: boolean, maxCount: number): Access {
  const what = 'region access';
  const raw = fixed<{ offset: bigint; region: number; count: number }>(payload, vfio_user_region_access, peer, what);
  return checkData(payload, vfio_user_region_access.size, raw.count, withData, maxCount, peer, what, {
    region: raw.region,
    offset: raw.offset,
  });
}

/** `VFIO_USER_DMA_READ`/`WRITE` payload. */
export function encodeDmaAccess(a: Omit<Access, 'region'>): Buffer {
  return build(vfio_user_dma_access, { addr: a.offset, count: BigInt(a.count) }, a.data);
}

/** Parses a DMA access, as `parseRegionAccess`; `region` is 0. */
export function parseDmaAccess(payload: Uint8Array, peer: string, withData: boolean, maxCount: number): Access {
  const what = 'DMA access';
  const raw = fixed<{ addr: bigint; count: bigint }>(payload, vfio_user_dma_access, peer, what);
  if (raw.count > BigInt(maxCount))
    throw protocolError(peer, `${what} of ${raw.count} bytes, over the ${maxCount} agreed`);
  return checkData(payload, vfio_user_dma_access.size, Number(raw.count), withData, maxCount, peer, what, {
    region: 0,
    offset: raw.addr,
  });
}

function checkData(
  payload: Uint8Array,
  head: number,
  count: number,
  withData: boolean,
  maxCount: number,
  peer: string,
  what: string,
  where: { region: number; offset: bigint },
): Access {
  if (count > maxCount) throw protocolError(peer, `${what} of ${count} bytes, over the ${maxCount} agreed`);
  const expected = head + (withData ? count : 0);
  if (payload.length !== expected)
    throw protocolError(
      peer,
      `${what} of ${count} bytes in a payload of ${payload.length} bytes; ${expected} expected ${withData ? 'with' : 'without'} its data`,
    );
  return { ...where, count, ...(withData ? { data: payload.subarray(head, expected) } : {}) };
}

/** `VFIO_USER_DEVICE_GET_INFO` reply fields. */
export interface UserDeviceInfo {
  flags: number;
  numRegions: number;
  numIrqs: number;
}

/** The device info payload (request: zeros with `argsz`; reply: the fields). */
export function encodeDeviceInfo(info: UserDeviceInfo | undefined): Buffer {
  return build(vfio_user_device_info, {
    argsz: vfio_user_device_info.size,
    flags: info?.flags ?? 0,
    num_regions: info?.numRegions ?? 0,
    num_irqs: info?.numIrqs ?? 0,
  });
}

/** Parses a device info reply. */
export function parseDeviceInfo(payload: Uint8Array, peer: string): UserDeviceInfo {
  const raw = fixed<{ flags: number; num_regions: number; num_irqs: number }>(
    payload,
    vfio_user_device_info,
    peer,
    'device info',
  );
  return { flags: raw.flags, numRegions: raw.num_regions, numIrqs: raw.num_irqs };
}

/** A region info or irq info request: `argsz` (room for the reply) and the index asked about. */
export function encodeInfoRequest(type: TypeObject, index: number, argsz = type.size): Buffer {
  return build(type, { argsz, index });
}

/**
 * Parses a region info or irq info request (`type` is `vfio_region_info` or `vfio_irq_info`):
 * the index, and the reply room the client has.
 */
export function parseInfoRequest(
  payload: Uint8Array,
  type: TypeObject,
  peer: string,
): { index: number; argsz: number } {
  const raw = fixed<{ argsz: number; index: number }>(payload, type, peer, 'info request');
  return { index: raw.index, argsz: raw.argsz };
}

/** `VFIO_USER_DMA_MAP` request fields. */
export interface DmaMapRequest {
  flags: number;
  /** Offset of the memory in the descriptor sent with the message (0 without one). */
  offset: bigint;
  /** The DMA address the server sees the memory at. */
  addr: bigint;
  size: bigint;
}

/** The DMA map payload. */
export function encodeDmaMap(m: DmaMapRequest): Buffer {
  return build(vfio_user_dma_map, { argsz: vfio_user_dma_map.size, ...m });
}

/** Parses a DMA map request: a size above zero whose end does not wrap. */
export function parseDmaMap(payload: Uint8Array, peer: string): DmaMapRequest {
  const raw = fixed<DmaMapRequest & { argsz: number }>(payload, vfio_user_dma_map, peer, 'DMA map');
  if (raw.size === 0n) throw protocolError(peer, `a DMA map of 0 bytes at 0x${raw.addr.toString(16)}`);
  if (raw.addr + raw.size > 2n ** 64n || raw.offset + raw.size > 2n ** 64n)
    throw protocolError(peer, `a DMA map of 0x${raw.size.toString(16)} bytes at 0x${raw.addr.toString(16)} that wraps`);
  return { flags: raw.flags, offset: raw.offset, addr: raw.addr, size: raw.size };
}

/** `VFIO_USER_DMA_UNMAP` request and reply fields. */
export interface DmaUnmapRequest {
  flags: number;
  addr: bigint;
  size: bigint;
}

/** The DMA unmap payload. */
export function encodeDmaUnmap(m: DmaUnmapRequest): Buffer {
  return build(vfio_user_dma_unmap, { argsz: vfio_user_dma_unmap.size, ...m });
}

/** Parses a DMA unmap request or reply. */
export function parseDmaUnmap(payload: Uint8Array, peer: string): DmaUnmapRequest {
  const raw = fixed<DmaUnmapRequest>(payload, vfio_user_dma_unmap, peer, 'DMA unmap');
  return { flags: raw.flags, addr: raw.addr, size: raw.size };
}

/** `VFIO_USER_DEVICE_SET_IRQS` request: a `vfio_irq_set`, its eventfds in the descriptors. */
export interface IrqSetMessage {
  flags: number;
  index: number;
  start: number;
  count: number;
  /** `VFIO_IRQ_SET_DATA_BOOL`: one per vector. */
  bools?: readonly boolean[];
}

/** The set-irqs payload; eventfds travel as descriptors, not in the payload. */
export function encodeIrqSet(m: IrqSetMessage): Buffer {
  const data = m.bools ? Uint8Array.from(m.bools, (b) => (b ? 1 : 0)) : undefined;
  const size = vfio_irq_set.size + (data?.length ?? 0);
  return build(vfio_irq_set, { argsz: size, flags: m.flags, index: m.index, start: m.start, count: m.count }, data);
}

const DATA_FLAGS = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
const ACTION_FLAGS = VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;
const oneBit = (x: number) => x !== 0 && (x & (x - 1)) === 0;

/**
 * Parses a set-irqs request and checks it against the descriptors that came with it: one data
 * kind and one action, a range that does not wrap, `count` bools for DATA_BOOL, and for
 * DATA_EVENTFD either `count` descriptors or none (none takes the eventfds away).
 */
export function parseIrqSet(payload: Uint8Array, fds: readonly number[], peer: string): IrqSetMessage {
  const raw = fixed<{ argsz: number; flags: number; index: number; start: number; count: number }>(
    payload,
    vfio_irq_set,
    peer,
    'set irqs',
  );
  const { flags, index, start, count } = raw;
  const what = `set irqs (index ${index}, vectors ${start}+${count})`;
  if (flags & ~(DATA_FLAGS | ACTION_FLAGS) || !oneBit(flags & DATA_FLAGS) || !oneBit(flags & ACTION_FLAGS))
    throw protocolError(peer, `${what} with flags 0x${flags.toString(16)}: one data kind and one action are needed`);
  if (start + count > 2 ** 32 - 1) throw protocolError(peer, `${what}: the range wraps`);
  const data = payload.subarray(vfio_irq_set.size);
  const eventfd = (flags & VFIO_IRQ_SET_DATA_EVENTFD) !== 0;
  const bool = (flags & VFIO_IRQ_SET_DATA_BOOL) !== 0;
  if (data.length !== (bool ? count : 0))
    throw protocolError(peer, `${what} carries ${data.length} data bytes, ${bool ? count : 0} expected`);
  if (eventfd ? fds.length !== 0 && fds.length !== count : fds.length !== 0)
    throw protocolError(
      peer,
      `${what} came with ${fds.length} descriptors; ${eventfd ? `${count} (or none, to take them away)` : 'none'} expected`,
    );
  return { flags, index, start, count, ...(bool ? { bools: Array.from(data, (b) => b !== 0) } : {}) };
}
