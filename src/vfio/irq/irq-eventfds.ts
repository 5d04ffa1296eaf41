/**
 * Where a device's interrupt eventfds are watched: the epoll a blocking `wait()` sleeps on,
 * which holds them all, and the event loop's watch for the asynchronous waits (a libuv poll
 * handle through koffi, `FdWatcher`): on the eventfd itself while there is one, so a wake-up
 * goes through no epoll of ours; on a second epoll holding them all while there are more (or
 * none yet).
 */
import { closeAll, Epoll, FdWatcher, type EventFd } from '../../sys/index.js';
import { encodeIrqTag, type IrqTag } from './vectors.js';

/** A watched eventfd and what it signals: `vector` is REQUEST_VECTOR or ERROR_VECTOR for the kernel's signals. */
export interface WatchedEventfd {
  vector: number;
  fd: EventFd;
}

/** The `vector` of the request's eventfd. */
export const REQUEST_VECTOR = -1;
/** The `vector` of the error's eventfd. */
export const ERROR_VECTOR = -2;

const vectorOf = (tag: IrqTag): number =>
  tag.kind === 'vector' ? tag.vector : tag.kind === 'request' ? REQUEST_VECTOR : ERROR_VECTOR;

/** The epoll data of a tag as a number (below 2^35: exact). */
const dataOf = (tag: IrqTag): number => Number(encodeIrqTag(tag));

/** The watched eventfds by the epoll data of their tags, their epolls and the event loop's watch. */
export class IrqEventfds {
  readonly #onReadable: () => void;
  readonly #watched = new Map<number, WatchedEventfd>();
  #only: WatchedEventfd | undefined;
  /** Opened with the first eventfd or wait, so that `dev.interrupts` itself makes no system call. */
  #sync: Epoll | undefined;
  /** The epoll the event loop watches while there is not exactly one eventfd. */
  #merged: Epoll | undefined;
  /** Whether `#merged` holds the watched eventfds (while there are two or more). */
  #mergedHolds = false;
  #watcher: FdWatcher | undefined;

  /** `onReadable` runs on the event loop when a watched eventfd may be ready (between `start` and `stop`). */
  constructor(onReadable: () => void) {
    this.#onReadable = onReadable;
  }

  /** The eventfd, while exactly one is watched. */
  get only(): WatchedEventfd | undefined {
    return this.#only;
  }

  /** The eventfd watched under epoll data `data`. */
  get(data: number): WatchedEventfd | undefined {
    return this.#watched.get(data);
  }

  /** Whether any vector's eventfd is watched (not only the kernel's signals). */
  hasVectors(): boolean {
    for (const w of this.#watched.values()) if (w.vector >= 0) return true;
    return false;
  }

  /** The epoll that holds every watched eventfd, for a blocking wait. */
  sync(): Epoll {
    return (this.#sync ??= new Epoll());
  }

  /** With more than one eventfd: the epoll data of the ready ones, into `out` (without blocking). */
  readyData(out: number[]): void {
    if (this.#merged) this.#merged.waitData(0, out);
    else out.length = 0;
  }

  /** Watches `fd` under `tag`. */
  add(tag: IrqTag, fd: EventFd): void {
    const data = encodeIrqTag(tag);
    const sync = this.sync();
    sync.add(fd.fd, data);
    const added = this.#mergedHolds;
    try {
      if (added) this.#merged!.add(fd.fd, data);
      this.#watched.set(Number(data), { vector: vectorOf(tag), fd });
      this.#retarget();
    } catch (e) {
      this.#watched.delete(Number(data));
      closeAll([() => added && this.#merged!.remove(fd.fd), () => sync.remove(fd.fd), () => this.#retarget()]);
      throw e;
    }
  }

  /** Stops watching the eventfd of `tag` (the caller closes it); returns what was watched. */
  remove(tag: IrqTag): WatchedEventfd | undefined {
    const data = dataOf(tag);
    const w = this.#watched.get(data);
    if (!w) return undefined;
    this.#watched.delete(data);
    const merged = this.#mergedHolds;
    closeAll([
      () => this.#sync?.remove(w.fd.fd),
      () => merged && this.#merged!.remove(w.fd.fd),
      () => this.#retarget(),
    ]);
    return w;
  }

  /** Starts the event loop's watch (idempotent). */
  start(): void {
    this.#watcher ??= new FdWatcher(this.#watchedFd(), this.#onReadable);
    this.#watcher.start();
  }

  /** Stops it (idempotent); the process may exit while stopped. */
  stop(): void {
    this.#watcher?.stop();
  }

  /** Closes the watch and the epolls (the eventfds are their owners'). */
  close(): void {
    this.#watched.clear();
    this.#only = undefined;
    const [watcher, sync, merged] = [this.#watcher, this.#sync, this.#merged];
    this.#watcher = this.#sync = this.#merged = undefined;
    closeAll([() => watcher?.close(), () => sync?.close(), () => merged?.close()]);
  }

  /**
   * After an add or a remove: `#merged` holds the eventfds exactly while there are two or more,
   * and the event loop's watch is on the one eventfd or on `#merged`. A started watch stays
   * started; the old one stops before the new one starts, and before the caller closes an
   * eventfd it watched.
   */
  #retarget(): void {
    const size = this.#watched.size;
    this.#only = size === 1 ? this.#watched.values().next().value : undefined;
    if (size >= 2 && !this.#mergedHolds) this.#fillMerged();
    else if (size < 2 && this.#mergedHolds) {
      this.#mergedHolds = false;
      if (this.#only) this.#merged!.remove(this.#only.fd.fd);
    }
    const watcher = this.#watcher;
    if (watcher === undefined || watcher.fd === this.#watchedFd()) return;
    const started = watcher.started;
    this.#watcher = undefined;
    watcher.close();
    if (started) this.start();
  }

  /** Puts every watched eventfd into `#merged` (all or none). */
  #fillMerged(): void {
    const merged = (this.#merged ??= new Epoll());
    const added: number[] = [];
    try {
      for (const [data, w] of this.#watched) {
        merged.add(w.fd.fd, BigInt(data));
        added.push(w.fd.fd);
      }
    } catch (e) {
      closeAll(added.map((fd) => () => merged.remove(fd)));
      throw e;
    }
    this.#mergedHolds = true;
  }

  /** The fd the event loop watches: the one eventfd, or `#merged` (opened here if need be). */
  #watchedFd(): number {
    return this.#only !== undefined ? this.#only.fd.fd : (this.#merged ??= new Epoll()).fd;
  }
}
