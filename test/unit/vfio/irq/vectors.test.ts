import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkVectorRange,
  chooseIrqType,
  decodeIrqTag,
  encodeIrqTag,
  eventfdVectors,
  type IrqType,
} from '../../../../src/vfio/irq/vectors.js';

describe('chooseIrqType', () => {
  const caps = (c: Partial<Record<IrqType, [number, boolean]>>) => (t: IrqType) => {
    const [count, eventfd] = c[t] ?? [0, false];
    return { count, eventfd };
  };
  it('prefers MSI-X, then MSI, then INTx, among types with vectors and eventfd signalling', () => {
    expect(chooseIrqType(caps({ intx: [1, true], msi: [1, true], msix: [65, true] }))).toBe('msix');
    expect(chooseIrqType(caps({ intx: [1, true], msi: [1, true], msix: [0, true] }))).toBe('msi');
    expect(chooseIrqType(caps({ intx: [1, true], msi: [4, false] }))).toBe('intx');
    expect(chooseIrqType(caps({}))).toBeUndefined();
  });
});

describe('eventfdVectors', () => {
  it('counts the vectors of each type that signal through eventfds, 0 for the others', () => {
    const info = (c: Record<IrqType, [number, boolean]>) => (t: IrqType) => ({ count: c[t][0], eventfd: c[t][1] });
    expect(eventfdVectors(info({ intx: [1, true], msi: [1, true], msix: [0, true] }))).toEqual({
      intx: 1,
      msi: 1,
      msix: 0,
    });
    expect(eventfdVectors(info({ intx: [1, false], msi: [32, true], msix: [65, false] }))).toEqual({
      intx: 0,
      msi: 32,
      msix: 0,
    });
  });
});

describe('checkVectorRange', () => {
  it('defaults to every vector from start', () => {
    expect(checkVectorRange('dev', 'msix', 65)).toEqual({ start: 0, count: 65 });
    expect(checkVectorRange('dev', 'msix', 65, 60)).toEqual({ start: 60, count: 5 });
    expect(checkVectorRange('dev', 'msix', 65, 2, 4)).toEqual({ start: 2, count: 4 });
  });
  it('rejects ranges outside the device, naming the device, the type and the fix', () => {
    expect(() => checkVectorRange('0000:00:03.0', 'msix', 4, 2, 3)).toThrow(
      /0000:00:03\.0: MSI-X vectors 2\.\.4 are outside the 4 the device has \(irq index 2\): use count 1-2/,
    );
    expect(() => checkVectorRange('d', 'msi', 1, 1)).toThrow(/MSI start vector must be 0-0, got 1/);
    expect(() => checkVectorRange('d', 'msi', 1, 0, 0)).toThrow(RangeError);
    expect(() => checkVectorRange('d', 'msix', 0)).toThrow(/d has no MSI-X vectors .*enable\('auto'\)/);
    expect(() => checkVectorRange('d', 'msix', 8, 1.5)).toThrow(RangeError);
  });
  it('INTx is exactly one vector', () => {
    expect(checkVectorRange('d', 'intx', 1)).toEqual({ start: 0, count: 1 });
  });
  it('accepts exactly the ranges inside the device (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2048 }),
        fc.integer({ min: -2, max: 2100 }),
        fc.integer({ min: -2, max: 2100 }),
        (avail, start, count) => {
          const ok = start >= 0 && count >= 1 && start + count <= avail;
          let threw = false;
          try {
            expect(checkVectorRange('d', 'msix', avail, start, count)).toEqual({ start, count });
          } catch {
            threw = true;
          }
          expect(threw).toBe(!ok);
        },
      ),
    );
  });
});

describe('epoll tags', () => {
  it('round-trip and reject foreign data', () => {
    for (const v of [0, 1, 64, 0xffff_ffff])
      expect(decodeIrqTag(encodeIrqTag({ kind: 'vector', vector: v }))).toEqual({ kind: 'vector', vector: v });
    expect(decodeIrqTag(encodeIrqTag({ kind: 'request' }))).toEqual({ kind: 'request' });
    expect(decodeIrqTag(encodeIrqTag({ kind: 'error' }))).toEqual({ kind: 'error' });
    expect(decodeIrqTag(0n)).toBeUndefined();
    expect(decodeIrqTag(123n)).toBeUndefined();
    expect(() => encodeIrqTag({ kind: 'vector', vector: -1 })).toThrow(RangeError);
  });
});
