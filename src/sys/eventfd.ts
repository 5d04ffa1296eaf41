/** `eventfd` counters: the kernel signals an interrupt by adding to one. */
import { EFD_CLOEXEC, EFD_NONBLOCK } from '../../structs/index.js';
import { sysClose, sysEventfd, sysRead, sysWrite } from './calls.js';
import { Resource } from './resource.js';

/** An eventfd owned by this process, closed on `close()`. */
export class EventFd extends Resource {
  readonly fd: number;
  readonly #buf = Buffer.alloc(8);
  readonly #out = Buffer.alloc(8);

  /** A non-blocking eventfd (reads return `0n` when the counter is zero). */
  constructor(initial = 0) {
    super();
    this.fd = sysEventfd(initial, EFD_CLOEXEC | EFD_NONBLOCK);
  }

  get name(): string {
    return `eventfd ${this.fd}`;
  }

  /** Reads and clears the counter: how many times it was signalled since the last read. */
  read(): bigint {
    this.check();
    const n = sysRead(this.fd, this.#buf, 8, this.name);
    return n === null ? 0n : this.#buf.readBigUInt64LE(0);
  }

  /** Adds `n` to the counter (signals it). */
  signal(n: bigint = 1n): void {
    this.check();
    this.#out.writeBigUInt64LE(n);
    sysWrite(this.fd, this.#out, 8, this.name);
  }

  protected release(): void {
    sysClose(this.fd, this.name);
  }
}
