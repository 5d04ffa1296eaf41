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
import { Resource } from './resource.js';

/** One ready fd from `epoll_wait`: the `data` given when it was added, and the event bits. */
export interface EpollReady {
  data: bigint;
  events: number;
}

export class Epoll extends Resource {
  readonly fd: number;
  /** Reused across waits: a wait is synchronous, so one buffer is enough. */
  #events = Buffer.alloc(epoll_event.size * 64);

  constructor() {
    super();
    this.fd = sysEpollCreate(EPOLL_CLOEXEC);
  }

  get name(): string {
    return `epoll ${this.fd}`;
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
    if (this.#events.length < epoll_event.size * maxEvents) this.#events = Buffer.alloc(epoll_event.size * maxEvents);
    const buf = this.#events;
    return decodeEvents(buf, sysEpollWait(this.fd, buf, maxEvents, timeoutMs));
  }

  /**
   * Like `wait`, but returns only how many fds are ready, decoding nothing: for a caller that
   * watches one fd, where any event is that fd's (no array or object per wait).
   */
  waitCount(timeoutMs: number): number {
    this.check();
    return sysEpollWait(this.fd, this.#events, 1, timeoutMs);
  }

  protected release(): void {
    sysClose(this.fd, this.name);
  }
}

function decodeEvents(buf: Buffer, n: number): EpollReady[] {
  const out: EpollReady[] = [];
  const dataOffset = epoll_event.members!.data.offset;
  for (let i = 0; i < n; i++) {
    const at = i * epoll_event.size;
    out.push({ events: buf.readUInt32LE(at), data: buf.readBigUInt64LE(at + dataOffset) });
  }
  return out;
}
