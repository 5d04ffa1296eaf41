/**
 * Who watches an object: tracing replaces a traced object's methods by own properties that
 * report to its observers and call the class's method. An object nobody traces keeps its
 * class's methods, so tracing costs nothing until it is switched on; the last observer leaving
 * deletes the own properties again.
 */
import type { TraceEvent } from './events.js';

/** What a trace (or a replay check) is told. */
export interface TraceObserver {
  /** An operation that happened. */
  event(e: TraceEvent): void;
  /** A register or bulk write about to reach the device: throwing stops it there. */
  beforeWrite?(e: TraceEvent): void;
}

/** The observers of one object, each with the device it is traced for, and how to undo the wrapping. */
export interface Watch {
  readonly observers: Map<TraceObserver, string>;
  readonly undo: Array<() => void>;
  /** Each observer's one way out, so watching again hands back the same function. */
  readonly leave: Map<TraceObserver, () => void>;
}

const watches = new WeakMap<object, Watch>();

/**
 * Adds `observer` to `target`'s watchers (for `device`); the first one installs the wrappers
 * `install` makes. Returns what removes the observer (and the wrappers with the last one): the
 * same function however often the observer is added, so a keeper of undos can tell.
 */
export function watch(
  target: object,
  observer: TraceObserver,
  device: string,
  install: (w: Watch) => Array<() => void>,
): () => void {
  let w = watches.get(target);
  if (!w) {
    w = { observers: new Map(), undo: [], leave: new Map() };
    watches.set(target, w);
    w.undo.push(...install(w));
  }
  const known = w.leave.get(observer);
  if (known) return known;
  w.observers.set(observer, device);
  const mine = w;
  const leave = (): void => {
    mine.observers.delete(observer);
    mine.leave.delete(observer);
    if (mine.observers.size === 0 && watches.get(target) === mine) {
      watches.delete(target);
      for (const u of mine.undo.reverse()) u();
    }
  };
  w.leave.set(observer, leave);
  return leave;
}

/** Tells every observer of `w` about `e`. */
export function report(w: Watch, e: TraceEvent): void {
  for (const o of w.observers.keys()) o.event(e);
}

/** Lets every observer of `w` stop a write before it happens. */
export function beforeWrite(w: Watch, e: TraceEvent): void {
  for (const o of w.observers.keys()) o.beforeWrite?.(e);
}

/** The device the first observer traces `w` for. */
export function deviceOf(w: Watch): string {
  return w.observers.values().next().value ?? '';
}

/** Puts `value` on `target` as an own, non-enumerable property `name`; returns the undo. */
export function override(target: object, name: string | symbol, value: unknown): () => void {
  Object.defineProperty(target, name, { value, configurable: true, writable: true, enumerable: false });
  return () => {
    delete (target as Record<string | symbol, unknown>)[name];
  };
}

/** Now, in microseconds on `performance.now()`'s clock. */
export function now(): number {
  return performance.now() * 1000;
}
