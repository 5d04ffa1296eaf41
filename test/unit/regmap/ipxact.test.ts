// IP-XACT (2009 spirit: and 2014 ipxact:) and CMSIS-SVD into register maps: access,
// modifiedWriteValue(s), readAction, resets, enumerated values, arrays, bus widths; and
// loading a map from a file by its content.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findRegisterMap,
  fromIpXact,
  fromSvd,
  ipXactSpec,
  loadRegisterMap,
  nvmeMap,
  svdSpec,
} from '../../../src/index.js';

const FACTO = join(import.meta.dirname, '../../vm/fixtures/facto.ipxact.xml');

/** An IP-XACT 2009 component (Vivado's packaged IP uses this schema) with one block. */
const SPIRIT = `<?xml version="1.0"?>
<spirit:component xmlns:spirit="http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009">
  <spirit:name>uart</spirit:name>
  <spirit:memoryMaps><spirit:memoryMap><spirit:name>regs</spirit:name>
    <spirit:addressBlock><spirit:name>b</spirit:name><spirit:baseAddress>0x100</spirit:baseAddress><spirit:width>32</spirit:width>
      <spirit:register><spirit:name>ISR</spirit:name><spirit:addressOffset>0x4</spirit:addressOffset><spirit:size>32</spirit:size>
        <spirit:access>read-write</spirit:access><spirit:reset><spirit:value>#10</spirit:value></spirit:reset>
        <spirit:field><spirit:name>RX</spirit:name><spirit:bitOffset>0</spirit:bitOffset><spirit:bitWidth>1</spirit:bitWidth>
          <spirit:modifiedWriteValue>oneToClear</spirit:modifiedWriteValue><spirit:readAction>clear</spirit:readAction></spirit:field>
        <spirit:field><spirit:name>LVL</spirit:name><spirit:bitOffset>4</spirit:bitOffset><spirit:bitWidth>2</spirit:bitWidth>
          <spirit:enumeratedValues><spirit:enumeratedValue><spirit:name>low</spirit:name><spirit:value>1</spirit:value></spirit:enumeratedValue>
          <spirit:enumeratedValue><spirit:name>high</spirit:name><spirit:value>2</spirit:value></spirit:enumeratedValue></spirit:enumeratedValues></spirit:field>
      </spirit:register>
      <spirit:register><spirit:name>FIFO</spirit:name><spirit:dim>4</spirit:dim><spirit:addressOffset>0x10</spirit:addressOffset><spirit:size>32</spirit:size><spirit:access>write-only</spirit:access></spirit:register>
      <spirit:register><spirit:name>BASE</spirit:name><spirit:addressOffset>0x20</spirit:addressOffset><spirit:size>64</spirit:size></spirit:register>
    </spirit:addressBlock>
  </spirit:memoryMap></spirit:memoryMaps>
</spirit:component>`;

const SVD = `<?xml version="1.0"?>
<device><name>MCU</name><size>32</size><access>read-write</access><resetValue>0</resetValue>
  <peripherals>
    <peripheral><name>TIM1</name><baseAddress>0x40000000</baseAddress>
      <registers>
        <register><name>SR</name><addressOffset>0x10</addressOffset><resetValue>0x1</resetValue>
          <fields>
            <field><name>UIF</name><bitRange>[0:0]</bitRange><modifiedWriteValues>zeroToClear</modifiedWriteValues></field>
            <field><name>MODE</name><lsb>4</lsb><msb>5</msb><enumeratedValues>
              <enumeratedValue><name>up</name><value>0</value></enumeratedValue><enumeratedValue><name>down</name><value>0b01</value></enumeratedValue>
            </enumeratedValues></field>
          </fields></register>
        <register><name>CCR%s</name><dim>4</dim><dimIncrement>4</dimIncrement><addressOffset>0x34</addressOffset><access>read-only</access><readAction>clear</readAction></register>
      </registers>
    </peripheral>
  </peripherals>
</device>`;

const dir = mkdtempSync(join(tmpdir(), 'regmap-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe('loading a map', () => {
  it('tells JSON, IP-XACT and SVD apart by content; finds shipped maps by name', () => {
    writeFileSync(join(dir, 'm.json'), JSON.stringify({ name: 'j', registers: { R: { offset: '0x10' } } }));
    writeFileSync(join(dir, 'svd.xml'), SVD);
    writeFileSync(join(dir, 'ip.xml'), SPIRIT);
    expect(loadRegisterMap(join(dir, 'm.json')).registers.R.offset).toBe(0x10);
    expect(loadRegisterMap(join(dir, 'svd.xml')).name).toBe('TIM1');
    expect(loadRegisterMap(join(dir, 'ip.xml')).name).toBe('uart');
    expect(findRegisterMap('nvme')).toBe(nvmeMap);
    expect(() => findRegisterMap('nvmee')).toThrow(/no register map 'nvmee': the shipped maps are e1000e, nvme/);
    writeFileSync(join(dir, 'bad.json'), '{ "name": "b", "registers": { "R": { "offset": 0, "widht": 32 } } }');
    expect(() => loadRegisterMap(join(dir, 'bad.json'))).toThrow(/register map b: R: unknown key 'widht'/);
  });
});
