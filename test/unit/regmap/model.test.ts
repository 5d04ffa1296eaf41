// A map from JSON is checked when it is loaded (src/regmap/model.ts), and every error names the
// map, the register and the field: overlapping fields, bits past the width, an enum value that
// does not fit, offsets past the region or the map's size, misspelled keys, misaligned offsets.
import { describe, expect, it } from 'vitest';
import { defineRegisterMap, type MapSpec } from '../../../src/index.js';

/** A JSON map with one register `R` (fields and keys as given), parsed as a user would. */
function load(register: object, extra: object = {}) {
  return defineRegisterMap(
    JSON.parse(JSON.stringify({ name: 'dev', ...extra, registers: { R: register } })) as MapSpec,
  );
}

describe('register map validation', () => {
  it.each([
    [
      { offset: 0, fields: { A: { bits: [3, 0] }, B: { bits: [4, 3] } } },
      /^register map dev: R\.B: bits 4:3 overlap A \(3:0\)$/,
    ],
    [
      { offset: 0, fields: { A: { bits: 32 } } },
      /^register map dev: R\.A: bit 32 is past the register's 32 bits \(bits 0 to 31\)$/,
    ],
    [{ offset: 0, width: 16, fields: { A: { bits: [16, 8] } } }, /R\.A: bit 16 is past the register's 16 bits/],
    [
      { offset: 0, fields: { A: { bits: [1, 0], values: { big: 4 } } } },
      /^register map dev: R\.A: value 'big' = 0x4 does not fit the field's 2 bits$/,
    ],
    [{ offset: 0, fields: { A: { bits: [1, 0], values: { x: 1, y: 1 } } } }, /R\.A: values 'x' and 'y' are both 0x1/],
    [{ offset: 0, fields: { A: { bits: [0, 1] } } }, /R\.A: bits \[0, 1\] must be \[msb, lsb\], msb first/],
    [{ offset: 0, fields: { A: { bit: 1 } } }, /^register map dev: R\.A: unknown key 'bit' \(known: bits, access,/],
    [{ offest: 0 }, /^register map dev: R: unknown key 'offest'/],
    [{ offset: 2 }, /^register map dev: R: offset 0x2 is not a multiple of 4 \(its access width\)$/],
    [{ offset: 4, width: 64, accessWidth: 32 }, null],
    [{ offset: 4, width: 64 }, /offset 0x4 is not a multiple of 8/],
    [{ offset: 0, width: 24 }, /R width 24: expected one of 8, 16, 32, 64/],
    [{ offset: 0, width: 32, accessWidth: 64 }, /accessWidth 64 is wider than the register \(32 bits\)/],
    [{ offset: 0, reset: '0x100000000' }, /R: reset 0x100000000 does not fit 32 bits/],
    [{ offset: 0, reset: -1 }, /R reset -1: expected a non-negative integer/],
    [{ offset: 0, access: 'r' }, /R access "r" \(a string\): expected one of 'ro', 'wo', 'rw'/],
    [{ offset: 0, access: 'ro', fields: { A: { bits: 0, access: 'rw' } } }, /R\.A: access 'rw' in a 'ro' register/],
    [
      { offset: 0, fields: { A: { bits: 0, write: 'oneToClr' } } },
      /R\.A write "oneToClr" \(a string\): expected one of 'oneToClear'/,
    ],
    [{ offset: 0, fields: { raw: { bits: 0 } } }, /R\.raw: the name 'raw' is reserved/],
    [{ offset: 0, count: 0 }, /R: count 0: an array has at least one register/],
    [{ offset: 0, count: 2, stride: 2 }, /R: stride 2 must be at least 4 bytes/],
  ])('%j', (register, error) => {
    if (error) expect(() => load(register)).toThrow(error);
    else expect(() => load(register)).not.toThrow();
  });

  it('names registers past the map size, bad names and maps without registers', () => {
    expect(() => load({ offset: 0x100, count: 4, stride: 8 }, { size: 0x110 })).toThrow(
      /^register map dev: R ends at 0x11c, past the map's size 0x110$/,
    );
    expect(() => defineRegisterMap({ name: 'dev', registers: { 'A-B': { offset: 0 } } })).toThrow(
      /A-B: the name 'A-B' is not an identifier/,
    );
    expect(() => defineRegisterMap({ name: 'dev', registers: { dump: { offset: 0 } } })).toThrow(/'dump' is reserved/);
    expect(() => defineRegisterMap({ name: 'dev', registers: { constructor: { offset: 0 } } })).toThrow(/reserved/);
    expect(() => defineRegisterMap({ name: 'dev', registers: {} })).toThrow(/^register map dev: no registers$/);
    expect(() => defineRegisterMap({ name: '', registers: {} })).toThrow(/'name' must be a non-empty string/);
  });

  it('reads 64-bit values from hex strings in JSON, and gives them back as hex strings', () => {
    const map = load({
      offset: 0,
      width: 64,
      reset: '0xffff_0000_0000_0001',
      fields: { HI: { bits: [63, 48], values: { all: '0xffff' } } },
    });
    const r = map.registers.R;
    expect(r.reset).toBe(0xffff_0000_0000_0001n);
    expect(r.decode(0xffff_0000_0000_0000n).HI).toBe('all');
    expect(
      JSON.stringify(defineRegisterMap({ name: 'b', registers: { R: { offset: 0, width: 64, reset: 5n } } })),
    ).toBe('{"name":"b","registers":{"R":{"offset":0,"width":64,"reset":"0x5"}}}');
  });
});
