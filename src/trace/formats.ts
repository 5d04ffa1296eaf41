/**
 * The three ways a trace is written: a line a person reads, a JSON line a tool reads (and
 * replay takes back), and the Chrome trace event format, which Perfetto's UI and
 * chrome://tracing open as a timeline with one track per device.
 */
import { hex } from '../sys/index.js';
import { eventToJson, type TraceEvent } from './events.js';

/** The formats a trace writes. */
export type TraceFormat = 'text' | 'jsonl' | 'chrome';

export const TRACE_FORMATS: readonly TraceFormat[] = ['text', 'jsonl', 'chrome'];

/** How an event after `start` (µs) reads as one line of text. */
export function textLine(e: TraceEvent, start: number): string {
  const at = `${((e.t - start) / 1000).toFixed(3).padStart(10)} ms ${e.device}`;
  switch (e.kind) {
    case 'read':
    case 'write': {
      const fields = e.decoded
        ? e.decoded.slice(e.decoded.indexOf('{') === -1 ? e.decoded.length : e.decoded.indexOf('{'))
        : '';
      const what = `${e.kind}${e.width}`.padEnd(7);
      const value = hex(e.value ?? 0, (e.width ?? 0) / 4);
      return `${at} ${e.region} ${hex(e.offset ?? 0, 4)} ${what} ${value}${e.register ? ` ${e.register}` : ''}${fields ? ` ${fields}` : ''}`;
    }
    case 'read-bytes':
    case 'write-bytes':
      return `${at} ${e.region} ${hex(e.offset ?? 0, 4)} ${e.kind} ${e.size} bytes ${(e.data ?? '').slice(0, 64)}${(e.data ?? '').length > 64 ? '...' : ''}`;
    case 'dma-map':
    case 'dma-unmap':
      return `${at} ${e.kind} iova ${hex(e.iova ?? 0n)} ${e.size} bytes`;
    case 'irq-enable':
      return `${at} irq-enable ${e.irq} vectors ${(e.vectors ?? []).join(',')}`;
    case 'irq-disable':
      return `${at} irq-disable ${e.irq ?? ''}`;
    case 'irq-wait': {
      const fired = e.fired?.length ? e.fired.map((f) => `vector ${f.vector} x${f.count}`).join(', ') : 'timed out';
      return `${at} irq-wait ${e.irq ?? ''} ${fired} after ${((e.dur ?? 0) / 1000).toFixed(3)} ms`;
    }
    case 'reset':
      return `${at} ${e.how ?? 'reset'} took ${((e.dur ?? 0) / 1000).toFixed(3)} ms`;
    default:
      return `${at} ${e.kind}`;
  }
}

/** One event as a JSON line. */
export function jsonLine(e: TraceEvent): string {
  return eventToJson(e);
}

/** A Chrome trace event: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU */
export interface ChromeEvent {
  name: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  s?: string;
  id?: string;
  args?: Record<string, unknown>;
}

/** Turns events into Chrome trace events: one thread (track) per device, named by its address. */
export class ChromeEvents {
  readonly #tids = new Map<string, number>();
  readonly #pid = process.pid;

  constructor(readonly start: number) {}

  /** The process's name, first in the file. */
  header(): ChromeEvent[] {
    return [{ name: 'process_name', ph: 'M', pid: this.#pid, args: { name: 'vfio-ts' } }];
  }

  /** The Chrome events for `e` (a device's first event also names its track). */
  of(e: TraceEvent): ChromeEvent[] {
    const out: ChromeEvent[] = [];
    let tid = this.#tids.get(e.device);
    if (tid === undefined) {
      tid = this.#tids.size + 1;
      this.#tids.set(e.device, tid);
      out.push({ name: 'thread_name', ph: 'M', pid: this.#pid, tid, args: { name: e.device } });
    }
    const base = { pid: this.#pid, tid, ts: e.t - this.start };
    const args = JSON.parse(jsonLine(e)) as Record<string, unknown>;
    delete args.t;
    delete args.device;
    switch (e.kind) {
      case 'read':
      case 'write':
      case 'read-bytes':
      case 'write-bytes':
        out.push({
          ...base,
          name: `${e.register ?? `${e.region} ${hex(e.offset ?? 0)}`} ${e.kind}`,
          cat: e.region === 'config' ? 'config' : 'mmio',
          ph: 'i',
          s: 't',
          args,
        });
        break;
      case 'dma-map':
      case 'dma-unmap':
        // A buffer's life is an async slice from its mapping to its unmapping, keyed by IOVA.
        out.push({
          ...base,
          name: `DMA ${e.size} bytes`,
          cat: 'dma',
          ph: e.kind === 'dma-map' ? 'b' : 'e',
          id: hex(e.iova ?? 0n),
          args,
        });
        break;
      case 'irq-wait':
        out.push({ ...base, name: 'irq wait', cat: 'irq', ph: 'X', dur: e.dur ?? 0, args });
        for (const f of e.fired ?? [])
          out.push({
            ...base,
            ts: base.ts + (e.dur ?? 0),
            name: `${e.irq ?? 'irq'} vector ${f.vector}`,
            cat: 'irq',
            ph: 'i',
            s: 't',
            args: { ...f },
          });
        break;
      case 'reset':
        out.push({ ...base, name: e.how ?? 'reset', cat: 'reset', ph: 'X', dur: e.dur ?? 0, args });
        break;
      default:
        out.push({ ...base, name: e.kind, cat: e.kind.startsWith('irq') ? 'irq' : 'device', ph: 'i', s: 't', args });
    }
    return out;
  }
}
