// Runs in the test VM: Node's REPL evaluates what is typed for its preview before Enter (with
// V8's side-effect check), and for tab completion. Neither may reach the device through a register map: here the
// e1000e's ICR, which clears when read, keeps a cause raised through ICS while
// `regs.ICR.read()` sits typed but not entered, and gives it up only when Enter reads it.
// The REPL runs in this process with terminal streams (`vfio repl` needs a terminal for previews).
import { afterAll, describe, expect, it } from 'vitest';
import { startRepl } from '../../src/cli/repl.js';
import type { Device, Register } from '../../src/index.js';
import { fakeTerminal } from './fixtures/terminal.js';
import { testDevice } from './manifest.js';

const nic = testDevice('e1000e');
process.env.VFIO_TS_REPL_HISTORY = ''; // no history file

const { input, output, type } = fakeTerminal();
let exited: Promise<number> | undefined;
const scope = globalThis as unknown as { dev?: Device; regs?: { ICR: Register } };

afterAll(async () => {
  if (exited) {
    input.write('.exit\n');
    await exited;
  }
  scope.dev?.close(); // closed by .exit already; a REPL that never started leaves nothing else
});

describe('vfio repl with a register map', () => {
  it('previews never read a register: ICR, clear-on-read, keeps its cause until Enter', async () => {
    exited = new Promise((resolve) => startRepl({ address: nic.bdf, input, output, exit: resolve }));
    await type('var regs = e1000eMap.bind(bar0)\n');
    await type('regs.IMC.write(0xffffffff); regs.ICR.read(); regs.ICS.write({ TXDW: 1 })\n');
    expect(scope.regs!.ICR.accesses).toBe(1);

    expect(await type('1 + 41')).toContain('42'); // previews are on
    input.write('\x15'); // Ctrl-U: the line is dropped, nothing runs
    expect(await type('regs.ICR')).toContain('Register <e1000e.ICR at 0xc0> { 32-bit rw, reads clear it;');
    input.write('\x15');
    expect(await type('regs.ICR.\t\t')).toMatch(/\bmodify\b[\s\S]*\bread\b/); // tab completion lists its members
    input.write('\x15');
    await type('regs.ICR.read().\t\t'); // completing a call's result evaluates nothing
    input.write('\x15');
    expect(scope.regs!.ICR.accesses).toBe(1);
    const preview = await type('regs.ICR.read()');
    expect(preview).not.toMatch(/ICR = /); // the preview stopped before the read
    expect(scope.regs!.ICR.accesses).toBe(1);

    expect(await type('\n')).toMatch(/ICR = 0x[0-9a-f]{8} \{ TXDW: 1, /); // Enter reads it: the cause was still there
    expect(scope.regs!.ICR.accesses).toBe(2);
    expect(await type('regs.ICR.read().TXDW\n')).toMatch(/^\s*0\s*$/m); // and that read cleared it
    input.write('.exit\n');
    expect(await exited).toBe(0);
    exited = undefined;
    expect(scope.dev!.closed).toBe(true);
  });
});
