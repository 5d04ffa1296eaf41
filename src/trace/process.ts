/**
 * Tracing every device a process opens: `traceProcess()`, or the environment
 * (`VFIO_TS_TRACE=FORMAT[:FILE]`, `VFIO_TS_TRACE_DEVICES=ADDRESS,...`), which is how
 * `vfio trace -- COMMAND` traces a program without changing it.
 */
import { VfioError, VfioErrorCode } from '../../structs/index.js';
import { parsePciAddress } from '../pci/index.js';
import { watchDeviceOpens } from '../vfio/index.js';
import { now } from './observed.js';
import { TRACE_FORMATS, type TraceFormat } from './formats.js';
import { Trace, type TraceOptions } from './trace.js';

/** `traceProcess()`'s options: a trace's, and which devices. */
export interface ProcessTraceOptions extends TraceOptions {
  /** Only these PCI addresses (default: every device). */
  devices?: readonly string[];
}

/** Traces every device opened from now on (however it is opened) until the trace stops. */
export function traceProcess(options: ProcessTraceOptions = {}): Trace {
  const only = options.devices?.map((a) => parsePciAddress(a));
  const t = new Trace(options);
  t.keep(
    watchDeviceOpens((dev) => {
      if (t.stopped || (only && !only.includes(dev.address))) return;
      t.event({ t: now(), kind: 'open', device: dev.address });
      t.add(dev);
    }),
  );
  return t;
}

/** What `VFIO_TS_TRACE` asks for, or a reason it is not understood. */
export function parseTraceSetting(setting: string): { format: TraceFormat; file?: string } | string {
  const colon = setting.indexOf(':');
  const name = colon === -1 ? setting : setting.slice(0, colon);
  const file = colon === -1 ? undefined : setting.slice(colon + 1);
  const format = (name === '1' || name === '' ? 'text' : name) as TraceFormat;
  if (!TRACE_FORMATS.includes(format)) return `format '${name}' is not one of ${TRACE_FORMATS.join(', ')}`;
  if (format === 'chrome' && !file) return 'the chrome format needs a file: chrome:FILE';
  if (file === '') return 'no file after the colon';
  return { format, file };
}

/**
 * Starts the trace `VFIO_TS_TRACE` asks for (ended when the process exits); a setting it does
 * not understand is a warning (code `VFIO_TS_TRACE`), not a failure of the program.
 */
export function traceFromEnvironment(env: NodeJS.ProcessEnv = process.env): Trace | undefined {
  const setting = env.VFIO_TS_TRACE;
  if (setting === undefined || setting === '' || setting === '0') return undefined;
  const parsed = parseTraceSetting(setting);
  try {
    if (typeof parsed === 'string') throw new VfioError(VfioErrorCode.INVALID_ARGUMENT, parsed);
    const devices = env.VFIO_TS_TRACE_DEVICES?.split(',').filter(Boolean);
    return traceProcess({ ...parsed, devices }); // stopped at exit, as every trace
  } catch (e) {
    process.emitWarning(
      `VFIO_TS_TRACE=${setting}: not tracing: ${(e as Error).message} (VFIO_TS_TRACE=text, jsonl:FILE or chrome:FILE)`,
      { code: 'VFIO_TS_TRACE' },
    );
    return undefined;
  }
}
