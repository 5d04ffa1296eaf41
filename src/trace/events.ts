/**
 * What a trace holds: one event per device operation, as plain data that survives JSON (the
 * JSON-lines output is the recording format that replay reads back). Values are numbers up to
 * 32 bits and bigints at 64, as the accessors take them; in JSON both are hex strings.
 */
import { VfioError, VfioErrorCode } from '../../structs/index.js';
import type { IrqFired } from '../vfio/index.js';
import { hex } from '../sys/index.js';

/** What happened. */
export type TraceKind =
  | 'open'
  | 'close'
  | 'read'
  | 'write'
  | 'read-bytes'
  | 'write-bytes'
  | 'dma-map'
  | 'dma-unmap'
  | 'irq-enable'
  | 'irq-disable'
  | 'irq-wait'
  | 'reset';

/** One traced operation. Which fields are present depends on `kind`. */
export interface TraceEvent {
  /**
   * When, in microseconds on `performance.now()`'s clock (since the process began); for
   * `irq-wait` and `reset`, when the call began. Outputs show it from the trace's start.
   */
  t: number;
  kind: TraceKind;
  /** The device's PCI address. */
  device: string;
  /** Accesses: the region (`BAR0`, `config`). */
  region?: string;
  /** Accesses: the byte offset in the region. */
  offset?: number;
  /** Register accesses: bits per access. */
  width?: 8 | 16 | 32 | 64;
  /** Register accesses: the value read or written. */
  value?: number | bigint;
  /** The register the access reached, from the map bound to the region (`CSTS`, `ASQ` or `ASQ.1` for a part). */
  register?: string;
  /** The name of that map (`nvme`): replay binds a shipped map of that name to decode what it reads. */
  map?: string;
  /** The value's fields, from that map (whole-register accesses only). */
  fields?: Record<string, unknown>;
  /** The decoded value as one line (`CSTS = 0x00000001 { RDY: 1, ... }`). */
  decoded?: string;
  /** Bulk accesses: the bytes, as hex. */
  data?: string;
  /** DMA: the device address and size in bytes. */
  iova?: bigint;
  size?: number;
  /** Interrupts: the type enabled (`msix`, `msi`, `intx`) and its vectors. */
  irq?: string;
  vectors?: number[];
  /** `irq-wait`: what fired (empty on a timeout). */
  fired?: IrqFired[];
  /** `irq-wait` and `reset`: how long the call took, in microseconds. */
  dur?: number;
  /** `reset`: `reset` or `hot reset`. */
  how?: string;
}

const BIG_KEYS = new Set(['iova']);

/** One event as a JSON line (no newline): values and IOVAs as hex strings, bigint fields as hex. */
export function eventToJson(e: TraceEvent): string {
  return JSON.stringify(e, (key, v: unknown) => {
    if (key === 'value') return hex(v as number | bigint, (e.width ?? 0) / 4); // padded to the access width
    if (typeof v === 'bigint') return hex(v);
    return v;
  });
}

function bad(line: number, why: string): never {
  throw new VfioError(VfioErrorCode.INVALID_ARGUMENT, `trace line ${line}: ${why}`);
}

/** An event read back from a JSON line; `line` (1-based) is for messages. */
export function eventFromJson(text: string, line: number): TraceEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    bad(line, `not JSON (${(e as Error).message}); a trace is JSON lines, as VFIO_TS_TRACE=jsonl:FILE writes`);
  }
  if (typeof raw !== 'object' || raw === null) bad(line, 'not an object');
  const e = raw as Record<string, unknown>;
  if (typeof e.kind !== 'string' || typeof e.device !== 'string' || typeof e.t !== 'number')
    bad(line, 'each event needs t, kind and device');
  if (e.value !== undefined) {
    if (typeof e.value !== 'string' || !/^0x[0-9a-f]+$/i.test(e.value))
      bad(line, `value ${JSON.stringify(e.value)} is not hex`);
    const big = BigInt(e.value);
    e.value = e.width === 64 ? big : Number(big);
  }
  for (const k of BIG_KEYS)
    if (e[k] !== undefined) {
      if (typeof e[k] !== 'string') bad(line, `${k} is not a hex string`);
      e[k] = BigInt(e[k]);
    }
  return e as unknown as TraceEvent;
}

/** The events of a JSON-lines trace (blank lines skipped). */
export function parseTrace(text: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim()) out.push(eventFromJson(l, i + 1));
  });
  return out;
}
