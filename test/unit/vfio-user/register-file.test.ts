// A model's registers held by a RegisterFile (src/vfio-user/server/register-file.ts): a
// client's accesses follow the register map's rules, the model's handlers run on the registers
// they name, and the model sets values the rules do not bind.
import { describe, expect, it } from 'vitest';
import { VfioErrorCode } from '../../../structs/index.js';
import { RegisterFile, defineRegisterMap, type ModelContext } from '../../../src/index.js';
import { thrownBy } from '../../support/thrown.js';

const MAP = defineRegisterMap({
  name: 'test',
  registers: {
    CTRL: { offset: 0x0, reset: 0x10, fields: { RESET: { bits: 0, write: 'selfClearing' }, MODE: { bits: [5, 4] } } },
    ISR: { offset: 0x4, fields: { RX: { bits: 0, write: 'oneToClear' }, TX: { bits: 1, write: 'oneToClear' } } },
    ICR: { offset: 0x8, access: 'ro', readEffect: 'clear' },
    VERSION: { offset: 0xc, access: 'ro', reset: 0x0102 },
    DOORBELL: { offset: 0x10, access: 'wo' },
    BASE: { offset: 0x18, width: 64, accessWidth: 32 },
    QUEUE: { offset: 0x20, count: 4, stride: 4 },
  },
});
const ctx = {} as ModelContext;

describe('a register file', () => {
  it('starts at reset values; read-only registers ignore writes; write-only ones read as zero', () => {
    const seen: string[] = [];
    const regs = new RegisterFile(MAP, { onWrite: { DOORBELL: (v) => seen.push(`doorbell ${v}`) } });
    expect(regs.read(0x0, 4, ctx)).toBe(0x10);
    expect(regs.read(0xc, 2, ctx)).toBe(0x0102);
    regs.write(0xc, 4, 0xffff, ctx);
    expect(regs.read(0xc, 4, ctx)).toBe(0x0102);
    regs.write(0x10, 4, 7, ctx);
    expect(regs.read(0x10, 4, ctx)).toBe(0);
    expect(seen).toEqual(['doorbell 7']);
  });

  it('applies write-one-to-clear, self-clearing and clear-on-read', () => {
    const resets: bigint[] = [];
    const regs = new RegisterFile(MAP, { onWrite: { CTRL: (v) => resets.push(v) } });
    regs.set('ISR', 0b11);
    regs.write(0x4, 4, 0b01, ctx); // clears RX only
    expect(regs.read(0x4, 4, ctx)).toBe(0b10);
    regs.write(0x0, 4, 0x21, ctx); // RESET and MODE 2
    expect(resets).toEqual([0x21n]); // the handler sees the bit
    expect(regs.read(0x0, 4, ctx)).toBe(0x20); // and it reads back 0 afterwards
    regs.set('ICR', 0x5);
    expect(regs.read(0x8, 4, ctx)).toBe(0x5);
    expect(regs.read(0x8, 4, ctx)).toBe(0);
  });

  it('takes a 64-bit register in 32-bit halves and whole, and arrays by element', () => {
    const regs = new RegisterFile(MAP, {
      onRead: { QUEUE: (e) => e.regs.set('QUEUE', 0x100 + e.index, e.index) },
    });
    regs.write(0x18, 4, 0x89abcdef, ctx);
    regs.write(0x1c, 4, 0x01234567, ctx);
    expect(regs.get('BASE')).toBe(0x0123456789abcdefn);
    expect(regs.read(0x18, 8, ctx)).toBe(0x0123456789abcdefn);
    expect(regs.read(0x1c, 4, ctx)).toBe(0x01234567);
    expect(regs.read(0x28, 4, ctx)).toBe(0x102);
    regs.reset();
    expect(regs.get('BASE')).toBe(0n);
  });

  it('refuses a handler for a register the map does not have', () => {
    const e = thrownBy(() => new RegisterFile(MAP, { onWrite: { NOPE: () => {} } as never }));
    expect(e).toMatchObject({ code: VfioErrorCode.REGISTER_MAP });
    expect((e as Error).message).toBe('test has no register NOPE to handle');
  });
});
