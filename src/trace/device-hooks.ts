/**
 * A traced device: its regions (those open and those it opens later, config space included),
 * its DMA buffers, its interrupts and its resets report to the trace. Each wrapper reports
 * after the call returns, so an event is something that happened.
 */
import { Device, Region, type Interrupts, type IrqFired } from '../vfio/index.js';
import { VfioErrorCode, VfioTypeError } from '../../structs/index.js';
import type { Dma, DmaBuffer, DmaPool } from '../dma/index.js';
import type { TraceEvent } from './events.js';
import { deviceOf, now, override, report, watch, type TraceObserver, type Watch } from './observed.js';
import { traceRegion } from './region-hooks.js';

/** What a trace keeps of what it switched on: the undo of each wrapping. */
export interface Keeper extends TraceObserver {
  /** Keeps the undo of a wrapping made for it, run when it stops. */
  keep(undo: () => void): void;
}

type Method = (...args: unknown[]) => unknown;

function methodOf(proto: object, name: string | symbol): Method {
  return (proto as Record<string | symbol, Method>)[name];
}

/** The class's getter `name`, to be called on an instance. */
function getterOf(proto: object, name: string): Method {
  const descriptor: { get?: unknown } | undefined = Object.getOwnPropertyDescriptor(proto, name);
  return descriptor?.get as Method;
}

/** An own getter `name` on `target` that hands what the class's getter gives to `then`. */
function overrideGetter<T>(target: object, name: string, get: Method, then: (value: T) => void): () => void {
  Object.defineProperty(target, name, {
    configurable: true,
    enumerable: false,
    get() {
      const value = get.call(target) as T;
      then(value);
      return value;
    },
  });
  return () => {
    delete (target as Record<string, unknown>)[name];
  };
}

/** Each observer of `w` takes `what` on too, keeping its undo. */
function spread(w: Watch, on: (o: Keeper, device: string) => () => void): void {
  for (const [o, device] of w.observers) (o as Keeper).keep(on(o as Keeper, device));
}

function traceBuffer(w: Watch, buffer: DmaBuffer): void {
  const { iova, size } = buffer; // a closed buffer refuses to tell
  report(w, { t: now(), kind: 'dma-map', device: deviceOf(w), iova, size });
  const close = methodOf(Object.getPrototypeOf(buffer) as object, 'close');
  override(buffer, 'close', () => {
    const open = !buffer.closed;
    close.call(buffer);
    if (open) report(w, { t: now(), kind: 'dma-unmap', device: deviceOf(w), iova, size });
  });
}

/** DMA: each buffer and pool allocated reports its mapping, and its unmapping when closed. */
export function traceDma(dma: Dma, observer: TraceObserver, device: string): () => void {
  return watch(dma, observer, device, (w) => {
    const proto = Object.getPrototypeOf(dma) as object;
    const alloc = methodOf(proto, 'alloc');
    const pool = methodOf(proto, 'pool');
    return [
      override(dma, 'alloc', (...args: unknown[]) => {
        const buffer = alloc.apply(dma, args) as DmaBuffer;
        traceBuffer(w, buffer);
        return buffer;
      }),
      override(dma, 'pool', (...args: unknown[]) => {
        const made = pool.apply(dma, args) as DmaPool;
        traceBuffer(w, made.buffer);
        return made;
      }),
    ];
  });
}

/** Interrupts: enabling, disabling and every wait (`events()` and `for await` wait through `waitAsync`). */
export function traceInterrupts(irq: Interrupts, observer: TraceObserver, device: string): () => void {
  return watch(irq, observer, device, (w) => {
    const proto = Object.getPrototypeOf(irq) as object;
    const enable = methodOf(proto, 'enable');
    const disable = methodOf(proto, 'disable');
    const wait = methodOf(proto, 'wait');
    const waitAsync = methodOf(proto, 'waitAsync');
    const waited = (t: number, fired: IrqFired[]): void =>
      report(w, { t, kind: 'irq-wait', device: deviceOf(w), irq: irq.type, fired, dur: now() - t });
    return [
      override(irq, 'enable', (...args: unknown[]) => {
        const type = enable.apply(irq, args) as string;
        report(w, { t: now(), kind: 'irq-enable', device: deviceOf(w), irq: type, vectors: irq.vectors });
        return type;
      }),
      override(irq, 'disable', () => {
        const type = irq.type;
        disable.call(irq);
        report(w, { t: now(), kind: 'irq-disable', device: deviceOf(w), irq: type });
      }),
      override(irq, 'wait', (...args: unknown[]) => {
        const t = now();
        const fired = wait.apply(irq, args) as IrqFired[];
        waited(t, fired);
        return fired;
      }),
      override(irq, 'waitAsync', (...args: unknown[]) => {
        const t = now();
        return (waitAsync.apply(irq, args) as Promise<IrqFired[]>).then((fired) => {
          waited(t, fired);
          return fired;
        });
      }),
    ];
  });
}

/**
 * Traces `dev` for `observer`: regions open now and opened later, config space, DMA,
 * interrupts, resets and the close. Returns the undo of the device's own wrappers (the
 * observer keeps the undo of each part it was given).
 */
export function traceDevice(dev: Device, observer: Keeper): () => void {
  const device = String(dev.address);
  for (const r of dev.openRegions()) observer.keep(traceRegion(r, observer, device));
  return watch(dev, observer, device, (w) => {
    const proto = Device.prototype;
    const region = methodOf(proto, 'region');
    const timed = (name: 'reset' | 'hotReset', how: string) => {
      const call = methodOf(proto, name);
      return override(dev, name, (...args: unknown[]) => {
        const t = now();
        call.apply(dev, args);
        const e: TraceEvent = { t, kind: 'reset', device: deviceOf(w), how, dur: now() - t };
        report(w, e);
      });
    };
    const close = methodOf(proto, 'close');
    return [
      override(dev, 'region', (...args: unknown[]) => {
        const r = region.apply(dev, args) as Parameters<typeof traceRegion>[0];
        spread(w, (o, d) => traceRegion(r, o, d));
        return r;
      }),
      overrideGetter<Interrupts>(dev, 'interrupts', getterOf(proto, 'interrupts'), (irq) =>
        spread(w, (o, d) => traceInterrupts(irq, o, d)),
      ),
      overrideGetter<Dma>(dev, 'dma', getterOf(proto, 'dma'), (dma) => spread(w, (o, d) => traceDma(dma, o, d))),
      timed('reset', 'reset'),
      timed('hotReset', 'hot reset'),
      override(dev, 'close', () => {
        if (!dev.closed) report(w, { t: now(), kind: 'close', device: deviceOf(w) });
        close.call(dev);
      }),
    ];
  });
}

/**
 * Traces `target` for `keeper`: a device (everything it does) or one region; anything else is
 * refused with `usage`, what the caller's method takes.
 */
export function traceTarget(target: Device | Region, keeper: Keeper, usage: string): void {
  if (target instanceof Device) keeper.keep(traceDevice(target, keeper));
  else if (target instanceof Region) keeper.keep(traceRegion(target, keeper, target.name.split(' of ')[1] ?? ''));
  else throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, usage);
}
