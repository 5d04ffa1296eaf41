// INTx auto-unmask: an unmask is owed after interrupts were handed out, and paid when the
// consumer comes back (settle), only while armed.
import { describe, expect, it, vi } from 'vitest';
import { IntxAutoUnmask } from '../../../../src/vfio/irq/intx-unmask.js';

const fired = [{ vector: 0, count: 1 }];

/** An armed auto-unmask over a recording unmask. */
function armed(): { unmask: ReturnType<typeof vi.fn>; intx: IntxAutoUnmask } {
  const unmask = vi.fn();
  const intx = new IntxAutoUnmask(unmask);
  intx.arm(true);
  return { unmask, intx };
}

describe('IntxAutoUnmask', () => {
  it('unmasks once when the consumer comes back after an interrupt, not before, not twice', () => {
    const { unmask, intx } = armed();
    intx.settle();
    expect(unmask).not.toHaveBeenCalled();
    intx.delivered(fired);
    expect(intx.owed).toBe(true);
    intx.settle();
    intx.settle();
    expect(unmask).toHaveBeenCalledTimes(1);
    expect(intx.owed).toBe(false);
  });

  it('owes nothing for an empty batch (a timeout)', () => {
    const { unmask, intx } = armed();
    intx.delivered([]);
    intx.settle();
    expect(unmask).not.toHaveBeenCalled();
  });

  it('never unmasks when not armed (MSI, MSI-X, or INTx with autoUnmask false)', () => {
    const unmask = vi.fn();
    const intx = new IntxAutoUnmask(unmask);
    intx.delivered(fired);
    intx.arm(false);
    intx.delivered(fired);
    intx.settle();
    expect(unmask).not.toHaveBeenCalled();
  });

  it('an unmask by hand, a new arming or a disarming clears the debt', () => {
    const { unmask, intx } = armed();
    intx.delivered(fired);
    intx.unmasked();
    intx.settle();
    intx.delivered(fired);
    intx.arm(true);
    intx.settle();
    intx.delivered(fired);
    intx.arm(false);
    intx.settle();
    expect(unmask).not.toHaveBeenCalled();
  });

  it('a failed unmask stays owed and is tried again on the next settle', () => {
    const unmask = vi.fn().mockImplementationOnce(() => {
      throw new Error('EIO');
    });
    const intx = new IntxAutoUnmask(unmask);
    intx.arm(true);
    intx.delivered(fired);
    expect(() => intx.settle()).toThrow('EIO');
    expect(intx.owed).toBe(true);
    intx.settle();
    expect(unmask).toHaveBeenCalledTimes(2);
    expect(intx.owed).toBe(false);
  });
});
