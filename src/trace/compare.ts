/**
 * What replay and checking share: the recording cut into steps (a run of reads of one register
 * is one step, a poll), the rules for reads that may differ, and the message of a difference,
 * with both values decoded.
 */
import { ReplayMismatchError } from '../../structs/index.js';
import { hex } from '../sys/index.js';
import type { TraceEvent } from './events.js';
import { decodedLike } from './region-hooks.js';

/**
 * How a read marked volatile is compared: `'any'` (not at all), only the bits of `mask`, only
 * the named `fields` (through the map the trace decoded with), or a function of the recorded
 * event and the value read.
 */
export type VolatileRule =
  | 'any'
  | { mask: number | bigint }
  | { fields: readonly string[] }
  | ((recorded: TraceEvent, actual: number | bigint) => boolean);

/** Options of `replay()` and `checkTrace()`. */
export interface CompareOptions {
  /**
   * Reads compared by a rule instead of by value, keyed by register name (`CSTS`, `SQTDBL[1]`)
   * or by `REGION@OFFSET` (`BAR0@0x1c`) for registers no map names.
   */
  volatile?: Readonly<Record<string, VolatileRule>>;
  /** The device's events to take when the trace has several devices (default: the first device's). */
  device?: string;
}

/** One step of a recording: an event, or a run of reads of one register (a poll) ending at `last`. */
export interface Step {
  /** The step's first event's number among the device's events (1-based), for messages. */
  readonly index: number;
  readonly first: TraceEvent;
  readonly last: TraceEvent;
  /** How many reads the run has (1 for everything else). */
  readonly reads: number;
}

const KINDS = new Set([
  'read',
  'write',
  'read-bytes',
  'write-bytes',
  'dma-map',
  'dma-unmap',
  'irq-enable',
  'irq-disable',
  'irq-wait',
  'reset',
]);

/** Where an access lands: `BAR0@0x1c/32`. */
export function accessKey(e: TraceEvent): string {
  return `${e.region}@${hex(e.offset ?? 0)}/${e.width ?? e.size}`;
}

/** The events of one device (`device`, else the first seen), cut into steps. */
export function stepsOf(events: readonly TraceEvent[], device?: string): { device: string; steps: Step[] } {
  const dev = device ?? events.find((e) => KINDS.has(e.kind))?.device ?? '';
  const mine = events.filter((e) => e.device === dev && KINDS.has(e.kind));
  const steps: Step[] = [];
  mine.forEach((e, i) => {
    const prev = steps.at(-1);
    if (e.kind === 'read' && prev?.last.kind === 'read' && accessKey(prev.last) === accessKey(e))
      steps[steps.length - 1] = { ...prev, last: e, reads: prev.reads + 1 };
    else steps.push({ index: i + 1, first: e, last: e, reads: e.kind === 'read' ? 1 : 0 });
  });
  return { device: dev, steps };
}

/** The rule for the register `e` reached, if one is given. */
function ruleFor(e: TraceEvent, options: CompareOptions): VolatileRule | undefined {
  const rules = options.volatile;
  if (!rules) return undefined;
  return (e.register && rules[e.register.split(' ')[0]]) || rules[`${e.region}@${hex(e.offset ?? 0)}`];
}

/** Whether a read of `actual` agrees with the recorded read `recorded`, by value or by its rule. */
export function readAgrees(recorded: TraceEvent, actual: TraceEvent, options: CompareOptions): boolean {
  const rule = ruleFor(recorded, options);
  const want = recorded.value;
  const got = actual.value;
  if (rule === undefined) return want === got;
  if (rule === 'any') return true;
  if (typeof rule === 'function') return rule(recorded, got ?? 0);
  if ('mask' in rule) return (BigInt(want ?? 0) & BigInt(rule.mask)) === (BigInt(got ?? 0) & BigInt(rule.mask));
  return rule.fields.every((f) => recorded.fields?.[f] === actual.fields?.[f]);
}

/** An access as a message names it: `BAR0 0x24 AQA write32`. */
export function describeAccess(e: TraceEvent): string {
  const at = `${e.region} ${hex(e.offset ?? 0)}${e.register ? ` ${e.register}` : ''}`;
  if (e.kind === 'read' || e.kind === 'write') return `${at} ${e.kind}${e.width}`;
  if (e.kind === 'read-bytes' || e.kind === 'write-bytes') return `${at} ${e.kind} (${e.size} bytes)`;
  return e.kind;
}

/** A value as a message shows it: decoded when a map was bound, else hex. */
export function shown(e: TraceEvent | undefined): string {
  if (!e) return 'nothing (the run ended)';
  if (e.decoded) return e.decoded;
  if (e.value !== undefined) return hex(e.value, (e.width ?? 0) / 4);
  if (e.data !== undefined) return `bytes ${e.data.slice(0, 64)}${e.data.length > 64 ? '...' : ''}`;
  return describeAccess(e);
}

/** The error for a difference at `step`: where, what was recorded, what happened. */
export function mismatch(step: Step, actual: TraceEvent | undefined, what: string, hint: string): ReplayMismatchError {
  const recorded = decodedLike(step.last, actual);
  return new ReplayMismatchError(
    `${what} at event ${step.index} (${describeAccess(step.first)}) of ${recorded.device}: recorded ${shown(recorded)}, ${actual ? `got ${shown(actual)}` : 'but the run ended'}. ${hint}`,
    step.index,
    recorded,
    actual,
  );
}

/** Whether a live event is the same operation as a recorded one (writes: also the same value). */
export function sameOperation(recorded: TraceEvent, actual: TraceEvent): boolean {
  if (recorded.kind !== actual.kind) return false;
  switch (recorded.kind) {
    case 'read':
    case 'write':
    case 'read-bytes':
    case 'write-bytes':
      return accessKey(recorded) === accessKey(actual);
    case 'dma-map':
    case 'dma-unmap':
      return recorded.size === actual.size;
    case 'irq-enable':
      return recorded.irq === actual.irq && recorded.vectors?.length === actual.vectors?.length;
    default:
      return true;
  }
}
