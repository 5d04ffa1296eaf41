/** An epoll instance: many eventfds behind one fd, waited on synchronously or watched with `FdWatcher`. */
import {
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLIN,
  epoll_event,
  encodeStruct,
} from '../../structs/index.js';
import { errno, libc } from './libc.js';
import { SysError } from './errors.js';
import { sysClose } from './calls.js';
import { Resource } from './resource.js';

/** One ready fd from `epoll_wait`: the `data` given when it was added, and the event bits. */
export interface EpollReady {
  data: bigint;
  events: number;
}

const EINTR = 4;

export class Epoll extends Resource {
  readonly fd: number;
  /** Reused across waits: a wait is synchronous, so one buffer is enough. */
  #events = Buffer.alloc(epoll_event.size * 64);

  constructor() {
    super();
    const fd = libc.epoll_create1(EPOLL_CLOEXEC) as number;
    if (fd < 0) throw new SysError({ syscall: 'epoll_create1', errno: errno() });
    this.fd = fd;
  }

  get name(): string {
    return `epoll ${this.fd}`;
  }

  /** Watches `fd` for `events` (readable by default); `data` comes back with each event. */
  add(fd: number, data: bigint, events = EPOLLIN): void {
    this.check();
    const ev = Buffer.alloc(epoll_event.size);
    encodeStruct(ev, epoll_event, { events, data });
    if (libc.epoll_ctl(this.fd, EPOLL_CTL_ADD, fd, ev) < 0)
      throw new SysError({ syscall: 'epoll_ctl(EPOLL_CTL_ADD)', errno: errno(), target: `fd ${fd}` });
  }

  /** Stops watching `fd`. */
  remove(fd: number): void {
    this.check();
    if (libc.epoll_ctl(this.fd, EPOLL_CTL_DEL, fd, null) < 0)
      throw new SysError({ syscall: 'epoll_ctl(EPOLL_CTL_DEL)', errno: errno(), target: `fd ${fd}` });
  }

  /** Blocks the calling thread up to `timeoutMs` (-1: forever) and returns the ready fds. */
  wait(timeoutMs: number, maxEvents = 64): EpollReady[] {
    this.check();
    if (this.#events.length < epoll_event.size * maxEvents) this.#events = Buffer.alloc(epoll_event.size * maxEvents);
    const buf = this.#events;
    for (;;) {
      const n = libc.epoll_wait(this.fd, buf, maxEvents, timeoutMs) as number;
      if (n >= 0) return decodeEvents(buf, n);
      if (errno() !== EINTR) throw new SysError({ syscall: 'epoll_wait', errno: errno(), target: `epoll ${this.fd}` });
    }
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
