import { describe, expect, it } from 'vitest';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_PCI_MSIX_IRQ_INDEX,
  buildIrqSet,
  decodeStruct,
  vfio_irq_set,
} from '../../../structs/index.js';

describe('vfio_irq_set builder', () => {
  it('one eventfd per vector, all of them in the trailing array', () => {
    const buf = buildIrqSet({
      index: VFIO_PCI_MSIX_IRQ_INDEX,
      start: 0,
      count: 4,
      action: VFIO_IRQ_SET_ACTION_TRIGGER,
      eventfds: [10, 11, -1, 13],
    });
    expect(buf.length).toBe(20 + 16);
    expect(decodeStruct(buf, vfio_irq_set)).toEqual({
      argsz: 36,
      flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
      index: 2,
      start: 0,
      count: 4,
    });
    expect([0, 1, 2, 3].map((i) => buf.readInt32LE(20 + 4 * i))).toEqual([10, 11, -1, 13]);
  });

  it('disable: DATA_NONE with count 0 and no data', () => {
    const buf = buildIrqSet({ index: 1, start: 0, count: 0, action: VFIO_IRQ_SET_ACTION_TRIGGER });
    expect(decodeStruct(buf, vfio_irq_set)).toEqual({
      argsz: 20,
      flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
      index: 1,
      start: 0,
      count: 0,
    });
  });

  it('bools', () => {
    const buf = buildIrqSet({ index: 0, start: 0, count: 1, action: VFIO_IRQ_SET_ACTION_UNMASK, bools: [true] });
    expect(buf.readUInt32LE(4)).toBe(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK);
    expect(buf[20]).toBe(1);
  });

  it('rejects a count that does not match the eventfds (the seed bug)', () => {
    expect(() =>
      buildIrqSet({ index: 2, start: 0, count: 4, action: VFIO_IRQ_SET_ACTION_TRIGGER, eventfds: [10] }),
    ).toThrow(/count is 4 but 1 eventfds/);
    expect(() =>
      buildIrqSet({ index: 2, start: 0, count: 1, action: VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_ACTION_UNMASK }),
    ).toThrow(/exactly one ACTION/);
    expect(() => buildIrqSet({ index: -1, start: 0, count: 0, action: VFIO_IRQ_SET_ACTION_TRIGGER })).toThrow(
      /index must be a u32/,
    );
  });
});
