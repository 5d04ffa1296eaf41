// The REPL and register maps on the host, with a region that counts its reads: Node evaluates
// typed input for the preview (side-effect-free) and for tab completion (for real, also on the
// '.' keystroke for the completion preview). Neither may read a register: the count stays 0
// until Enter. (test/vm/regmap-repl.test.ts shows the same on e1000e's clear-on-read ICR.)
import { afterAll, describe, expect, it } from 'vitest';
import { completesCallResult, startRepl } from '../../../src/cli/repl.js';
import { defineRegisterMap, type RegisterAccess } from '../../../src/index.js';
import { fakeTerminal } from '../../vm/fixtures/terminal.js';

process.env.VFIO_TS_REPL_HISTORY = '';
let reads = 0;
const counting: RegisterAccess = {
  size: 0x100,
  read8: () => 0,
  read16: () => 0,
  read32: () => (reads++, 1),
  read64: () => 0n,
  write8: () => {},
  write16: () => {},
  write32: () => {},
  write64: () => {},
};
const map = defineRegisterMap({
  name: 'dev',
  registers: { ICR: { offset: 0xc0, readEffect: 'clear', fields: { RX: { bits: 0 } } } },
});
(globalThis as unknown as { regs: unknown }).regs = map.bind(counting);

const { input, output, shownMatching, type } = fakeTerminal();
const exited = new Promise<number>((resolve) => startRepl({ input, output, exit: resolve }));
afterAll(async () => {
  input.write('.exit\n');
  await exited;
});

describe('register maps in the REPL', () => {
  it('completesCallResult: the chain before the cursor holds a call', () => {
    expect(['regs.ICR.read().', 'regs.ICR.read().R', 'x.f(1)[2].', '(regs).'].map(completesCallResult)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['regs.ICR.', 'regs.DB[1].', 'foo(regs.ICR.', 'a; regs.', ''].map(completesCallResult)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('typing, previewing and tab-completing read nothing; Enter reads once', async () => {
    await type('regs.ICR.\t\t', 300);
    await shownMatching(/\bmodify\b[\s\S]*\bread\b/); // completion listed the register's members
    input.write('\x15');
    await type('regs.ICR.read().\t\t', 300);
    input.write('\x15');
    await type('regs.ICR.read().RX', 300);
    input.write('\x15');
    await type('regs.ICR.read()', 300);
    expect(reads).toBe(0);
    await type('\n', 0);
    await shownMatching(/ICR = 0x00000001 \{ RX: 1 \}/);
    expect(reads).toBe(1);
  });
});
