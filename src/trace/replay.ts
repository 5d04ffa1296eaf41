/**
 * Replaying a recording against a device: every write done again with its recorded value,
 * every read done and compared, stopping at the first difference with both values decoded.
 * A run of reads of one register (a poll) waits for the run's last value. DMA buffers of the
 * recorded sizes are allocated as recorded (their contents are not in a trace), interrupts
 * enabled and waited for, resets done. The regions are decoded through the maps the recording
 * named when they ship with the library (`nvme`, `e1000e`), or through maps bound beforehand.
 */
import { regionIndex, type Device, type Region } from '../vfio/index.js';
import type { DmaBuffer } from '../dma/index.js';
import { builtinMaps, mapsBoundTo } from '../regmap/index.js';
import {
  VFIO_PCI_BAR0_REGION_INDEX,
  VFIO_PCI_BAR5_REGION_INDEX,
  VfioError,
  VfioErrorCode,
} from '../../structs/index.js';
import type { TraceEvent } from './events.js';
import { ACCESSORS, accessEvent } from './region-hooks.js';
import { mismatch, readAgrees, stepsOf, type CompareOptions, type Step } from './compare.js';
import { now } from './observed.js';

/** `replay()`'s options. */
export interface ReplayOptions extends CompareOptions {
  /** How long a poll may take to reach its recorded value, in ms (default 5000). */
  pollTimeoutMs?: number;
  /** Called with each step as it is replayed (a progress line, a test's count). */
  onStep?: (step: Step, n: number) => void;
}

/** What a replay did. */
export interface ReplayResult {
  /** The device whose events were replayed, as recorded. */
  readonly recordedDevice: string;
  /** Steps replayed (a poll is one step). */
  readonly steps: number;
  /** Accesses made. */
  readonly accesses: number;
}

const HINT =
  'The device answers differently from the recording; if the register may differ (a counter, a timestamp), mark it volatile.';

/**
 * The replaying device's region by its recorded name (`BAR0`, `config`, `ROM`, `region 9`):
 * a BAR through `dev.bar(n)`, as a driver opens it (MSI-X pages unmapped, port I/O known).
 */
function regionOf(dev: Device, name: string | undefined): Region {
  const index = regionIndex(name ?? '');
  if (index !== undefined && index <= VFIO_PCI_BAR5_REGION_INDEX) return dev.bar(index - VFIO_PCI_BAR0_REGION_INDEX);
  if (index !== undefined) return dev.region(index);
  throw new VfioError(
    VfioErrorCode.INVALID_ARGUMENT,
    `trace names region '${String(name)}', which is not a region of ${dev.address}`,
  );
}

/** Binds the shipped map the recording decoded `e` with to its region, unless one is bound. */
function bindRecordedMap(region: Region, e: TraceEvent): void {
  if (!e.map || mapsBoundTo(region).length) return;
  const map = Object.hasOwn(builtinMaps, e.map) ? builtinMaps[e.map] : undefined;
  if (map && VFIO_PCI_BAR0_REGION_INDEX + map.bar === regionIndex(e.region ?? '')) map.bind(region);
}

/**
 * Replays the recorded events of one device (`parseTrace(text)` of a `jsonl` trace) against
 * `dev`; throws `ReplayMismatchError` at the first read that differs.
 */
export function replay(dev: Device, recorded: readonly TraceEvent[], options: ReplayOptions = {}): ReplayResult {
  const { device, steps } = stepsOf(recorded, options.device);
  const timeout = options.pollTimeoutMs ?? 5000;
  const buffers = new Map<bigint, DmaBuffer>();
  let accesses = 0;
  const read = (step: Step): void => {
    const e = step.last;
    const region = regionOf(dev, e.region);
    bindRecordedMap(region, e);
    const width = e.width ?? 32;
    const deadline = now() + timeout * 1000;
    for (;;) {
      const value = (region[ACCESSORS[width].read] as (o: number) => number | bigint).call(region, e.offset ?? 0);
      accesses++;
      const actual = accessEvent(device, region, 'read', e.offset ?? 0, width, value);
      if (readAgrees(e, actual, options)) return;
      if (step.reads < 2 || now() > deadline)
        throw mismatch(
          step,
          actual,
          step.reads < 2 ? 'a different value read' : `a poll that did not reach its value in ${timeout} ms`,
          HINT,
        );
    }
  };
  const one = (step: Step): void => {
    const e = step.first;
    switch (e.kind) {
      case 'read':
        return read(step);
      case 'write': {
        const region = regionOf(dev, e.region);
        bindRecordedMap(region, e);
        (region[ACCESSORS[e.width ?? 32].write] as (o: number, v: unknown) => void).call(
          region,
          e.offset ?? 0,
          e.value,
        );
        accesses++;
        return;
      }
      case 'write-bytes':
        accesses++;
        return regionOf(dev, e.region).writeBytes(e.offset ?? 0, Buffer.from(e.data ?? '', 'hex'));
      case 'read-bytes': {
        const data = Buffer.from(regionOf(dev, e.region).readBytes(e.offset ?? 0, e.size ?? 0)).toString('hex');
        accesses++;
        if (data !== e.data) throw mismatch(step, { ...e, data }, 'different bytes read', HINT);
        return;
      }
      case 'dma-map': {
        const buf = dev.dma.alloc(e.size ?? 4096);
        buffers.set(e.iova ?? 0n, buf);
        if (buf.iova !== e.iova)
          throw new VfioError(
            VfioErrorCode.INVALID_STATE,
            `replay of ${device} on ${dev.address}: the DMA buffer recorded at IOVA 0x${(e.iova ?? 0n).toString(16)} got 0x${buf.iova.toString(16)}; the recorded register values point at the recorded IOVAs, so replay on a freshly opened device (its own IOMMU context) as the recording was made`,
          );
        return;
      }
      case 'dma-unmap':
        buffers.get(e.iova ?? 0n)?.close();
        buffers.delete(e.iova ?? 0n);
        return;
      case 'irq-enable':
        dev.interrupts.enable(e.irq as 'msix', { start: e.vectors?.[0] ?? 0, count: e.vectors?.length });
        return;
      case 'irq-disable':
        return dev.interrupts.disable();
      case 'irq-wait': {
        if (!e.fired?.length) return;
        const fired = dev.interrupts.wait(timeout);
        if (!fired.length) throw mismatch(step, { ...e, fired }, `no interrupt within ${timeout} ms`, HINT);
        return;
      }
      case 'reset':
        return e.how === 'hot reset' ? dev.hotReset() : dev.reset();
    }
  };
  try {
    steps.forEach((step, n) => {
      options.onStep?.(step, n);
      one(step);
    });
  } finally {
    for (const b of buffers.values()) b.close();
  }
  return { recordedDevice: device, steps: steps.length, accesses };
}
