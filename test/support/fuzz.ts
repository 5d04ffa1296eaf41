/**
 * Shared pieces of the fuzz tests (the *.fuzz.test.ts files in test/unit/, beside the unit tests
 * of what they fuzz): how many inputs, random and mutated byte buffers, and the check every input
 * passes (returns or throws within a time bound, and throws only the library's own coded errors).
 *
 * Size: VFIO_TS_FUZZ_RUNS=100000 runs that many inputs per property instead of the default.
 * Replay: a failure prints fast-check's seed and path with the counterexample; run again with
 * VFIO_TS_FUZZ_SEED=<seed> VFIO_TS_FUZZ_PATH=<path> to get the same input first.
 * Hangs: an input that never returns blocks the thread, so no timer in it can fire; a watchdog
 * thread prints the seed and path of an input still running after HANG_MS and kills the process.
 */
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { vi } from 'vitest';
import { isVfioError } from '../../structs/index.js';

/** An input still running after this long is stuck for good: the watchdog ends the process. */
export const HANG_MS = 10_000;

// Shared with the watchdog: [0] executions of the predicate so far, [1] 1 while one runs, [2] the seed.
const shared = new Int32Array(new SharedArrayBuffer(12));

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const s = new Int32Array(workerData.sab);
let last = -1, since = Date.now();
setInterval(() => {
  const run = Atomics.load(s, 0);
  if (Atomics.load(s, 1) === 0 || run !== last) { last = run; since = Date.now(); return; }
  if (Date.now() - since < workerData.hangMs) return;
  const path = workerData.replay || run - 1;
  require('node:fs').writeSync(2, '\\nfuzz: an input has run for over ' + workerData.hangMs + ' ms: a hang.' +
    ' Replay: VFIO_TS_FUZZ_SEED=' + Atomics.load(s, 2) + ' VFIO_TS_FUZZ_PATH=' + path + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 200);
`;

// At load, before any property exists: fast-check reads the global hooks when one is made.
new Worker(WATCHDOG, {
  eval: true,
  workerData: { sab: shared.buffer, hangMs: HANG_MS, replay: process.env.VFIO_TS_FUZZ_PATH },
}).unref();
fc.configureGlobal({
  beforeEach: () => {
    Atomics.add(shared, 0, 1);
    Atomics.store(shared, 1, 1);
  },
  afterEach: () => Atomics.store(shared, 1, 0),
});

// A large run takes minutes a property, past the suite's test timeout; the watchdog is what
// catches a hang then.
if (process.env.VFIO_TS_FUZZ_RUNS) vi.setConfig({ testTimeout: 24 * 3600_000 });

/** Tells the watchdog a property starts: its runs count from 0 (examples included, as fast-check's path does). */
function watch(seed: number): void {
  Atomics.store(shared, 0, 0);
  Atomics.store(shared, 2, seed);
}

/** Inputs per property: VFIO_TS_FUZZ_RUNS when set, else `defaultRuns` (a few seconds for all files). */
export function fuzzRuns(defaultRuns: number): number {
  const env = process.env.VFIO_TS_FUZZ_RUNS;
  if (env === undefined || env === '') return defaultRuns;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`VFIO_TS_FUZZ_RUNS must be a positive integer, got '${env}'`);
  return n;
}

/**
 * fast-check parameters: the run count, the seed and path of a failure to replay, and
 * `examples` run first every time (inputs that once found a bug).
 */
export function fuzzParams<T>(defaultRuns: number, examples: T[] = []): fc.Parameters<T> {
  // The seed is chosen here, not by fast-check, so the watchdog can print it.
  const seed = process.env.VFIO_TS_FUZZ_SEED ? Number(process.env.VFIO_TS_FUZZ_SEED) : (Math.random() * 2 ** 32) | 0;
  const path = process.env.VFIO_TS_FUZZ_PATH;
  watch(seed);
  return {
    numRuns: fuzzRuns(defaultRuns),
    seed,
    ...(path ? { path } : {}),
    examples,
  };
}

/** An input that takes longer than this is a hang (a loop the parser does not bound). */
export const TIME_LIMIT_MS = 100;

/**
 * Runs `fn` on one input: returns its value, or undefined when it threw a coded error. Throws
 * (failing the property, which prints the input) on any other error or when it took longer
 * than TIME_LIMIT_MS twice in a row (once can be a GC pause on a busy machine), so `fn` must
 * give the same result when run again.
 */
export function outcome<T>(fn: () => T): T | undefined {
  for (let attempt = 0; ; attempt++) {
    const t0 = performance.now();
    let value: T | undefined;
    let error: unknown;
    let threw = false;
    try {
      value = fn();
    } catch (e) {
      error = e;
      threw = true;
    }
    const ms = performance.now() - t0;
    if (ms > TIME_LIMIT_MS && attempt === 0) continue;
    if (ms > TIME_LIMIT_MS) throw new Error(`took ${ms.toFixed(1)} ms (limit ${TIME_LIMIT_MS} ms): a hang`);
    if (threw && !isVfioError(error)) {
      const what = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
      throw new Error(`threw an error without an ERR_VFIO_* code: ${what}`, { cause: error });
    }
    return value;
  }
}

/** One edit of a byte buffer; positions are taken modulo the length at the time of the edit. */
type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'byte'; at: number; value: number }
  | { op: 'u32'; at: number; value: number; rel: 'abs' | 'pos' | 'len' }
  | { op: 'truncate'; cut: number }
  | { op: 'extend'; bytes: Uint8Array };

/** Values that make offsets and counts interesting: zero, small, aligned edges, the top of a u32. */
const EDGE_U32 = [0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 32, 40, 0xff, 0x100, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** A mutation; `hot` are positions of offsets and counts in the seed, aimed at half the time. */
function mutation(hot: readonly number[]): fc.Arbitrary<Mutation> {
  const at = hot.length ? fc.oneof(fc.nat(), fc.constantFrom(...hot)) : fc.nat();
  return fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({
      op: fc.constant('byte' as const),
      at,
      value: fc.oneof(fc.constantFrom(0, 1, 3, 0x3c, 0x40, 0xfc, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })),
    }),
    // A 32-bit word set to an edge value, to its own position (a self-loop) or to the buffer's
    // length (the end), each give or take a header: what breaks offset and count checks.
    fc.record({
      op: fc.constant('u32' as const),
      at,
      value: fc.oneof(fc.constantFrom(...EDGE_U32), fc.integer({ min: -16, max: 16 }), fc.nat({ max: 0xffffffff })),
      rel: fc.constantFrom('abs' as const, 'pos' as const, 'len' as const),
    }),
    // Mostly the last few bytes (a cut-short tail), sometimes anything.
    fc.record({ op: fc.constant('truncate' as const), cut: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.nat()) }),
    fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
  );
}

function applyMutation(buf: Uint8Array, m: Mutation): Uint8Array {
  if (m.op === 'truncate') return buf.subarray(0, buf.length - (m.cut % (buf.length + 1)));
  if (m.op === 'extend') {
    const out = new Uint8Array(buf.length + m.bytes.length);
    out.set(buf);
    out.set(m.bytes, buf.length);
    return out;
  }
  if (buf.length === 0) return buf;
  const out = Uint8Array.from(buf);
  if (m.op === 'flip') out[m.at % out.length] ^= 1 << m.bit;
  else if (m.op === 'byte') out[m.at % out.length] = m.value;
  else if (out.length >= 4) {
    // Hot positions are aligned as given; others land aligned half the time.
    const at = m.at < out.length - 3 ? m.at : (m.at % (out.length - 3)) & ~(m.at % 2 === 0 ? 3 : 0);
    const base = m.rel === 'pos' ? at : m.rel === 'len' ? out.length : 0;
    new DataView(out.buffer).setUint32(at, (base + m.value) >>> 0, true);
  }
  return out;
}

/** A seed to mutate, with the positions of its offsets and counts (where mutations matter most). */
export interface Seed {
  bytes: Uint8Array;
  hot?: readonly number[];
}

/** `seed` with one to eight mutations applied. */
export function mutated({ bytes: seed, hot = [] }: Seed): fc.Arbitrary<Uint8Array> {
  return fc
    .array(mutation(hot), { minLength: 1, maxLength: 8 })
    .map((ms) => ms.reduce<Uint8Array>((b, m) => applyMutation(b, m), Uint8Array.from(seed)));
}

/**
 * `length` random bytes from a 32-bit seed (xorshift32): much quicker than fast-check's own
 * arrays for a 4 KiB config space; the seed alone replays it.
 */
export function seededBytes(lengths: readonly number[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.constantFrom(...lengths), fc.integer({ min: 1, max: 0xffffffff })).map(([length, seed]) => {
    const out = new Uint8Array(length);
    let x = seed;
    for (let i = 0; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  });
}

/** Random bytes (a third of them) or one of `seeds` mutated (the rest). */
export function fuzzBytes(seeds: readonly Seed[], maxLength = 256): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength, size: 'max' }), weight: 1 },
    { arbitrary: fc.oneof(...seeds.map(mutated)), weight: 2 },
  );
}
