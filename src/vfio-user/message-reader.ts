/**
 * Whole messages out of a stream socket read in pieces: bytes are gathered until a header says
 * how long its message is, then until the message is whole. Descriptors belong to the message
 * that holds the last byte of the read that brought them. Linux ends a read right after the
 * first segment of a send that carried descriptors (a sender sends a message's descriptors with
 * its first bytes), but may begin that read with earlier sends: QEMU's DMA unmap followed at once
 * by a map with its memfd arrive as one read whose descriptor is the map's.
 */
import { closeAll, sysClose } from '../sys/index.js';
import { HEADER_SIZE, parseHeader, protocolError, type Message } from './message.js';

const EMPTY = new Uint8Array(0);

/** Descriptors that came with a read, and the stream offset of that read's last byte. */
interface Arrived {
  at: number;
  fds: readonly number[];
}

export class MessageReader {
  readonly #peer: string;
  readonly #maxSize: number;
  readonly #maxFds: number;
  /** Bytes of a message not yet whole, kept from earlier reads. */
  #pending: Uint8Array = EMPTY;
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
    // What is parsed: the read itself when nothing was left over (the common case: no copy).
    const work = this.#pending.length ? Buffer.concat([this.#pending, data]) : data;
    let at = 0;
    const out: Message[] = [];
    try {
      if (this.#arrived.length) {
        const waiting = this.#arrived.reduce((n, a) => n + a.fds.length, 0);
        if (waiting > this.#maxFds)
          throw protocolError(this.#peer, `${waiting} descriptors with one message, over the ${this.#maxFds} agreed`);
      }
      while (work.length - at >= HEADER_SIZE) {
        const h = parseHeader(work.subarray(at, at + HEADER_SIZE), this.#peer, this.#maxSize);
        if (work.length - at < h.size) break;
        this.#taken += h.size;
        let mine: number[] = [];
        if (this.#arrived.length && this.#arrived[0].at < this.#taken) {
          const given = this.#arrived.filter((a) => a.at < this.#taken);
          this.#arrived = this.#arrived.slice(given.length);
          mine = given.flatMap((a) => a.fds);
        }
        // A copy: the read's buffer is the caller's to reuse.
        const payload = Buffer.from(work.subarray(at + HEADER_SIZE, at + h.size));
        out.push({ ...h, payload, fds: mine });
        at += h.size;
      }
    } catch (e) {
      this.close();
      closeAll(out.flatMap((m) => m.fds.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`))));
      throw e;
    }
    this.#pending = at === work.length ? EMPTY : Uint8Array.from(work.subarray(at));
    return out;
  }

  /** Bytes of a message begun but not whole (the peer went away mid-message when nonzero). */
  get pending(): number {
    return this.#pending.length;
  }

  /** Closes the descriptors of a message not yet whole, and forgets its bytes. */
  close(): void {
    const fds = this.#arrived.flatMap((a) => a.fds);
    this.#arrived = [];
    this.#pending = EMPTY;
    closeAll(fds.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`)));
  }
}
