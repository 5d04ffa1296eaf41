// Property tests of a register's encode and decode (src/regmap/codec.ts, through a map's
// registers): for any register layout, encoding fields and decoding the result gives the
// fields back, decoding a raw value and encoding its fields gives the raw value's field bits
// back, and fields with a write effect that were not given are always written neutral.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineRegisterMap, type FieldSpec, type MapSpec, type RegisterWidth } from '../../../src/index.js';

type Effect = FieldSpec['write'];

/** A register of `width` bits cut into fields at `cuts`; every other segment left as a gap. */
function layout(width: RegisterWidth, cuts: number[], effects: Effect[], labelled: boolean[]) {
  const edges = [...new Set([0, ...cuts.map((c) => c % width), width])].sort((a, b) => a - b);
  const fields: Record<string, FieldSpec> = {};
  for (let i = 0; i + 1 < edges.length; i++) {
    if (i % 3 === 2) continue; // a reserved gap
    const [lsb, msb] = [edges[i], edges[i + 1] - 1];
    const w = msb - lsb + 1;
    fields[`F${i}`] = {
      bits: [msb, lsb],
      ...(effects[i] ? { write: effects[i] } : {}),
      ...(labelled[i] && w <= 8 ? { values: { zero: 0, one: 1 } } : {}),
    };
  }
  const spec: MapSpec = { name: 'p', registers: { R: { offset: 0, width, fields } } };
  return defineRegisterMap(spec).registers.R;
}

const width = fc.constantFrom<RegisterWidth>(8, 16, 32, 64);
const cuts = fc.array(fc.integer({ min: 1, max: 63 }), { maxLength: 12 });
const effects = fc.array(
  fc.constantFrom<Effect>(undefined, undefined, 'oneToClear', 'zeroToClear', 'oneToSet', 'selfClearing'),
  { minLength: 20, maxLength: 20 },
);
const noEffects = fc.constant<Effect[]>([]);
const labelled = fc.array(fc.boolean(), { minLength: 20, maxLength: 20 });
const raw64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** `v` cut to `w` bits, in the register's value type. */
const asValue = (v: bigint, w: number): number | bigint =>
  w === 64 ? BigInt.asUintN(64, v) : Number(BigInt.asUintN(w, v));

describe('register map encode/decode', () => {
  it('decode(encode(fields)) gives the fields back', () => {
    fc.assert(
      fc.property(width, cuts, effects, labelled, raw64, (w, c, e, l, seed) => {
        const r = layout(w, c, e, l);
        // Field values from the seed's bits: each field takes its own bits of a random value.
        const input: Record<string, number | bigint | string> = {};
        for (const f of r.fields) {
          const v = (seed >> BigInt(f.lsb)) & ((1n << BigInt(f.width)) - 1n);
          input[f.name] = f.values.size && v <= 1n ? (v === 0n ? 'zero' : 'one') : f.isNumber ? Number(v) : v;
        }
        const decoded = r.decode(r.encode(input, { base: 'zero' })) as Record<string, unknown>;
        for (const f of r.fields) expect(decoded[f.name]).toBe(input[f.name]);
      }),
    );
  });

  it('encode(decode(raw)) gives back the bits of raw that lie in fields', () => {
    fc.assert(
      fc.property(width, cuts, noEffects, labelled, raw64, (w, c, e, l, seed) => {
        const r = layout(w, c, e, l);
        const raw = asValue(seed, w);
        const { raw: _raw, ...fields } = r.decode(raw) as Record<string, unknown>;
        const inFields = r.fields.reduce((m, f) => m | (((1n << BigInt(f.width)) - 1n) << BigInt(f.lsb)), 0n);
        expect(BigInt(r.encode(fields as never, { base: 'zero' }))).toBe(BigInt(raw) & inFields);
      }),
    );
  });

  it('fields with a write effect that are not given are written neutral, whatever the base', () => {
    fc.assert(
      fc.property(width, cuts, effects, labelled, (w, c, e, l) => {
        const r = layout(w, c, e, l);
        const written = BigInt(r.encode({}));
        for (const f of r.fields) {
          if (!f.write) continue;
          const bits = (written >> BigInt(f.lsb)) & ((1n << BigInt(f.width)) - 1n);
          expect(bits).toBe(f.write.startsWith('zero') ? (1n << BigInt(f.width)) - 1n : 0n);
        }
      }),
    );
  });
});
