// CMSIS-SVD into register maps (src/regmap/svd.ts): inherited size and access, bitRange and
// lsb/msb, modifiedWriteValues, enumerated values, dim arrays with %s, readAction.
import { describe, expect, it } from 'vitest';
import { fromSvd, svdSpec } from '../../../src/index.js';
import { SVD } from '../../support/regmap-xml.js';

describe('CMSIS-SVD import', () => {
  it('a peripheral: inherited size and access, bitRange/lsb+msb, enums, dim arrays with %s, readAction', () => {
    const spec = svdSpec(SVD);
    expect(spec.name).toBe('TIM1');
    expect(spec.registers.SR).toEqual({
      offset: 0x10,
      width: 32,
      reset: 1,
      fields: { UIF: { bits: 0, write: 'zeroToClear' }, MODE: { bits: [5, 4], values: { up: 0, down: 1 } } },
    });
    expect(spec.registers.CCR).toEqual({
      offset: 0x34,
      width: 32,
      access: 'ro',
      readEffect: 'clear',
      count: 4,
      stride: 4,
    });
    expect(fromSvd(SVD).registers.SR.encode({})).toBe(0x1); // UIF written 1: left alone
    expect(() => fromSvd(SVD, { peripheral: 'TIM2' })).toThrow(/no peripheral 'TIM2' \(there are: TIM1\)/);
  });
});
