// IP-XACT (2009 spirit: and 2014 ipxact:) into register maps (src/regmap/ipxact.ts): access,
// modifiedWriteValue, readAction, resets, enumerated values, arrays, bus widths.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromIpXact, ipXactSpec, loadRegisterMap } from '../../../src/index.js';
import { SPIRIT } from '../../support/regmap-xml.js';

const FACTO = join(import.meta.dirname, '../../vm/fixtures/facto.ipxact.xml');

describe('IP-XACT import', () => {
  it('the facto fixture (2014): registers at block base + offset, fields, enums, write effects, 64-bit block', () => {
    const map = loadRegisterMap(FACTO);
    expect(map.name).toBe('facto');
    const r = map.registers;
    expect(Object.keys(r).join(' ')).toBe(
      'ID LIVENESS FACTORIAL STATUS INT_STATUS INT_RAISE INT_ACK DMA_SRC DMA_DST DMA_COUNT DMA_CMD',
    );
    expect(String(r.ID.decode(0x010000ed))).toBe("ID = 0x010000ed { MAGIC: 'edu', MINOR: 0, MAJOR: 1 }");
    expect([r.ID.access, r.INT_RAISE.access, r.STATUS.access]).toEqual(['ro', 'wo', 'rw']);
    expect(r.STATUS.fields.map((f) => `${f.name} ${f.access}`)).toEqual(['COMPUTING ro', 'IRQ_ON_DONE rw']);
    expect(r.INT_ACK.fields[0].write).toBe('oneToClear');
    expect([r.DMA_CMD.offset, r.DMA_CMD.width, r.DMA_CMD.accessWidth]).toEqual([0x98, 64, 64]);
  });

  it('2009 (spirit:): reset #hex, readAction, modifiedWriteValue, dim arrays; a 64-bit register on a 32-bit bus splits', () => {
    const spec = ipXactSpec(SPIRIT);
    expect(spec.registers.ISR).toEqual({
      offset: 0x104,
      width: 32,
      reset: 0x10,
      fields: {
        RX: { bits: 0, write: 'oneToClear', readEffect: 'clear' },
        LVL: { bits: [5, 4], values: { low: 1, high: 2 } },
      },
    });
    const map = fromIpXact(SPIRIT);
    expect(map.registers.ISR.readEffect).toBe('clear');
    expect(map.registers.BASE.accessWidth).toBe(32);
    expect(spec.registers.FIFO).toMatchObject({ offset: 0x110, access: 'wo', count: 4 });
    expect(() => fromIpXact(SPIRIT, { memoryMap: 'nope' })).toThrow(/no memory map 'nope' \(there are: regs\)/);
    expect(() => fromIpXact('<component><name>x</name>')).toThrow(/not well-formed XML/);
    expect(() => fromIpXact(SPIRIT.replace('oneToClear', 'oneToWipe'))).toThrow(
      /IP-XACT uart, address block b: ISR\.RX: modifiedWriteValue 'oneToWipe' is not known/,
    );
  });
});
