/**
 * Pure rules for interrupt vectors: which irq type to use, which vector ranges are valid, and
 * how a watched fd is tagged in epoll. No system calls here, so they are unit-tested on the host.
 */
import {
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
  VfioError,
  VfioErrorCode,
  VfioRangeError,
} from '../../../structs/index.js';
import { irqIndexName } from '../names.js';

/** The three interrupt types of a PCI function; only one can be enabled at a time on vfio-pci. */
export type IrqType = 'intx' | 'msi' | 'msix';

/** The VFIO irq index of each type. */
export const IRQ_INDEX: Readonly<Record<IrqType, number>> = {
  intx: VFIO_PCI_INTX_IRQ_INDEX,
  msi: VFIO_PCI_MSI_IRQ_INDEX,
  msix: VFIO_PCI_MSIX_IRQ_INDEX,
};

/** Human names for messages (vfio-pci's names of the three indexes). */
export const IRQ_NAME: Readonly<Record<IrqType, string>> = {
  intx: irqIndexName(IRQ_INDEX.intx),
  msi: irqIndexName(IRQ_INDEX.msi),
  msix: irqIndexName(IRQ_INDEX.msix),
};

/** The order in which `enable('auto')` tries the types: best first. */
export const IRQ_PREFERENCE: readonly IrqType[] = ['msix', 'msi', 'intx'];

/** What `VFIO_DEVICE_GET_IRQ_INFO` says about one index, as far as choosing goes. */
export interface IrqCapability {
  count: number;
  eventfd: boolean;
}

/** Whether `s` names an irq type. */
export function isIrqType(s: unknown): s is IrqType {
  return s === 'intx' || s === 'msi' || s === 'msix';
}

/**
 * The best type the device can signal through eventfds (MSI-X, then MSI, then INTx), or
 * `undefined` when it has none. `info(type)` returns the index's irq info.
 */
export function chooseIrqType(info: (type: IrqType) => IrqCapability): IrqType | undefined {
  return IRQ_PREFERENCE.find((t) => {
    const i = info(t);
    return i.count > 0 && i.eventfd;
  });
}

/**
 * Vectors per type that can signal through eventfds: the index's count, or 0 where the type is
 * absent or lacks the EVENTFD flag. `info(type)` returns the index's irq info.
 */
export function eventfdVectors(info: (type: IrqType) => IrqCapability): Record<IrqType, number> {
  const out = { intx: 0, msi: 0, msix: 0 };
  for (const t of IRQ_PREFERENCE) {
    const i = info(t);
    out[t] = i.eventfd ? i.count : 0;
  }
  return out;
}

/**
 * Checks the vector range `start..start+count-1` against the index's vector count and returns
 * it; `count` defaults to every vector from `start`. `what` names the device for messages.
 */
export function checkVectorRange(
  what: string,
  type: IrqType,
  available: number,
  start = 0,
  count?: number,
): { start: number; count: number } {
  const name = IRQ_NAME[type];
  if (available <= 0) {
    throw new VfioError(
      VfioErrorCode.UNSUPPORTED,
      `${what} has no ${name} vectors (VFIO_DEVICE_GET_IRQ_INFO reports count 0 for irq index ${IRQ_INDEX[type]}): use another type, or enable('auto') to pick one it supports`,
    );
  }
  if (!Number.isInteger(start) || start < 0 || start >= available) {
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `${what}: ${name} start vector must be 0-${available - 1}, got ${start}`,
    );
  }
  const n = count ?? available - start;
  if (!Number.isInteger(n) || n < 1 || start + n > available) {
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `${what}: ${name} vectors ${start}..${start + n - 1} are outside the ${available} the device has (irq index ${IRQ_INDEX[type]}): use count 1-${available - start}`,
    );
  }
  if (type === 'intx' && (start !== 0 || n !== 1))
    throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `${what}: INTx has exactly one vector (start 0, count 1)`);
  return { start, count: n };
}

/** What an epoll tag points at: a vector, or one of the kernel's signals (the request, the error). */
export type IrqTag = { kind: 'vector'; vector: number } | { kind: 'request' } | { kind: 'error' };

const KIND_VECTOR = 2n;
const KIND_REQUEST = 3n;
const KIND_ERROR = 4n;

/** The 64-bit epoll `data` for a tag: the kind in the high 32 bits, the vector in the low. */
export function encodeIrqTag(tag: IrqTag): bigint {
  switch (tag.kind) {
    case 'request':
      return KIND_REQUEST << 32n;
    case 'error':
      return KIND_ERROR << 32n;
    case 'vector':
      if (!Number.isInteger(tag.vector) || tag.vector < 0 || tag.vector > 0xffff_ffff)
        throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `vector must be a u32, got ${tag.vector}`);
      return (KIND_VECTOR << 32n) | BigInt(tag.vector);
  }
}

/** The tag of an epoll `data`, or `undefined` when it is not one of ours. */
export function decodeIrqTag(data: bigint): IrqTag | undefined {
  const kind = data >> 32n;
  const low = Number(data & 0xffff_ffffn);
  if (kind === KIND_REQUEST && low === 0) return { kind: 'request' };
  if (kind === KIND_ERROR && low === 0) return { kind: 'error' };
  if (kind === KIND_VECTOR) return { kind: 'vector', vector: low };
  return undefined;
}
