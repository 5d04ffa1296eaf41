/**
 * A run checked against a recording: the program runs as it does, and every access it makes is
 * compared with the recorded one in order. A write that differs is stopped before it reaches
 * the device; a read is compared when the program moves on (a poll may take more or fewer
 * reads than it did when recorded: what counts is the value it ended on). The first
 * difference throws `ReplayMismatchError` with both values decoded, and checking stops there,
 * so the program's clean-up runs unchecked.
 */
import type { Device, Region } from '../vfio/index.js';
import type { ReplayMismatchError } from '../../structs/index.js';
import { INSPECT } from '../sys/index.js';
import type { TraceEvent } from './events.js';
import { traceTarget, type Keeper } from './device-hooks.js';
import { accessKey, mismatch, readAgrees, sameOperation, stepsOf, type CompareOptions, type Step } from './compare.js';

const HINT =
  'The run differs from the recording here; if the register may differ (a counter, a timestamp), mark it volatile.';

/** A run being compared with a recording: `add(dev)`, run the program, then `end()`. */
export class TraceCheck implements Keeper, Disposable {
  readonly #steps: Step[];
  readonly #options: CompareOptions;
  readonly #undo = new Set<() => void>();
  #at = 0;
  /** The live reads of one register since the last other access. */
  #run: { key: string; last: TraceEvent } | undefined;
  #failure: ReplayMismatchError | undefined;
  #ended = false;

  constructor(recorded: readonly TraceEvent[], options: CompareOptions = {}) {
    this.#steps = stepsOf(recorded, options.device).steps;
    this.#options = options;
  }

  /** The first difference found, if any. */
  get failure(): ReplayMismatchError | undefined {
    return this.#failure;
  }

  /** How many recorded steps the run has matched so far. */
  get matched(): number {
    return this.#at;
  }

  /** Compares what `target` (a device, or one region) does from now on. */
  add(target: Device | Region): this {
    traceTarget(target, this, 'checkTrace().add() takes a Device or a Region');
    return this;
  }

  /** @internal */
  keep(undo: () => void): void {
    this.#undo.add(undo);
  }

  #fail(step: Step | undefined, actual: TraceEvent | undefined, what: string): never {
    const err = step
      ? mismatch(step, actual, what, HINT)
      : mismatch(
          { index: this.#at + 1, first: actual!, last: actual!, reads: 0 },
          actual,
          'an access past the end of the recording',
          'The run does more than was recorded.',
        );
    this.#failure = err;
    this.#stopWatching();
    throw err;
  }

  /** Compares the finished run of reads with the recorded step. */
  #settle(): void {
    const run = this.#run;
    if (!run) return;
    this.#run = undefined;
    const step = this.#steps[this.#at];
    if (!step || !sameOperation(step.last, run.last)) this.#fail(step, run.last, 'a different access');
    if (!readAgrees(step.last, run.last, this.#options)) this.#fail(step, run.last, 'a different value read');
    this.#at++;
  }

  /** @internal */
  beforeWrite(e: TraceEvent): void {
    if (this.#failure || this.#ended) return;
    this.#settle();
    const step = this.#steps[this.#at];
    if (!step || !sameOperation(step.first, e)) this.#fail(step, e, 'a different access');
    if (step.first.value !== e.value || step.first.data !== e.data) this.#fail(step, e, 'a different value written');
  }

  /** @internal */
  event(e: TraceEvent): void {
    if (this.#failure || this.#ended) return;
    if (e.kind === 'write' || e.kind === 'write-bytes') {
      this.#at++; // compared before it happened
      return;
    }
    if (e.kind === 'read') {
      const key = accessKey(e);
      if (this.#run?.key !== key) this.#settle();
      this.#run = { key, last: e };
      return;
    }
    if (e.kind === 'open' || e.kind === 'close') return;
    this.#settle();
    const step = this.#steps[this.#at];
    if (!step || !sameOperation(step.first, e)) this.#fail(step, e, 'a different operation');
    if (e.kind === 'read-bytes' && step.first.data !== e.data) this.#fail(step, e, 'different bytes read');
    this.#at++;
  }

  #stopWatching(): void {
    for (const u of [...this.#undo].reverse()) u();
    this.#undo.clear();
  }

  /**
   * Ends the check: compares the last reads, and throws the first difference, or that the run
   * stopped before the recording did. Safe twice (the second call only rethrows).
   */
  end(): void {
    if (!this.#ended && !this.#failure) {
      try {
        this.#settle();
        const step = this.#steps[this.#at];
        if (step) this.#fail(step, undefined, 'the run stopped early');
      } catch {
        // kept in #failure, thrown below
      }
    }
    this.#ended = true;
    this.#stopWatching();
    if (this.#failure) throw this.#failure;
  }

  /** Stops comparing without judging (for `using`); call `end()` for the verdict. */
  [Symbol.dispose](): void {
    this.#ended = true;
    this.#stopWatching();
  }

  /** One line: how far the run has matched. */
  [INSPECT](): string {
    return `TraceCheck <${this.#at} of ${this.#steps.length} steps matched${this.#failure ? ', differed' : ''}>`;
  }
}

/**
 * Compares a run with a recording (`parseTrace(text)` of a `jsonl` trace): `add(dev)`, run the
 * program, `end()`. The first difference throws, from the access that shows it, or from `end()`.
 */
export function checkTrace(recorded: readonly TraceEvent[], options: CompareOptions = {}): TraceCheck {
  return new TraceCheck(recorded, options);
}
