/**
 * The ACCES PCI-IDIO-16 (494f:0dc8: 16 isolated inputs, 16 FET outputs, an interrupt when an
 * input changes) as a vfio-user model, for Linux's own driver to bind: gpio-pci-idio-16
 * (drivers/gpio/gpio-pci-idio-16.c, with the IDIO-16 library drivers/gpio/gpio-idio-16.c; read
 * in the 7.3 sources). What it follows is what that driver does:
 *
 * - the registers are in BAR2, 8-bit, on I/O ports (`pcim_iomap_region(pdev, 2, ...)`, a regmap
 *   with 8-bit registers and values, `io_port`, `max_register` 7); BAR0 and BAR1 (the card's PCI
 *   bridge chip) are not modelled: no Linux driver touches them;
 * - OUT0-7 at 0x0 and OUT8-15 at 0x4, IIN0-7 at 0x1 and IIN8-15 at 0x5 (`IDIO_16_OUT_BASE`,
 *   `IDIO_16_IN_BASE`, `IDIO_16_REG_STRIDE` 4);
 * - a write to 0x1 clears the interrupt (`IDIO_16_CLEAR_INTERRUPT`), a read of 0x2 enables it and
 *   a write disables it (`IDIO_16_ENABLE_IRQ`, `IDIO_16_DISABLE_IRQ`; 0x2 is the regmap's one
 *   precious register), a write to 0x3 deactivates the input filters, bit 2 of 0x6 is the
 *   pending interrupt (`IDIO_16_INTERRUPT_STATUS`, the mask of every line's regmap irq);
 * - the interrupt is INTx (`pdev->irq`), raised when an input changes while it is enabled.
 *
 * The driver never reads the outputs back (0x0 and 0x4 are not in its regmap's readable ranges);
 * the model answers them with what was written. The inputs come from outside: `lines.setInputs`
 * on the host, or, with `lineWindow`, a small I/O BAR that is not on the card (BAR5: INPUTS at 0,
 * what drives IIN0-15, and OUTPUTS at 2, what OUT0-15 drive, 16 bits each), through which a
 * program in the guest drives the inputs and sees the outputs while the kernel driver has BAR2
 * (`/sys/bus/pci/devices/ADDR/resource5` reads and writes I/O ports).
 */
import {
  RegisterFile,
  defineRegisterMap,
  type BarModel,
  type DeviceModel,
  type ModelContext,
} from '../../src/index.js';

/** The card's registers: BAR2, eight 8-bit I/O ports. */
export const PCI_IDIO_16_MAP = defineRegisterMap({
  name: 'pci-idio-16',
  bar: 2,
  size: 8,
  registers: {
    OUT0_7: { offset: 0x0, width: 8, description: 'bit n drives OUTn; the driver keeps its own copy' },
    IN0_7: { offset: 0x1, width: 8, description: 'read: bit n is IINn; write (any value): clears the interrupt' },
    IRQ_ENABLE: {
      offset: 0x2,
      width: 8,
      readEffect: 'modify',
      description: 'read: enables the change-of-state interrupt; write (any value): disables it',
    },
    FILTERS_OFF: { offset: 0x3, width: 8, access: 'wo', description: 'write (any value): input filters off' },
    OUT8_15: { offset: 0x4, width: 8, description: 'bit n drives OUT(8+n)' },
    IN8_15: { offset: 0x5, width: 8, access: 'ro', description: 'bit n is IIN(8+n)' },
    IRQ_STATUS: { offset: 0x6, width: 8, access: 'ro', fields: { PENDING: { bits: 2 } } },
  },
});

/** The line window (BAR5, not on the card): the model's lines for a program beside the driver. */
export const IDIO_16_LINE_WINDOW_MAP = defineRegisterMap({
  name: 'pci-idio-16 line window',
  bar: 5,
  size: 4,
  registers: {
    INPUTS: { offset: 0x0, width: 16, description: 'bit n drives IINn' },
    OUTPUTS: { offset: 0x2, width: 16, access: 'ro', description: 'bit n is what OUTn drives' },
  },
});

