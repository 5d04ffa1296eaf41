/**
 * INTx auto-unmask. The kernel masks INTx on every interrupt (the line is level-triggered: left
 * unmasked, it would fire for as long as the device holds it). The consumer clears the
 * device's condition while handling the interrupt; when it comes back for the next one, the
 * line can be unmasked. No system call of its own, so it is unit-tested on the host.
 */
import type { IrqFired } from './wait-queue.js';

/** Whether an unmask is owed, and paying it when the consumer comes back. */
export class IntxAutoUnmask {
  readonly #unmask: () => void;
  #armed = false;
  #owed = false;

  /** `unmask` unmasks the INTx line (it is called only while armed). */
  constructor(unmask: () => void) {
    this.#unmask = unmask;
  }

  /** Whether an interrupt was handed out since the line was last unmasked. */
  get owed(): boolean {
    return this.#owed;
  }

  /** After an enable: unmask automatically (INTx with `autoUnmask`) or never (MSI, MSI-X, or INTx without). */
  arm(auto: boolean): void {
    this.#armed = auto;
    this.#owed = false;
  }

  /** Interrupts were handed to the consumer: the kernel masked the line when it fired. */
  delivered(fired: readonly IrqFired[]): void {
    if (this.#armed && fired.length > 0) this.#owed = true;
  }

  /** The line was unmasked (by `unmask()`, or set up afresh): nothing is owed. */
  unmasked(): void {
    this.#owed = false;
  }

  /**
   * The consumer is back for the next interrupt, so it handled the last one: unmask now if an
   * interrupt was handed out since the last unmask. If the unmask fails it is owed still.
   */
  settle(): void {
    if (this.#owed) this.#unmask();
    this.#owed = false;
  }
}
