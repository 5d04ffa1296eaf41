/** `eventfd` counters: the kernel signals an interrupt by adding to one. */
import { EFD_CLOEXEC, EFD_NONBLOCK } from '../../structs/index.js';
import { sysClose, sysEventfd, sysReadAt, sysWriteAt } from './calls.js';
import { AddressedMemory } from './addressed.js';
import { Resource } from './resource.js';

/** 2^32, for the high word of a counter. */
const HIGH = 0x1_0000_0000;

/**
 * An eventfd owned by this process, closed on `close()`. A read or a signal is one system call
 * on memory of its own at a fixed address, with no allocation (one per interrupt, on the path
 * a wake-up takes).
 */
export class EventFd extends Resource {
  readonly fd: number;
  readonly #name: string;
  /** Bytes 0-7: the counter read; 8-15: the value a signal adds. */
  readonly #memory = new AddressedMemory(16);
  readonly #words = new Uint32Array(this.#memory.buffer);
  readonly #quads = new BigUint64Array(this.#memory.buffer);

  /** A non-blocking eventfd (reads return 0 when the counter is zero). */
  constructor(initial = 0) {
    super();
    this.fd = sysEventfd(initial, EFD_CLOEXEC | EFD_NONBLOCK);
    this.#name = `eventfd ${this.fd}`;
  }

  get name(): string {
    return this.#name;
  }

  /** Reads and clears the counter: how many times it was signalled since the last read. */
  read(): bigint {
    this.check();
    return sysReadAt(this.fd, this.#memory.address, 8, this.#name) === null ? 0n : this.#quads[0];
  }

  /**
   * `read()` as a number (exact up to 2^53; an interrupt count does not get near): the form
   * the interrupt waits use, which makes no bigint.
   */
  readCount(): number {
    this.check();
    if (sysReadAt(this.fd, this.#memory.address, 8, this.#name) === null) return 0;
    return this.#words[0] + this.#words[1] * HIGH;
  }

  /** Adds `n` to the counter (signals it). */
  signal(n: bigint = 1n): void {
    this.check();
    this.#quads[1] = n;
    sysWriteAt(this.fd, this.#memory.address + 8, 8, this.#name);
  }

  protected release(): void {
    sysClose(this.fd, this.#name);
  }
}
