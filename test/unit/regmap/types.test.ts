// What TypeScript learns from a map written as a .ts literal (checked by npm run typecheck, which
// covers test/): a misspelled register, field or enum label does not compile; values are
// numbers up to 32 bits and bigints beyond; a map from JSON takes any name and checks it at run time.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineRegisterMap, e1000eMap, nvmeMap, type MapSpec, type RegisterAccess } from '../../../src/index.js';

/** A region that answers every read with 0 and forgets every write. */
const zeros: RegisterAccess = {
  size: 0x20000,
  read8: () => 0,
  read16: () => 0,
  read32: () => 0,
  read64: () => 0n,
  write8: () => {},
  write16: () => {},
  write32: () => {},
  write64: () => {},
};

describe('register map types', () => {
  const nic = e1000eMap.bind(zeros);
  const nvme = nvmeMap.bind(zeros);

  it('rejects a misspelled register, field or enum label at compile time (and at run time)', () => {
    // @ts-expect-error no register STATSU
    expect(nic.STATSU).toBeUndefined();
    // @ts-expect-error no field SPED
    expect(() => nic.CTRL.write({ SPED: 2 })).toThrow(/e1000e\.CTRL has no field 'SPED'/);
    // @ts-expect-error no label '1000Mbps'
    expect(() => nic.CTRL.modify({ SPEED: '1000Mbps' })).toThrow(/no value '1000Mbps'/);
    // @ts-expect-error no label 'weighted'
    expect(() => nvme.CC.write({ AMS: 'weighted' })).toThrow(/no value 'weighted'/);
    // @ts-expect-error decoded values have the map's fields only
    expect(nic.STATUS.read().SPEDE).toBeUndefined();
    // @ts-expect-error ICS is write-1-to-set: nothing to clear
    expect(() => nic.ICS.clear('LSC')).toThrow(/not write-1-to-clear/);
    // @ts-expect-error a label of another field
    expect(() => nvme.CC.write({ SHN: 'roundRobin' })).toThrow(/no value 'roundRobin'/);
  });

  it('types values by width: numbers up to 32 bits, bigints beyond; labels as string literals', () => {
    const status = nic.STATUS.read();
    expectTypeOf(status.raw).toEqualTypeOf<number>();
    expectTypeOf(status.LU).toEqualTypeOf<number>();
    expectTypeOf(status.SPEED).toEqualTypeOf<'10Mb/s' | '100Mb/s' | '1000Mb/s' | number>();
    const cap = nvme.CAP.read();
    expectTypeOf(cap.raw).toEqualTypeOf<bigint>();
    expectTypeOf(cap.MQES).toEqualTypeOf<number>();
    expectTypeOf(cap.DSTRD).toEqualTypeOf<number>();
    expectTypeOf(nvme.ASQ.read().ASQB).toEqualTypeOf<bigint>();
    type DoorbellWrite = Parameters<(typeof nvme)['SQTDBL'][number]['write']>[0];
    expectTypeOf<DoorbellWrite>().toEqualTypeOf<number | { readonly SQT?: number }>();
    expect(cap.raw).toBe(0n);
  });

  it('a map of type MapSpec (parsed JSON) takes any name, and checks it at run time', () => {
    const spec = JSON.parse('{"name":"j","registers":{"R":{"offset":0,"fields":{"F":{"bits":0}}}}}') as MapSpec;
    const regs = defineRegisterMap(spec).bind(zeros);
    expect(() => regs.get('R').write({ G: 1 })).toThrow(/j\.R has no field 'G'/);
    expect(() => regs.get('Q')).toThrow(/register map j has no register 'Q' \(its registers: R\)/);
  });
});
