/** Builder for `vfio_irq_set` with its trailing data (eventfds or bools), as VFIO_DEVICE_SET_IRQS takes it. */
import { structBuffer } from './koffi.js';
import { vfio_irq_set } from './vfio-structs.js';
import {
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_IRQ_SET_DATA_TYPE_MASK,
} from './vfio-constants.js';
import { VfioError, VfioRangeError } from './errors.js';
import { VfioErrorCode } from './error-codes.js';

/**
 * What a `vfio_irq_set` asks for, before encoding: the irq `index` (`VFIO_PCI_MSIX_IRQ_INDEX`, ...),
 * the vectors `start..start + count - 1`, the action, and the data for each vector if any.
 */
export interface IrqSetRequest {
  /** The irq index (`VFIO_PCI_INTX_IRQ_INDEX`, `VFIO_PCI_MSI_IRQ_INDEX`, ...). */
  index: number;
  /** The first vector. */
  start: number;
  /** Number of vectors; with DATA_NONE and 0 the index is disabled. */
  count: number;
  /** One ACTION_* flag; the DATA_* flag follows from the data given. */
  action: number;
  /** One eventfd per vector (-1 leaves that vector without a trigger). */
  eventfds?: readonly number[];
  /** One bool per vector. */
  bools?: readonly boolean[];
}

const U32_MAX = 0xffff_ffff;

function popcount(n: number): number {
  let c = 0;
  for (let v = n; v; v &= v - 1) c++;
  return c;
}

/** Encodes a `vfio_irq_set` request; rejects a count that does not match its data. */
export function buildIrqSet(req: IrqSetRequest): Buffer {
  const { index, start, count, action } = req;
  for (const [name, v] of [
    ['index', index],
    ['start', start],
    ['count', count],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > U32_MAX)
      throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `vfio_irq_set.${name} must be a u32, got ${v}`);
  }
  // A u32 first: the bit tests below would truncate a fraction or a value past 32 bits.
  const u32 = Number.isInteger(action) && action >= 0 && action <= U32_MAX;
  if (!u32 || (action & ~VFIO_IRQ_SET_ACTION_TYPE_MASK) !== 0 || popcount(action) !== 1) {
    throw new VfioRangeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `vfio_irq_set needs exactly one ACTION flag, got 0x${action.toString(16)}`,
    );
  }
  if (req.eventfds && req.bools)
    throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, 'vfio_irq_set takes eventfds or bools, not both');
  let data: Buffer = Buffer.alloc(0);
  let dataFlag = VFIO_IRQ_SET_DATA_NONE;
  if (req.eventfds) {
    if (req.eventfds.length !== count) {
      throw new VfioRangeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `vfio_irq_set: count is ${count} but ${req.eventfds.length} eventfds were given (one per vector)`,
      );
    }
    dataFlag = VFIO_IRQ_SET_DATA_EVENTFD;
    data = Buffer.alloc(4 * count);
    req.eventfds.forEach((fd, i) => {
      // An fd is an int32: past that, writeInt32LE would throw Node's own RangeError.
      if (!Number.isInteger(fd) || fd < -1 || fd > 0x7fff_ffff)
        throw new VfioRangeError(
          VfioErrorCode.INVALID_ARGUMENT,
          `vfio_irq_set: eventfd ${i} is ${fd}, not an fd or -1`,
        );
      data.writeInt32LE(fd, 4 * i);
    });
  } else if (req.bools) {
    if (req.bools.length !== count) {
      throw new VfioRangeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `vfio_irq_set: count is ${count} but ${req.bools.length} bools were given (one per vector)`,
      );
    }
    dataFlag = VFIO_IRQ_SET_DATA_BOOL;
    data = Buffer.from(req.bools.map((b) => (b ? 1 : 0)));
  }
  const flags = dataFlag | action;
  if ((flags & VFIO_IRQ_SET_DATA_TYPE_MASK) !== dataFlag)
    throw new VfioError(VfioErrorCode.INTERNAL, 'unreachable: data flag');
  const argsz = vfio_irq_set.size + data.length;
  const buf = structBuffer(vfio_irq_set, { argsz, flags, index, start, count }, argsz);
  data.copy(buf, vfio_irq_set.size);
  return buf;
}
