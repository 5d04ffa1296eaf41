// Fuzz: the variable-size info protocol (structs/variable.ts): a fake ioctl answers each call
// with an argsz of its choosing (smaller, equal, larger, past MAX_INFO_SIZE, growing forever)
// and random bytes, and the buffer it settles on goes to the parser as readRegionInfo and
// Type1Iommu.info() do. Every call gets a buffer of at least the fixed size and at most
// MAX_INFO_SIZE, the result holds only what the kernel filled, and errors are coded.
// VFIO_TS_FUZZ_RUNS=100000 runs 100,000 inputs (replay: see test/support/fuzz.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_INFO_SIZE,
  parseIommuType1Info,
  parseRegionInfo,
  queryVariable,
  vfio_iommu_type1_info,
  vfio_region_info,
} from '../../../structs/index.js';
import { REGION_SEED, TYPE1_SEED } from '../../support/fuzz-seeds.js';
import { fuzzParams, mutated, outcome } from '../../support/fuzz.js';

const RUNS = 1000;

const KINDS = [
  { type: vfio_region_info, parse: parseRegionInfo, seed: REGION_SEED },
  { type: vfio_iommu_type1_info, parse: parseIommuType1Info, seed: TYPE1_SEED },
] as const;

/** What the fake kernel writes back on each call: an argsz and bytes (its own, or a mutated valid answer). */
const answer = (seedIndex: number) =>
  fc.record({
    argsz: fc.oneof(
      { arbitrary: fc.nat({ max: 256 }), weight: 6 },
      { arbitrary: fc.constantFrom(MAX_INFO_SIZE, MAX_INFO_SIZE + 1, 0xffffffff), weight: 1 },
      { arbitrary: fc.nat({ max: 0xffffffff }), weight: 1 },
    ),
    bytes: fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated(KINDS[seedIndex].seed)),
  });

const scenario = fc
  .nat({ max: KINDS.length - 1 })
  .chain((kind) => fc.tuple(fc.constant(kind), fc.array(answer(kind), { minLength: 1, maxLength: 6 })));

describe('fuzz: variable-size info buffers', () => {
  it('queryVariable and the parser: bounded buffers, bounded calls, coded errors', () => {
    fc.assert(
      fc.property(scenario, ([kind, answers]) => {
        const { type, parse } = KINDS[kind];
        const sizes: number[] = [];
        let wanted = 0;
        const call = (buf: Buffer) => {
          const a = answers[Math.min(sizes.length, answers.length - 1)];
          sizes.push(buf.length);
          // The kernel fills at most the buffer it was given, argsz included.
          buf.set(a.bytes.subarray(0, buf.length));
          buf.writeUInt32LE(a.argsz, 0);
          wanted = a.argsz;
        };
        // outcome() runs a slow input twice: each run starts from no calls.
        const buf = outcome(() => {
          sizes.length = 0;
          return queryVariable(type, {}, call, 'fuzz');
        });
        expect(sizes.length).toBeLessThanOrEqual(4);
        for (const n of sizes) {
          expect(n).toBeGreaterThanOrEqual(type.size);
          expect(n).toBeLessThanOrEqual(MAX_INFO_SIZE);
        }
        if (!buf) return;
        expect(buf.length).toBe(Math.max(wanted, type.size));
        expect(buf.length).toBeLessThanOrEqual(sizes[sizes.length - 1]);
        outcome(() => parse(buf));
      }),
      fuzzParams(RUNS),
    );
  });
});
