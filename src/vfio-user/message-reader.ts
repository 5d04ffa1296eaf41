/**
 * Whole messages out of a stream socket read in pieces: bytes are gathered until a header says
 * how long its message is, then until the message is whole. Descriptors belong to the message
 * being gathered when they arrive (Linux ends a read at a send that carried descriptors, and
 * each sender sends a message's descriptors with its first bytes).
 */
import { closeAll, sysClose } from '../sys/index.js';
import { HEADER_SIZE, parseHeader, protocolError, type Message, type MessageHeader } from './message.js';

export class MessageReader {
  readonly #peer: string;
  readonly #maxSize: number;
  readonly #maxFds: number;
  #chunks: Uint8Array[] = [];
  #have = 0;
  #header: MessageHeader | undefined;
  #fds: number[] = [];

  /** `maxSize`: the largest message accepted; `maxFds`: the most descriptors one may carry. */
  constructor(peer: string, maxSize: number, maxFds: number) {
    this.#peer = peer;
    this.#maxSize = maxSize;
    this.#maxFds = maxFds;
  }

  /**
   * Adds what was read; returns the messages now whole (their descriptors become the caller's).
   * Throws `ERR_VFIO_PROTOCOL` for a bad header or too many descriptors; the reader then holds
   * nothing (what it had is closed) and the connection must end.
   */
  feed(data: Uint8Array, fds: readonly number[]): Message[] {
    this.#fds.push(...fds);
    if (data.length) this.#chunks.push(Uint8Array.from(data));
    this.#have += data.length;
    const out: Message[] = [];
    try {
      if (this.#fds.length > this.#maxFds)
        throw protocolError(
          this.#peer,
          `${this.#fds.length} descriptors with one message, over the ${this.#maxFds} agreed`,
        );
      for (;;) {
        if (!this.#header) {
          if (this.#have < HEADER_SIZE) break;
          this.#header = parseHeader(this.#peek(HEADER_SIZE), this.#peer, this.#maxSize);
        }
        if (this.#have < this.#header.size) break;
        const bytes = this.#take(this.#header.size);
        out.push({ ...this.#header, payload: Buffer.from(bytes.subarray(HEADER_SIZE)), fds: this.#fds });
        this.#header = undefined;
        this.#fds = [];
      }
    } catch (e) {
      this.close();
      closeAll(out.flatMap((m) => m.fds.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`))));
      throw e;
    }
    return out;
  }

  /** Bytes of a message begun but not whole (the peer went away mid-message when nonzero). */
  get pending(): number {
    return this.#have;
  }

  /** Closes the descriptors of a message not yet whole, and forgets its bytes. */
  close(): void {
    const fds = this.#fds;
    this.#fds = [];
    this.#chunks = [];
    this.#have = 0;
    this.#header = undefined;
    closeAll(fds.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`)));
  }

  #peek(n: number): Uint8Array {
    const all = this.#join();
    return all.subarray(0, n);
  }

  #take(n: number): Uint8Array {
    const all = this.#join();
    const rest = all.subarray(n);
    this.#chunks = rest.length ? [rest] : [];
    this.#have = rest.length;
    return all.subarray(0, n);
  }

  #join(): Uint8Array {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? new Uint8Array(0);
  }
}
