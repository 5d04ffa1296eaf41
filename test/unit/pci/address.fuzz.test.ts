// Fuzz: PCI addresses (src/pci/address.ts): parsePciAddress on random strings, strings mutated
// from valid addresses and values that are not strings; pciAddressOf on any numbers (as the
// kernel's hot-reset info gives them). The result is a normalised address that parses to itself,
// or the error is ERR_VFIO_INVALID_ADDRESS, within the time bound.
// VFIO_TS_FUZZ_RUNS=100000 runs 100,000 inputs per property (replay: see test/support/fuzz.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VfioErrorCode } from '../../../structs/index.js';
import { parsePciAddress, pciAddressOf } from '../../../src/pci/index.js';
import { fuzzParams, outcome } from '../../support/fuzz.js';

const RUNS = 2000;
const NORMAL = /^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/;
const VALID = ['0000:00:03.0', '00:03.0', 'ffff:ff:1f.7', ' 0000:3A:00.1\n', 'DEAD:be:0f.2'];

/** Characters an address is made of, its separators, and some that only look alike. */
const char = fc.oneof(
  fc.constantFrom(...'0123456789abcdefABCDEFgxX:.-_ \t\n\0'),
  fc.constantFrom('\u0660', '\uff10', '\u2024', '\uff1a', '\u00a0', '\u2028'),
  fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
);

/** A valid address with characters replaced, inserted, deleted, or the string cut. */
const mutatedAddress = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'delete', 'cut'), fc.nat(), char), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([seed, edits]) =>
    edits.reduce((s, [op, at, c]) => {
      const i = at % (s.length + 1);
      if (op === 'set') return s.slice(0, i) + c + s.slice(i + 1);
      if (op === 'insert') return s.slice(0, i) + c + s.slice(i);
      if (op === 'delete') return s.slice(0, i) + s.slice(i + 1);
      return s.slice(0, i);
    }, seed),
  );

function expectAddressOrInvalid(result: string | undefined, error: () => unknown): void {
  if (result === undefined) {
    const e = error();
    expect((e as { code?: string }).code).toBe(VfioErrorCode.INVALID_ADDRESS);
    return;
  }
  expect(result).toMatch(NORMAL);
  expect(parsePciAddress(result)).toBe(result);
}

/** The error `fn` throws, for checking its code once outcome() has said it is a coded one. */
function thrown(fn: () => unknown): () => unknown {
  return () => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    return undefined;
  };
}

describe('fuzz: PCI addresses', () => {
  it('parsePciAddress: a normal address or ERR_VFIO_INVALID_ADDRESS, for any string', () => {
    const input = fc.oneof(
      mutatedAddress,
      fc.string({ maxLength: 20 }),
      fc.stringMatching(/^\s*[0-9a-fA-F]{0,5}:?[0-9a-fA-F]{1,3}:[0-9a-fA-F]{1,3}\.[0-9]{1,2}\s*$/),
      fc.string({ maxLength: 10_000, unit: 'binary' }),
    );
    fc.assert(
      fc.property(input, (s) => {
        const result = outcome(() => parsePciAddress(s));
        expectAddressOrInvalid(
          result,
          thrown(() => parsePciAddress(s)),
        );
        if (result) expect(result).toBe(s.trim().toLowerCase().padStart(12, '0000:'));
      }),
      fuzzParams(RUNS),
    );
  });

  it('parsePciAddress: anything that is not a string is a coded TypeError', () => {
    fc.assert(
      fc.property(
        fc.anything().filter((v) => typeof v !== 'string'),
        (v) => {
          expect(outcome(() => parsePciAddress(v as string))).toBeUndefined();
          expect(thrown(() => parsePciAddress(v as string))()).toBeInstanceOf(TypeError);
        },
      ),
      fuzzParams(RUNS),
    );
  });

  it('pciAddressOf: the address of those numbers, or ERR_VFIO_INVALID_ADDRESS', () => {
    const n = (max: number) =>
      fc.oneof(fc.nat({ max }), fc.integer(), fc.constantFrom(-1, 0.5, NaN, Infinity, 2 ** 53));
    fc.assert(
      fc.property(fc.record({ domain: n(0xffff), bus: n(0xff), device: n(0x1f), fn: n(7) }), (nums) => {
        const result = outcome(() => pciAddressOf(nums));
        expectAddressOrInvalid(
          result,
          thrown(() => pciAddressOf(nums)),
        );
        if (result) expect(result.split(/[:.]/).map((x) => parseInt(x, 16))).toEqual(Object.values(nums));
      }),
      fuzzParams(RUNS),
    );
  });
});
