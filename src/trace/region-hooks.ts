/**
 * A traced region: its eight accessors and two bulk copies report each access, decoded through
 * the register map bound to the region when there is one (`map.bind(region)` notes it).
 */
import { Region, regionName } from '../vfio/index.js';
import { registerAt, type RegisterDef } from '../regmap/index.js';
import type { TraceEvent } from './events.js';
import { beforeWrite, deviceOf, now, override, report, watch, type TraceObserver } from './observed.js';

type Width = 8 | 16 | 32 | 64;
type Value = number | bigint;

/** `Region`'s accessor names by access width: what tracing wraps and replay calls. */
export const ACCESSORS = {
  8: { read: 'read8', write: 'write8' },
  16: { read: 'read16', write: 'write16' },
  32: { read: 'read32', write: 'write32' },
  64: { read: 'read64', write: 'write64' },
} as const;
const WIDTHS: readonly Width[] = [8, 16, 32, 64];

/**
 * The parts of a register wider than its accesses seen so far, lowest first, in one direction:
 * when the last part comes, the event carries the whole register decoded (CAP read as two
 * halves shows its fields on the second).
 */
export interface PartsSeen {
  register?: RegisterDef;
  kind?: string;
  value: bigint;
  next: number;
}

/** Fills in the fields of `value` as register `r` holds them. */
function decodeWhole(e: TraceEvent, r: RegisterDef, value: Value): void {
  try {
    const decoded = r.decode(value);
    const fields: Record<string, unknown> = {};
    for (const k of Object.keys(decoded)) if (k !== 'raw') fields[k] = decoded[k];
    e.fields = fields;
    e.decoded = (decoded as { toString(): string }).toString();
  } catch {
    // A value the register cannot hold: the access itself will say so.
  }
}

/** The register an access reached and its value decoded, when a map bound to the region has it. */
function decodeInto(
  e: TraceEvent,
  region: Region,
  offset: number,
  width: Width,
  value: Value,
  parts?: PartsSeen,
): void {
  const at = registerAt(region, offset, width);
  if (!at) return;
  const r = at.register;
  e.map = at.map;
  if (at.whole) {
    e.register = r.name;
    return decodeWhole(e, r, value);
  }
  const lsb = at.part * width;
  e.register = `${r.name} (bits ${lsb + width - 1}:${lsb})`;
  if (!parts) return;
  if (at.part === 0) Object.assign(parts, { register: r, kind: e.kind, value: 0n, next: 0 });
  if (parts.register !== r || parts.kind !== e.kind || parts.next !== at.part) return void (parts.register = undefined);
  parts.value |= BigInt(value) << BigInt(lsb);
  parts.next++;
  if (parts.next * width < r.width) return;
  parts.register = undefined;
  decodeWhole(e, r, r.width > 32 ? parts.value : Number(parts.value));
}

/**
 * The region an access event came from, so a mismatch can decode the recorded value the same
 * way: a symbol key, which JSON leaves out (a WeakMap entry per access would cost more).
 */
const ORIGIN = Symbol('region');
type WithOrigin = TraceEvent & { [ORIGIN]?: Region };

/**
 * `recorded` (a read or write) decoded through the maps bound to the region `like` (a live
 * event) came from; `recorded` as it is when `like` has no region or the access differs.
 */
export function decodedLike(recorded: TraceEvent, like: TraceEvent | undefined): TraceEvent {
  const region = like === undefined ? undefined : (like as WithOrigin)[ORIGIN];
  if (!region || recorded.value === undefined || (recorded.kind !== 'read' && recorded.kind !== 'write'))
    return recorded;
  const again = accessEvent(
    recorded.device,
    region,
    recorded.kind,
    recorded.offset ?? 0,
    recorded.width ?? 32,
    recorded.value,
  );
  return { ...recorded, register: again.register, map: again.map, fields: again.fields, decoded: again.decoded };
}

/** The event of one register access. */
export function accessEvent(
  device: string,
  region: Region,
  kind: 'read' | 'write',
  offset: number,
  width: Width,
  value: Value,
  parts?: PartsSeen,
): TraceEvent {
  const e: TraceEvent = {
    t: now(),
    kind,
    device,
    region: regionName(region.info.index),
    offset,
    width,
    value,
  };
  if (typeof offset === 'number') decodeInto(e, region, offset, width, value, parts);
  (e as WithOrigin)[ORIGIN] = region;
  return e;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Wraps `region`'s accessors for `observer`, on behalf of device `device`; returns the undo. */
export function traceRegion(region: Region, observer: TraceObserver, device: string): () => void {
  return watch(region, observer, device, (w) => {
    const proto = Region.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    const undo: Array<() => void> = [];
    const parts: PartsSeen = { value: 0n, next: 0 };
    for (const width of WIDTHS) {
      const read = proto[ACCESSORS[width].read];
      undo.push(
        override(region, ACCESSORS[width].read, (offset: number) => {
          const value = read.call(region, offset) as Value;
          report(w, accessEvent(deviceOf(w), region, 'read', offset, width, value, parts));
          return value;
        }),
      );
    }
    for (const width of WIDTHS) {
      const write = proto[ACCESSORS[width].write];
      undo.push(
        override(region, ACCESSORS[width].write, (offset: number, value: Value) => {
          const e = accessEvent(deviceOf(w), region, 'write', offset, width, value, parts);
          beforeWrite(w, e);
          write.call(region, offset, value);
          report(w, e);
        }),
      );
    }
    const readBytes = proto.readBytes;
    const writeBytes = proto.writeBytes;
    const bulk = (kind: 'read-bytes' | 'write-bytes', offset: number, data: Uint8Array): TraceEvent => ({
      t: now(),
      kind,
      device: deviceOf(w),
      region: regionName(region.info.index),
      offset,
      size: data?.length,
      data: data instanceof Uint8Array ? toHex(data) : undefined,
    });
    undo.push(
      override(region, 'readBytes', (offset: number, length: number) => {
        const data = readBytes.call(region, offset, length) as Uint8Array;
        report(w, bulk('read-bytes', offset, data));
        return data;
      }),
      override(region, 'writeBytes', (offset: number, data: Uint8Array) => {
        const e = bulk('write-bytes', offset, data);
        beforeWrite(w, e);
        writeBytes.call(region, offset, data);
        report(w, e);
      }),
    );
    return undo;
  });
}