const PENDING = 1n << 2n;

/** The model's lines as the outside world sees them. */
export interface Idio16Lines {
  /** What OUT0-15 drive, bit n for OUTn: as the driver last wrote them. */
  readonly outputs: number;
  /** What drives IIN0-15, bit n for IINn. */
  readonly inputs: number;
  /** Whether the change-of-state interrupt is enabled (the driver enables it while a line's irq is in use). */
  readonly interruptEnabled: boolean;
  /** Whether the input filters are on (as after power-on; the driver turns them off). */
  readonly filtersOn: boolean;
  /**
   * Puts `bits` on IIN0-15. A change raises INTx when the interrupt is enabled and none is
   * pending (one pending bit in IRQ_STATUS: changes before the driver clears it raise nothing more).
   */
  setInputs(bits: number): void;
}

/** A PCI-IDIO-16 model and its lines. */
export interface PciIdio16 {
  model: DeviceModel;
  lines: Idio16Lines;
}

/** A fresh PCI-IDIO-16; `lineWindow` adds BAR5 (above). */
export function pciIdio16Model(options: { lineWindow?: boolean } = {}): PciIdio16 {
  let inputs = 0;
  let interruptEnabled = false;
  let filtersOn = true;
  /** The context of the access that enabled the interrupt: an input set from outside raises through it. */
  let irqContext: ModelContext | undefined;

  const regs = new RegisterFile(PCI_IDIO_16_MAP, {
    onRead: {
      IN0_7: ({ regs }) => regs.set('IN0_7', inputs & 0xff),
      IN8_15: ({ regs }) => regs.set('IN8_15', inputs >> 8),
      IRQ_ENABLE: ({ regs, ctx }) => {
        interruptEnabled = true;
        irqContext = ctx;
        regs.set('IRQ_ENABLE', 0); // what it reads is of no use; the driver drops it
      },
    },
    onWrite: {
      IN0_7: (_, { regs }) => regs.set('IRQ_STATUS', 0),
      IRQ_ENABLE: () => (interruptEnabled = false),
      FILTERS_OFF: () => (filtersOn = false),
    },
  });

  const outputs = () => Number(regs.get('OUT0_7') | (regs.get('OUT8_15') << 8n));

  const setInputs = (bits: number, ctx = irqContext) => {
    const next = bits & 0xffff;
    if (next === inputs) return;
    inputs = next;
    if (!interruptEnabled || regs.get('IRQ_STATUS') & PENDING) return;
    regs.set('IRQ_STATUS', PENDING);
    ctx?.interrupt(0);
  };

  const bars: Array<BarModel | undefined> = [undefined, undefined, { size: 8, io: true, registers: regs }];
  if (options.lineWindow) {
    const window = new RegisterFile(IDIO_16_LINE_WINDOW_MAP, {
      onRead: {
        INPUTS: (e) => e.regs.set('INPUTS', inputs),
        OUTPUTS: (e) => e.regs.set('OUTPUTS', outputs()),
      },
      onWrite: { INPUTS: (bits, { ctx }) => setInputs(Number(bits), ctx) },
    });
    bars.push(undefined, undefined, { size: 4, io: true, registers: window });
  }

  return {
    model: {
      name: 'PCI-IDIO-16 model',
      // The driver matches the ids alone; the class code is "unclassified", not read from a card.
      identity: { vendorId: 0x494f, deviceId: 0x0dc8, classCode: 0xff0000 },
      bars,
      interrupts: { intx: true },
      reset() {
        // Outputs off, interrupt disabled and clear, filters on; the inputs are the outside world's.
        regs.reset();
        interruptEnabled = false;
        filtersOn = true;
      },
    },
    lines: {
      get outputs() {
        return outputs();
      },
      get inputs() {
        return inputs;
      },
      get interruptEnabled() {
        return interruptEnabled;
      },
      get filtersOn() {
        return filtersOn;
      },
      setInputs: (bits) => setInputs(bits),
    },
  };
}
