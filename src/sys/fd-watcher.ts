/**
 * Watches a file descriptor from Node's own event loop (libuv's poll handle, through koffi),
 * so waiting for an eventfd or an epoll fd needs no thread and never blocks JavaScript.
 * Node cannot do this itself: `net.Socket` refuses eventfds (ERR_INVALID_FD_TYPE).
 */
import { koffi } from '../../structs/index.js';
import { Resource } from './resource.js';

// koffi's poll API is not documented yet: the callback gets (status, events), status 0 or a
// negative libuv error (its TypeScript declaration shows only the events).
type PollCallback = (status: number, ev: { readable: boolean } | undefined) => void;

interface PollHandle {
  start(opts: { readable?: boolean }, callback: PollCallback): void;
  stop(): void;
  close(): void;
  ref(): void;
  unref(): void;
}

const poll = (
  koffi as unknown as {
    node: { poll(this: void, fd: number, opts: { readable?: boolean }, cb: PollCallback): PollHandle };
  }
).node.poll;

/**
 * Calls `onReadable` on the event loop whenever `fd` is readable, between `start()` and
 * `stop()`. While started, the watcher keeps the process alive (like a listening socket).
 */
export class FdWatcher extends Resource {
  readonly fd: number;
  readonly #onReadable: () => void;
  #handle: PollHandle | undefined;
  #started = false;

  constructor(fd: number, onReadable: () => void) {
    super();
    this.fd = fd;
    this.#onReadable = onReadable;
  }

  get name(): string {
    return `watcher of fd ${this.fd}`;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Starts watching (idempotent). */
  start(): void {
    this.check();
    if (this.#started) return;
    // On an error status the fd is checked all the same: the callback reads it without blocking.
    const cb: PollCallback = (status, ev) => {
      if (this.#started && (status !== 0 || ev?.readable)) this.#onReadable();
    };
    if (this.#handle) this.#handle.start({ readable: true }, cb);
    else this.#handle = poll(this.fd, { readable: true }, cb);
    this.#started = true;
  }

  /** Stops watching (idempotent); the process may exit while stopped. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#handle?.stop();
  }

  protected release(): void {
    this.#started = false;
    this.#handle?.close();
    this.#handle = undefined;
  }
}
