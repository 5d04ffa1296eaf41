/**
 * What `vfio repl` puts in scope besides the library: `hexdump`, `decodeConfig`, `hex`,
 * `sleep`, and the text `.help` prints about them. Helpers return values the REPL prints as
 * text (`Printed`, or a report with its own `inspect`), so the REPL shows a dump, not a quoted
 * string with `\n` in it, and a script can still take them apart.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { inspect, types } from 'node:util';
import type { ConfigSpace, Device, DmaBuffer, DmaPoolEntry, Region, Trace, TraceOptions } from '../index.js';
import { trace } from '../trace/index.js';
import { hexDump } from './format.js';
import { deviceReport, formatDeviceReport, type DeviceReport } from './info.js';
import { VfioError, VfioErrorCode, VfioRangeError, VfioTypeError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

/** Text the REPL (and `console.log`) prints as it is; `String(x)` and `x.text` give it too. */
export class Printed {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }

  [inspect.custom](): string {
    return this.text;
  }
}

/** What `hexdump` reads: device registers, config space, DMA memory or plain bytes. */
export type Dumpable = Region | ConfigSpace | DmaBuffer | DmaPoolEntry | Uint8Array;

/** How much `hexdump` shows of a region, config space or DMA buffer when no length is given. */
export const DEFAULT_DUMP_LENGTH = 256;

/**
 * `length` bytes from `offset` read as 32-bit words, one access each (registers such as edu's
 * answer only 4-byte accesses; a bulk copy picks its own widths). Little-endian, as PCI is.
 */
function readWords(read32: (offset: number) => number, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer); // a plain buffer, not MMIO
  for (let at = 0; at < length; at += 4) view.setUint32(at, read32(offset + at), true);
  return bytes;
}

/** The bytes `hexdump` shows. Duck-typed, so objects of another copy of the library work too. */
function dumpBytes(source: Dumpable, offset: number, length: number | undefined): Uint8Array {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `offset must be an integer >= 0, got ${offset}`);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0))
    throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `length must be an integer >= 0, got ${length}`);
  if (types.isUint8Array(source)) return source.subarray(offset, length === undefined ? undefined : offset + length);
  if ('pool' in source && 'bytes' in source) return dumpBytes(source.bytes, offset, length); // DmaPoolEntry
  const size = (source as { size: number }).size;
  const n = length ?? Math.max(0, Math.min(DEFAULT_DUMP_LENGTH, size - offset));
  if ('view' in source && 'iova' in source) return source.view(offset, n); // DmaBuffer
  if (!('readBytes' in source) && !('capabilities' in source)) {
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      'hexdump takes a Region (bar0), dev.config, a DmaBuffer, a DmaPoolEntry or a Uint8Array',
    );
  }
  const what = 'readBytes' in source ? source.name : 'config space';
  if (offset + n > size)
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `${n} bytes at ${hex(offset)} are outside ${what} (${hex(size)} bytes)`,
    );
  // Registers word by word where the range allows (a bulk copy picks its own access widths);
  // config space is read in words anyway, unaligned ends trimmed.
  if ('readBytes' in source && (offset % 4 !== 0 || n % 4 !== 0)) return source.readBytes(offset, n);
  const start = offset & ~3;
  const words = readWords((o) => source.read32(o), start, (offset + n - start + 3) & ~3);
  return words.subarray(offset - start, offset - start + n);
}

/**
 * A hex dump (as `vfio config` prints: `00: 34 12 e8 11 ...`, 16 bytes a line, offsets from
 * the start of `source`). Regions and config space are read in 32-bit words where the range is
 * aligned; regions, config space and DMA buffers show their first 256 bytes unless told.
 */
export function hexdump(source: Dumpable, offset = 0, length?: number): Printed {
  return new Printed(hexDump(dumpBytes(source, offset, length), offset));
}

/** A device report that prints as `vfio info` does, and keeps its fields for scripts. */
export type PrintedReport = DeviceReport & { [inspect.custom](): string };

/**
 * What `vfio info` shows of `device`, as its report: the IDs, command register and class, the
 * decoded capabilities (MSI, MSI-X, PCIe, PM) and extended capabilities and the BARs from
 * config space, with VFIO's regions, irqs and the IOMMU. Prints as `vfio info` does.
 */
export function decodeConfig(device: Device): PrintedReport {
  const report = deviceReport(device);
  Object.defineProperty(report, inspect.custom, { value: () => formatDeviceReport(report), enumerable: false });
  return report as PrintedReport;
}

/** One helper as `.help` lists it. */
export interface HelperDoc {
  usage: string;
  what: string;
}

/** The helpers `vfio repl` defines, with `dev` (the device of the command line) as default. */
export function replHelpers(dev: Device | undefined): Record<string, unknown> {
  const device = (given: Device | undefined, helper: string): Device => {
    if (given) return given;
    if (dev) return dev;
    throw new VfioError(
      VfioErrorCode.INVALID_STATE,
      `${helper}() needs a device: ${helper}(openDevice('00:03.0')), or start vfio repl ADDRESS`,
    );
  };
  let tracing: Trace | undefined;
  /** One trace at a time, printed in the REPL: a new call ends the last; `trace(null)` just ends it. */
  const traceHelper = (target?: Device | Region | null, options: TraceOptions = {}): Trace | Printed => {
    tracing?.stop();
    tracing = undefined;
    if (target === null) return new Printed('tracing stopped');
    const what = target ?? device(undefined, 'trace');
    tracing = trace(what, { write: (s) => void process.stdout.write(s), ...options });
    return tracing;
  };
  return {
    hexdump,
    decodeConfig: (d?: Device) => decodeConfig(device(d, 'decodeConfig')),
    trace: traceHelper,
    hex,
    sleep: (ms: number) => delay(ms),
  };
}

/** `.help`'s lines about the helpers, in the order above. */
export const HELPER_DOCS: HelperDoc[] = [
  {
    usage: 'hexdump(x, offset?, length?)',
    what: 'hex dump of bar0, dev.config, a DmaBuffer or bytes (first 256 unless told)',
  },
  { usage: 'decodeConfig(device = dev)', what: 'what `vfio info` shows (capabilities, BARs, irqs, ...)' },
  {
    usage: 'trace(x = dev, options?)',
    what: 'print every access of a device or region decoded (trace(null) stops; options as the API trace)',
  },
  { usage: 'hex(n, digits?)', what: "a number or bigint as '0x...'" },
  { usage: 'sleep(ms)', what: 'a promise resolved after ms milliseconds: await sleep(10)' },
];
