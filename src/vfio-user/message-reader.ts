/**
 * Whole messages out of a stream socket read in pieces: bytes are gathered until a header says
 * how long its message is, then until the message is whole. Descriptors belong to the message
 * that holds the last byte of the read that brought them. Linux ends a read right after the
 * first segment of a send that carried descriptors (a sender sends a message's descriptors with
 * its first bytes), but may begin that read with earlier sends: QEMU's DMA unmap followed at once
 * by a map with its memfd arrive as one read whose descriptor is the map's.
 */
import { closeAll, sysClose } from '../sys/index.js';
import { HEADER_SIZE, parseHeader, protocolError, type Message, type MessageHeader } from './message.js';

/** Descriptors that came with a read, and the stream offset of that read's last byte. */
interface Arrived {
  at: number;
  fds: readonly number[];
}

export class MessageReader {
  readonly #peer: string;
  readonly #maxSize: number;
  readonly #maxFds: number;
  #chunks: Uint8Array[] = [];
  #have = 0;
  #header: MessageHeader | undefined;
  /** Bytes fed so far, and bytes of the messages taken out: stream offsets. */
  #received = 0;
  #taken = 0;
  /** Descriptors not yet given to a message, oldest first. */
  #arrived: Arrived[] = [];

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
    // A read without bytes (none on a stream socket with descriptors) counts as the next byte's.
    if (fds.length) this.#arrived.push({ at: this.#received + Math.max(0, data.length - 1), fds: [...fds] });
    this.#received += data.length;
    if (data.length) this.#chunks.push(Uint8Array.from(data));
    this.#have += data.length;
    const out: Message[] = [];
    try {
      const waiting = this.#arrived.reduce((n, a) => n + a.fds.length, 0);
      if (waiting > this.#maxFds)
        throw protocolError(this.#peer, `${waiting} descriptors with one message, over the ${this.#maxFds} agreed`);
      for (;;) {
        if (!this.#header) {
          if (this.#have < HEADER_SIZE) break;
          this.#header = parseHeader(this.#peek(HEADER_SIZE), this.#peer, this.#maxSize);
        }
        if (this.#have < this.#header.size) break;
        const bytes = this.#take(this.#header.size);
        this.#taken += this.#header.size;
        const mine = this.#arrived.filter((a) => a.at < this.#taken);
        this.#arrived = this.#arrived.slice(mine.length);
        out.push({
          ...this.#header,
          payload: Buffer.from(bytes.subarray(HEADER_SIZE)),
          fds: mine.flatMap((a) => a.fds),
        });
        this.#header = undefined;
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
    const fds = this.#arrived.flatMap((a) => a.fds);
    this.#arrived = [];
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
