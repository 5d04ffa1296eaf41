// A Linux driver against one of our models: the `vfio-user` row serves the PCI-IDIO-16 model
// (examples/models/pci-idio-16.ts, with its line window) on the host, QEMU 11.1's vfio-user-pci
// puts it in the guest at 00:11.0, and the rig leaves it to the kernel (--keep-driver
// vfio-user1), whose gpio-pci-idio-16 binds it. What the driver exposes is checked through the
// sysfs GPIO interface: the lines the guest drives reach the model's outputs, the inputs the
// model carries are what the guest reads, and a changed input is an interrupt (the model's INTx,
// the driver's handler, the line's own interrupt) that the handler clears. The model's side is
// read and set through its line window, BAR5, I/O ports the guest reaches through sysfs
// (`resource5`) while the driver holds BAR2.
import { closeSync, existsSync, openSync, readSync, readlinkSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFdCount } from '../support/fd-count.js';
import { testDevice } from './manifest.js';
import {
  exportLine,
  gpioChipsOf,
  interruptCount,
  readLine,
  setEdge,
  unexportLine,
  writeLine,
  type GpioChip,
} from './gpio-sysfs.js';

const OUTPUTS = Array.from({ length: 16 }, (_, i) => i); // OUT0-15
const INPUTS = Array.from({ length: 16 }, (_, i) => 16 + i); // IIN0-15
const WINDOW_INPUTS = 0x0;
const WINDOW_OUTPUTS = 0x2;

/** The model's line window: 16-bit I/O port accesses through the device's sysfs resource5. */
function lineWindow(bdf: string) {
  const fd = openSync(`/sys/bus/pci/devices/${bdf}/resource5`, 'r+');
  const word = Buffer.alloc(2);
  return {
    /** What the model's OUT0-15 drive. */
    outputs: () => (readSync(fd, word, 0, 2, WINDOW_OUTPUTS), word.readUInt16LE(0)),
    /** Puts `bits` on the model's IIN0-15. */
    setInputs: (bits: number) => (word.writeUInt16LE(bits), writeSync(fd, word, 0, 2, WINDOW_INPUTS)),
    close: () => closeSync(fd),
  };
}

/** Polls `count()` until it reaches `atLeast` or `ms` pass; its last value. */
async function countReaching(count: () => number | undefined, atLeast: number, ms = 5000): Promise<number> {
  const end = Date.now() + ms;
  let n = count() ?? 0;
  while (n < atLeast && Date.now() < end) {
    await new Promise((done) => setTimeout(done, 20));
    n = count() ?? 0;
  }
  return n;
}

const bitsOf = (chip: GpioChip, lines: number[]) => lines.reduce((v, line, i) => v | (readLine(chip, line) << i), 0);

describe("the PCI-IDIO-16 model served on the host, bound by the guest kernel's gpio-pci-idio-16", () => {
  const card = testDevice('vfio-user1');
  let fdsBefore = -1;
  const exported: number[] = [];
  let window: ReturnType<typeof lineWindow> | undefined;
  let chip: GpioChip | undefined;

  const theChip = () => {
    if (!chip) throw new Error('no gpiochip: the first test failed');
    return chip;
  };
  const exportAll = (lines: number[]) => {
    for (const line of lines) {
      exportLine(theChip(), line);
      exported.push(line);
    }
  };

  /** Every line back to the kernel, the window closed: the last test, and after a failure. */
  const giveBack = () => {
    for (const line of exported.splice(0)) unexportLine(theChip(), line);
    window?.close();
    window = undefined;
  };
  afterAll(giveBack);

  it('is at 00:11.0 as 494f:0dc8, bound to pci-idio-16, with one gpiochip of 32 lines', () => {
    expect(card).toMatchObject({ bdf: '0000:00:11.0', vendor: '494f', device: '0dc8', driver: 'pci-idio-16' });
    expect(basename(readlinkSync(`/sys/bus/pci/devices/${card.bdf}/driver`))).toBe('pci-idio-16');
    const chips = gpioChipsOf(card.bdf);
    expect(chips).toHaveLength(1);
    chip = chips[0];
    expect(chip).toMatchObject({ ngpio: 32, label: card.bdf });
    expect(interruptCount(card.bdf)).toBeTypeOf('number'); // its INTx handler, named after the device
    fdsBefore = openFdCount();
    window = lineWindow(card.bdf);
  });

  it('drives the outputs the guest sets into the model: each line of OUT0-15 both ways', () => {
    exportAll(OUTPUTS);
    for (const pattern of [0xa5c3, 0x5a3c, 0xffff, 0x0000]) {
      for (const line of OUTPUTS) writeLine(theChip(), line, ((pattern >> line) & 1) as 0 | 1);
      expect(window!.outputs().toString(16)).toBe(pattern.toString(16));
    }
  });

  it('reads the inputs the model carries through the driver: each line of IIN0-15 both ways', () => {
    exportAll(INPUTS);
    for (const pattern of [0x8001, 0x7ffe, 0x1234, 0x0000]) {
      window!.setInputs(pattern);
      expect(bitsOf(theChip(), INPUTS).toString(16)).toBe(pattern.toString(16));
    }
  });

  it("interrupts on a changed input while a line's interrupt is armed: INTx, the handler, its clear", async () => {
    const line = INPUTS[0];
    const intx = () => interruptCount(card.bdf);
    setEdge(theChip(), line, 'both'); // the driver enables the card's interrupt
    try {
      const lineIrqs = () => interruptCount('gpiolib');
      const [intx0, line0] = [intx()!, lineIrqs() ?? 0];
      window!.setInputs(0x0001);
      expect(await countReaching(lineIrqs, line0 + 1)).toBe(line0 + 1);
      expect(intx()).toBe(intx0 + 1);
      // The handler cleared the card's interrupt, or this change would raise none.
      window!.setInputs(0x0000);
      expect(await countReaching(lineIrqs, line0 + 2)).toBe(line0 + 2);
      expect(intx()).toBe(intx0 + 2);
      expect(readLine(theChip(), line)).toBe(0);
    } finally {
      setEdge(theChip(), line, 'none'); // every line masked: the driver disables the interrupt
    }
    const before = intx();
    window!.setInputs(0xffff);
    await new Promise((done) => setTimeout(done, 300));
    expect(intx()).toBe(before);
    expect(bitsOf(theChip(), INPUTS)).toBe(0xffff);
  });

  it('gives every line back to the kernel and closes the window', () => {
    const lines = [...exported];
    expect(lines).toHaveLength(32);
    giveBack();
    for (const line of lines) expect(existsSync(`${theChip().dir}/gpio${line}`)).toBe(false);
    expect(existsSync(`/sys/class/gpio/gpio${theChip().base}`)).toBe(false);
    expect(openFdCount()).toBe(fdsBefore);
  });
});
