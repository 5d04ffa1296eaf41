// The PCI-IDIO-16 model (examples/models/pci-idio-16.ts) against what Linux's gpio-pci-idio-16
// driver does to the card: its registers taken alone, then served and driven through the
// vfio-user client in the driver's order (interrupt off, filters off, interrupt cleared and on),
// with its inputs set and its outputs seen through the line window, and INTx counted.
import { describe, expect, it } from 'vitest';
import { openDevice, type BarRegisters, type ModelContext } from '../../../src/index.js';
import { pciIdio16Model } from '../../../examples/models/pci-idio-16.js';
import { openFdCount } from '../../support/fd-count.js';
import { servedForTests } from '../../support/serve-model.js';

const OUT0_7 = 0x0;
const IN0_7 = 0x1; // a write clears the interrupt
const IRQ_ENABLE = 0x2; // a read enables, a write disables
const FILTERS_OFF = 0x3;
const OUT8_15 = 0x4;
const IN8_15 = 0x5;
const IRQ_STATUS = 0x6;
const PENDING = 0x4;
const WINDOW_INPUTS = 0x0;
const WINDOW_OUTPUTS = 0x2;

/** A model context that counts the interrupts raised. */
function countingContext(): { ctx: ModelContext; raised: number[] } {
  const raised: number[] = [];
  const ctx = { interrupt: (vector = 0) => (raised.push(vector), true) } as unknown as ModelContext;
  return { ctx, raised };
}

describe('the PCI-IDIO-16 model alone', () => {
  it('is what the driver matches and maps: 494f:0dc8, eight I/O ports in BAR2, INTx; the window only when asked', () => {
    const { model } = pciIdio16Model();
    expect(model.identity).toMatchObject({ vendorId: 0x494f, deviceId: 0x0dc8 });
    expect(model.bars.map((b) => b && { size: b.size, io: b.io })).toEqual([
      undefined,
      undefined,
      { size: 8, io: true },
    ]);
    expect(model.interrupts).toEqual({ intx: true });
    const windowed = pciIdio16Model({ lineWindow: true }).model;
    expect(windowed.bars[5]).toMatchObject({ size: 4, io: true });
    expect(windowed.bars.slice(3, 5)).toEqual([undefined, undefined]);
  });

  it('drives OUT0-15 from 0x0 and 0x4 and reads them back; reads IIN0-15 at 0x1 and 0x5', () => {
    const { model, lines } = pciIdio16Model();
    const { ctx } = countingContext();
    const bar2 = model.bars[2]!.registers!;
    bar2.write(OUT0_7, 1, 0xa5, ctx);
    bar2.write(OUT8_15, 1, 0x3c, ctx);
    expect(lines.outputs).toBe(0x3ca5);
    expect([bar2.read(OUT0_7, 1, ctx), bar2.read(OUT8_15, 1, ctx)]).toEqual([0xa5, 0x3c]);
    lines.setInputs(0x1234);
    expect([bar2.read(IN0_7, 1, ctx), bar2.read(IN8_15, 1, ctx)]).toEqual([0x34, 0x12]);
    expect(lines.filtersOn).toBe(true);
    bar2.write(FILTERS_OFF, 1, 0, ctx);
    expect(lines.filtersOn).toBe(false);
  });

  it('interrupts on an input change only while enabled, once until cleared; reset keeps the inputs', () => {
    const { model, lines } = pciIdio16Model();
    const { ctx, raised } = countingContext();
    const bar2: BarRegisters = model.bars[2]!.registers!;
    bar2.write(IRQ_ENABLE, 1, 0, ctx); // the driver's first access: interrupt off
    lines.setInputs(0x0001);
    expect(raised).toEqual([]);
    bar2.write(IN0_7, 1, 0, ctx); // cleared, then enabled by a read, as the driver unmasks
    expect(bar2.read(IRQ_ENABLE, 1, ctx)).toBe(0);
    expect(lines.interruptEnabled).toBe(true);
    lines.setInputs(0x0001); // no change, no interrupt
    expect(raised).toEqual([]);
    lines.setInputs(0x8001);
    expect(raised).toEqual([0]);
    expect(bar2.read(IRQ_STATUS, 1, ctx)).toBe(PENDING);
    lines.setInputs(0x8000); // one status bit: nothing more until it is cleared
    expect(raised).toEqual([0]);
    bar2.write(IN0_7, 1, PENDING, ctx);
    expect(bar2.read(IRQ_STATUS, 1, ctx)).toBe(0);
    lines.setInputs(0);
    expect(raised).toEqual([0, 0]);
    bar2.write(IN0_7, 1, PENDING, ctx);
    bar2.write(IRQ_ENABLE, 1, 0, ctx);
    lines.setInputs(0xffff);
    expect(raised).toEqual([0, 0]);
    bar2.write(OUT0_7, 1, 0xff, ctx);
    bar2.write(FILTERS_OFF, 1, 0, ctx);
    model.reset!(ctx);
    expect(lines).toMatchObject({ outputs: 0, inputs: 0xffff, interruptEnabled: false, filtersOn: true });
  });
});

const served = servedForTests('pci-idio-16');

describe('the PCI-IDIO-16 model served', () => {
  it("takes the driver's accesses over vfio-user: outputs and inputs through the line window, INTx on a change", () => {
    const before = openFdCount();
    {
      using dev = openDevice(served.address);
      expect([dev.config.vendorId(), dev.config.deviceId()]).toEqual([0x494f, 0x0dc8]);
      expect([dev.regionInfo(2).size, dev.regionInfo(5).size]).toEqual([8n, 4n]);
      const bar2 = dev.bar(2);
      const window = dev.bar(5);
      const irqs = dev.interrupts;
      irqs.enable('intx');
      bar2.write8(IRQ_ENABLE, 0);
      bar2.write8(FILTERS_OFF, 0);
      window.write16(WINDOW_INPUTS, 0x00ff);
      expect(irqs.wait(300)).toEqual([]); // not enabled yet
      expect([bar2.read8(IN0_7), bar2.read8(IN8_15), window.read16(WINDOW_INPUTS)]).toEqual([0xff, 0x00, 0x00ff]);
      bar2.write8(IN0_7, 0);
      bar2.read8(IRQ_ENABLE);
      window.write16(WINDOW_INPUTS, 0x80ff);
      expect(irqs.wait(5000)).toEqual([{ vector: 0, count: 1 }]);
      expect(bar2.read8(IRQ_STATUS)).toBe(PENDING);
      expect(bar2.read8(IN8_15)).toBe(0x80);
      bar2.write8(IN0_7, PENDING);
      expect(bar2.read8(IRQ_STATUS)).toBe(0);
      bar2.write8(OUT0_7, 0x5a);
      bar2.write8(OUT8_15, 0xc3);
      expect(window.read16(WINDOW_OUTPUTS)).toBe(0xc35a);
      bar2.write8(IRQ_ENABLE, 0);
      irqs.disable();
    }
    expect(openFdCount()).toBe(before);
    expect(served.server.stderr()).toBe('');
  });
});
