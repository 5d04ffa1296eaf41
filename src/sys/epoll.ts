/** An epoll instance: many eventfds behind one fd, waited on synchronously or watched with `FdWatcher`. */
import {
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLIN,
  epoll_event,
  encodeStruct,
} from '../../structs/index.js';
import { sysClose, sysEpollCreate, sysEpollCtl, sysEpollWait } from './calls.js';
import { AddressedMemory } from './addressed.js';
import { Resource } from './resource.js';

/** One ready fd from `epoll_wait`: the `data` given when it was added, and the event bits. */
export interface EpollReady {
  data: bigint;
  events: number;
}

/** Where `data` sits in an `epoll_event`, in 32-bit words (the struct is packed on x86-64 only). */
const DATA_WORD = epoll_event.members!.data.offset / 4;
const EVENT_WORDS = epoll_event.size / 4;

export class Epoll extends Resource {
  readonly fd: number;
  readonly #name: string;
  /** Reused across waits (a wait is synchronous, so one array is enough), at a fixed address. */
  #events = new AddressedMemory(epoll_event.size * 64);
  #words = new Uint32Array(this.#events.buffer);
  #capacity = 64;

  constructor() {
    super();
    this.fd = sysEpollCreate(EPOLL_CLOEXEC);
    this.#name = `epoll ${this.fd}`;
  }

  get name(): string {
    return this.#name;
  }

  /** Watches `fd` for `events` (readable by default); `data` comes back with each event. */
  add(fd: number, data: bigint, events = EPOLLIN): void {
    this.check();
    const ev = Buffer.alloc(epoll_event.size);
    encodeStruct(ev, epoll_event, { events, data });
    sysEpollCtl(this.fd, EPOLL_CTL_ADD, 'EPOLL_CTL_ADD', fd, ev);
  }

  /** Stops watching `fd`. */
  remove(fd: number): void {
    this.check();
    sysEpollCtl(this.fd, EPOLL_CTL_DEL, 'EPOLL_CTL_DEL', fd, null);
  }

  /** Blocks the calling thread up to `timeoutMs` (-1: forever) and returns the ready fds. */
  wait(timeoutMs: number, maxEvents = 64): EpollReady[] {
    this.check();
    if (this.#capacity < maxEvents) {
      this.#events = new AddressedMemory(epoll_event.size * maxEvents);
      this.#words = new Uint32Array(this.#events.buffer);
      this.#capacity = maxEvents;
    }
    const n = sysEpollWait(this.fd, this.#events.address, maxEvents, timeoutMs, this.#name);
    const w = this.#words;
    const out: EpollReady[] = [];
    for (let i = 0, at = 0; i < n; i++, at += EVENT_WORDS)
      out.push({ events: w[at], data: BigInt(w[at + DATA_WORD]) | (BigInt(w[at + DATA_WORD + 1]) << 32n) });
    return out;
  }

  /**
   * Like `wait`, but each ready fd's `data` as a number, into `out` (cleared first; no object
   * per event): for data values below 2^53. Returns how many are ready.
   */
  waitData(timeoutMs: number, out: number[]): number {
    this.check();
    const n = sysEpollWait(this.fd, this.#events.address, this.#capacity, timeoutMs, this.#name);
    const w = this.#words;
    out.length = n;
    for (let i = 0, at = DATA_WORD; i < n; i++, at += EVENT_WORDS) out[i] = w[at] + w[at + 1] * 0x1_0000_0000;
    return n;
  }

  /**
   * Like `wait`, but returns only how many fds are ready, decoding nothing: for a caller that
   * watches one fd, where any event is that fd's (no array or object per wait).
   */
  waitCount(timeoutMs: number): number {
    this.check();
    return sysEpollWait(this.fd, this.#events.address, 1, timeoutMs, this.#name);
  }

  protected release(): void {
    sysClose(this.fd, this.name);
  }
}
