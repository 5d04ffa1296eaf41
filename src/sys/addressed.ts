/** Memory at an address that does not move, for the system calls made most often. */
import { koffi } from '../../structs/index.js';

/**
 * A small buffer whose bytes stay at one address for its whole life (an ArrayBuffer's own
 * memory never moves), for system calls made often with the same memory: the address is
 * passed as a number, so koffi takes its fast call path. Keep the object while the address
 * is in use.
 */
export class AddressedMemory {
  readonly buffer: ArrayBuffer;
  /** The address of the first byte, as a number (user-space addresses fit in 53 bits). */
  readonly address: number;

  constructor(length: number) {
    this.buffer = new ArrayBuffer(length);
    this.address = Number(koffi.address(new Uint8Array(this.buffer)));
  }
}
