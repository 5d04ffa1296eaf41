/**
 * Tracing, recording and replay: every access of a device decoded through its register maps,
 * written as text, JSON lines or a Chrome trace; a recording replayed against a device, or a
 * run checked against it. `VFIO_TS_TRACE` traces a whole process (read when this loads).
 */
export type { TraceEvent, TraceKind } from './events.js';
export { parseTrace } from './events.js';
export type { TraceFormat } from './formats.js';
export type { TraceObserver } from './observed.js';
export type { Keeper } from './device-hooks.js';
export { Trace, trace, type TraceOptions } from './trace.js';
export { traceProcess, traceFromEnvironment, parseTraceSetting, type ProcessTraceOptions } from './process.js';
export type { CompareOptions, VolatileRule, Step } from './compare.js';
export { TraceCheck, checkTrace } from './check.js';
export { replay, type ReplayOptions, type ReplayResult } from './replay.js';
import { traceFromEnvironment } from './process.js';

/** The trace `VFIO_TS_TRACE` started, if it did. */
export const environmentTrace = traceFromEnvironment();
