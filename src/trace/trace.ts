/**
 * `trace(target)`: every access of a device or a region, its DMA, interrupts and resets, as
 * text, JSON lines or a Chrome trace, and kept in memory when asked. Tracing replaces the
 * traced objects' methods by reporting ones and puts them back on `stop()`, so what is not
 * traced runs as if tracing did not exist.
 */
import { Device, Region } from '../vfio/index.js';
import { VfioTypeError, VfioErrorCode } from '../../structs/index.js';
import { INSPECT } from '../sys/index.js';
import type { TraceEvent } from './events.js';
import { ChromeEvents, jsonLine, textLine, TRACE_FORMATS, type TraceFormat } from './formats.js';
import { TraceOutput } from './output.js';
import { traceTarget, type Keeper } from './device-hooks.js';
import { now } from './observed.js';

/** How a trace is written and kept. */
export interface TraceOptions {
  /** `text` (default): a line each; `jsonl`: JSON lines (what replay reads); `chrome`: Chrome's trace event format. */
  format?: TraceFormat;
  /** Write to this file (created or truncated). Default: standard error, unless `write` or `output: false`. */
  file?: string;
  /** Hand the output to this function instead (`(s) => process.stdout.write(s)`). */
  write?: (chunk: string) => void;
  /** `false`: write nothing (keep the events with `keep`). */
  output?: boolean;
  /** Keep the events in `trace.events` (default false: a long trace would fill memory). */
  keep?: boolean;
}

/** Traces not stopped yet: the process's exit stops them, so no output is lost or left unfinished. */
const running = new Set<Trace>();
let stopAtExit = false;

function stopAll(): void {
  for (const t of [...running]) t.stop();
}

/** A running trace: `add()` more devices or regions, `stop()` (or `using`) to end it. */
export class Trace implements Keeper, Disposable {
  /** The events so far, when made with `keep: true` (else empty). */
  readonly events: TraceEvent[] = [];
  /** The format written. */
  readonly format: TraceFormat;
  /** When it began, in microseconds on `performance.now()`'s clock. */
  readonly start = now();
  readonly #keep: boolean;
  readonly #output: TraceOutput | undefined;
  readonly #chrome: ChromeEvents | undefined;
  readonly #undo = new Set<() => void>();
  #first = true;
  #stopped = false;
  #count = 0;

  constructor(options: TraceOptions = {}) {
    const format = options.format ?? 'text';
    if (!TRACE_FORMATS.includes(format))
      throw new VfioTypeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `trace format must be one of ${TRACE_FORMATS.join(', ')}, got ${String(format)}`,
      );
    this.format = format;
    this.#keep = options.keep === true;
    if (options.output !== false) this.#output = new TraceOutput(options.file, options.write);
    running.add(this); // once its output exists: a refused file leaves nothing to stop
    if (!stopAtExit) {
      stopAtExit = true;
      process.once('exit', stopAll);
    }
    if (format === 'chrome') {
      this.#chrome = new ChromeEvents(this.start);
      this.#output?.write('{"traceEvents":[\n');
      for (const c of this.#chrome.header()) this.#chrome0(c);
    }
  }

  /** How many events it has seen. */
  get count(): number {
    return this.#count;
  }

  /** Whether `stop()` was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  #chrome0(c: object): void {
    this.#output?.write(`${this.#first ? '' : ',\n'}${JSON.stringify(c)}`);
    this.#first = false;
  }

  /** Traces `target` too: a device (everything it does) or one region. */
  add(target: Device | Region): this {
    if (this.#stopped)
      throw new VfioTypeError(VfioErrorCode.CLOSED, 'this trace is stopped: start another with trace()');
    if ((target instanceof Device || target instanceof Region) && target.closed)
      throw new VfioTypeError(VfioErrorCode.CLOSED, `${target.name} is closed: trace a device or region that is open`);
    traceTarget(target, this, 'trace() takes a Device (openDevice(...)) or a Region (dev.bar(0))');
    return this;
  }

  /** @internal Keeps the undo of a wrapping. */
  keep(undo: () => void): void {
    this.#undo.add(undo);
  }

  /** @internal An event from a traced object. */
  event(e: TraceEvent): void {
    if (this.#stopped) return;
    this.#count++;
    if (this.#keep) this.events.push(e);
    const out = this.#output;
    if (!out) return;
    if (this.#chrome) for (const c of this.#chrome.of(e)) this.#chrome0(c);
    else out.write(`${this.format === 'jsonl' ? jsonLine(e) : textLine(e, this.start)}\n`);
  }

  /** Writes what is gathered so far (a trace writes in blocks). */
  flush(): void {
    this.#output?.flush();
  }

  /** Stops tracing (the traced objects get their own methods back) and finishes the output. Safe twice. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    running.delete(this);
    for (const u of [...this.#undo].reverse()) u();
    this.#undo.clear();
    if (this.#chrome) this.#output?.write('\n]}\n');
    this.#output?.end();
  }

  /** `stop()`, for `using`. */
  [Symbol.dispose](): void {
    this.stop();
  }

  /** One line: the format, where it goes, how many events. */
  [INSPECT](): string {
    return `Trace <${this.format}${this.#output ? ` to ${this.#output.name}` : ''}, ${this.#count} events${this.#stopped ? ', stopped' : ''}>`;
  }
}

/**
 * Traces a device (every region access, DMA mapping, interrupt and reset) or one region,
 * until `stop()`. Accesses are decoded through the register map bound to the region.
 *
 * @example
 * ```ts
 * using t = trace(dev, { format: 'jsonl', file: 'bring-up.jsonl' });
 * ```
 */
export function trace(target: Device | Region, options: TraceOptions = {}): Trace {
  const t = new Trace(options);
  try {
    return t.add(target);
  } catch (e) {
    t.stop();
    throw e;
  }
}
