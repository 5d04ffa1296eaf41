// Fuzz: the vfio_irq_set builder (structs/irq-set.ts) under any numbers a caller can pass:
// fractions, NaN, infinities, negatives, values past a u32 or an int32, data that does not
// match the count. It returns a buffer that says exactly what was asked, or throws a coded
// error, within the time bound. VFIO_TS_FUZZ_RUNS=100000 runs 100,000 inputs (replay: see
// test/support/fuzz.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  buildIrqSet,
  decodeStruct,
  vfio_irq_set,
  type IrqSetRequest,
} from '../../../structs/index.js';
import { fuzzParams, outcome } from '../../support/fuzz.js';

const RUNS = 3000;

/** Found by this test: an action lost to truncation (a fraction, 2^32) and an eventfd past an int32. */
const FOUND: Array<[IrqSetRequest]> = [
  [{ index: 0, start: 0, count: 0, action: 5e-324 }],
  [{ index: 0, start: 0, count: 0, action: 2 ** 32 }],
  [{ index: 0, start: 0, count: 1, action: VFIO_IRQ_SET_ACTION_MASK, eventfds: [2251394116976231] }],
];

/** A number as a caller might pass one: valid u32s and int32s, their edges, and what is neither. */
const anyNumber = fc.oneof(
  fc.nat({ max: 0xffffffff }),
  fc.constantFrom(-1, -0, 0.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, NaN, Infinity, -Infinity),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double(),
);

const action = fc.oneof(
  fc.constantFrom(VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_TRIGGER),
  fc.constantFrom(VFIO_IRQ_SET_ACTION_TRIGGER + 0.5, 2 ** 32 + VFIO_IRQ_SET_ACTION_TRIGGER, -VFIO_IRQ_SET_ACTION_MASK),
  anyNumber,
);

const eventfd = fc.oneof(fc.integer({ min: -1, max: 1024 }), anyNumber);

/** A request; count matches the data's length most of the time, as a caller's would. */
const request: fc.Arbitrary<IrqSetRequest> = fc
  .record({
    index: fc.oneof(fc.nat({ max: 8 }), anyNumber),
    start: fc.oneof(fc.nat({ max: 64 }), anyNumber),
    count: fc.oneof(fc.nat({ max: 64 }), anyNumber),
    action,
    data: fc.oneof<fc.Arbitrary<{ eventfds?: number[]; bools?: boolean[] } | undefined>[]>(
      fc.constant(undefined),
      fc.record({ eventfds: fc.array(eventfd, { maxLength: 40 }) }),
      fc.record({ bools: fc.array(fc.boolean(), { maxLength: 40 }) }),
      fc.record({ eventfds: fc.array(eventfd, { maxLength: 8 }), bools: fc.array(fc.boolean(), { maxLength: 8 }) }),
    ),
    matchCount: fc.boolean(),
  })
  .map(({ data, matchCount, ...r }) => {
    const length = data?.eventfds?.length ?? data?.bools?.length;
    return { ...r, ...data, count: matchCount && length !== undefined ? length : r.count };
  });

describe('fuzz: vfio_irq_set builder', () => {
  it('a built request says exactly what was asked, or a coded error says why not', () => {
    fc.assert(
      fc.property(request, (req) => {
        const buf = outcome(() => buildIrqSet(req));
        if (!buf) return;
        const head = decodeStruct<{ argsz: number; flags: number; index: number; start: number; count: number }>(
          buf,
          vfio_irq_set,
        );
        // + 0 turns a -0 (a valid u32 zero) into the 0 the buffer holds.
        const asked = { index: req.index + 0, start: req.start + 0, count: req.count + 0 };
        expect(head).toEqual({ argsz: buf.length, flags: head.flags, ...asked });
        expect(head.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK).toBe(req.action);
        const data = buf.subarray(vfio_irq_set.size);
        if (req.eventfds) {
          expect(head.flags & ~VFIO_IRQ_SET_ACTION_TYPE_MASK).toBe(VFIO_IRQ_SET_DATA_EVENTFD);
          expect(Array.from({ length: asked.count }, (_, i) => data.readInt32LE(4 * i))).toEqual(
            req.eventfds.map((fd) => fd + 0),
          );
          expect(data.length).toBe(4 * asked.count);
        } else if (req.bools) {
          expect(head.flags & ~VFIO_IRQ_SET_ACTION_TYPE_MASK).toBe(VFIO_IRQ_SET_DATA_BOOL);
          expect([...data]).toEqual(req.bools.map((b) => (b ? 1 : 0)));
        } else {
          expect(head.flags & ~VFIO_IRQ_SET_ACTION_TYPE_MASK).toBe(VFIO_IRQ_SET_DATA_NONE);
          expect(data.length).toBe(0);
        }
      }),
      fuzzParams(RUNS, FOUND),
    );
  });
});
