/** An AF_UNIX socket owned by this process, which sends and receives file descriptors with its data. */
import { SCM_MAX_FD, SOCK_STREAM, VfioError, VfioErrorCode, VfioRangeError } from '../../structs/index.js';
import { sysClose } from './calls.js';
import { sysConnect, sysRecvmsg, sysSendmsg, sysSocket, sysSocketpair, sysWaitReadable } from './socket-calls.js';
import { checkInteger } from './args.js';
import { Resource } from './resource.js';

/** What `UnixSocket.receive` received: `data` is the bytes read (empty when `wouldBlock`). */
export interface ReceivedMessage {
  data: Uint8Array;
  /** Descriptors that arrived, new in this process and close-on-exec: the caller closes them. */
  fds: number[];
  /** The message was longer than asked for and its tail was dropped (SOCK_SEQPACKET only). */
  truncated: boolean;
  /** The socket is non-blocking and had nothing to read. */
  wouldBlock: boolean;
}

/** What `UnixSocket.receiveExactly` received: all the bytes asked for, and the descriptors that came with them. */
export interface ReceivedBytes {
  /** Exactly the bytes asked for. */
  data: Uint8Array;
  /** Descriptors that arrived, new in this process and close-on-exec: the caller closes them. */
  fds: number[];
}

/** How long a receive may wait, and where it puts the bytes. */
export interface ReceiveOptions {
  /**
   * Receive into this buffer (at least `maxBytes` long) instead of a new one: for a caller that
   * receives often and copies what it keeps. The result's `data` is a view of it.
   */
  into?: Uint8Array;
  /**
   * The most milliseconds to wait for the peer; past that the receive throws a `SysError` with
   * errno ETIMEDOUT (from `poll`). Without it a blocking socket waits as long as it takes.
   */
  timeoutMs?: number;
}

/** Largest receive buffer: Linux moves at most 0x7ffff000 bytes per call. */
const MAX_RECEIVE = 0x7fff_f000;
/** Largest timeout: `poll` takes an `int` of milliseconds. */
const MAX_TIMEOUT = 0x7fff_ffff;

/**
 * A connected AF_UNIX socket, closed on `close()`. Calls block Node's thread unless the
 * socket was made with `SOCK_NONBLOCK`; a `timeoutMs` bounds a receive.
 */
export class UnixSocket extends Resource {
  readonly fd: number;
  readonly #name: string;

  /** Takes ownership of `fd`, a connected AF_UNIX socket: `close()` closes it. `name` is for messages. */
  constructor(fd: number, name = `unix socket ${fd}`) {
    super();
    this.fd = fd;
    this.#name = name;
  }

  /**
   * Two connected sockets (`socketpair`), both close-on-exec: `type` is `SOCK_STREAM` or
   * `SOCK_SEQPACKET`, `flags` may add `SOCK_NONBLOCK`.
   */
  static pair(type = SOCK_STREAM, flags = 0): [UnixSocket, UnixSocket] {
    const [a, b] = sysSocketpair(type, flags);
    return [new UnixSocket(a), new UnixSocket(b)];
  }

  /**
   * A blocking stream socket connected to the listener at `path` (see `UnixListener`),
   * close-on-exec. The connection is made at once unless the listener's queue is full; then it
   * waits, at most `timeoutMs` when given (ETIMEDOUT). Nothing there is ENOENT, a socket file
   * with no listener ECONNREFUSED, each with a hint.
   */
  static connect(path: string, options: { timeoutMs?: number } = {}): UnixSocket {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) checkInteger('timeoutMs', `to connect to ${path}`, timeoutMs, 0, MAX_TIMEOUT);
    const fd = sysSocket(SOCK_STREAM);
    try {
      sysConnect(fd, path, timeoutMs);
    } catch (e) {
      sysClose(fd);
      throw e;
    }
    return new UnixSocket(fd, `unix socket ${fd} (connected to ${path})`);
  }

  get name(): string {
    return this.#name;
  }

  /** Sends `data` with `fds` (duplicated into the receiver; still open here): the bytes sent. See `sysSendmsg`. */
  send(data: Uint8Array, fds: readonly number[] = []): number {
    this.check();
    return sysSendmsg(this.fd, data, fds, this.#name);
  }

  /**
   * Sends all of `data`, with `fds` on its first bytes, on a blocking socket: a stream socket
   * may take a long buffer in several sends.
   */
  sendAll(data: Uint8Array, fds: readonly number[] = []): void {
    let sent = this.send(data, fds);
    while (sent < data.length) sent += this.send(data.subarray(sent));
  }

  /**
   * Receives one message of up to `maxBytes` bytes with up to `maxFds` descriptors. A message
   * with more descriptors is refused with its descriptors closed; see `sysRecvmsg`. On a stream
   * socket empty `data` without `wouldBlock` is the end of the stream: the peer has closed.
   */
  receive(maxBytes: number, maxFds = 0, options: ReceiveOptions = {}): ReceivedMessage {
    this.check();
    checkInteger('maxBytes', `for receive on ${this.#name}`, maxBytes, 0, MAX_RECEIVE);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) {
      checkInteger('timeoutMs', `for receive on ${this.#name}`, timeoutMs, 0, MAX_TIMEOUT);
      sysWaitReadable(this.fd, timeoutMs, this.#name, `the peer did not answer within ${timeoutMs} ms`);
    }
    const buffer =
      options.into && options.into.length >= maxBytes ? options.into.subarray(0, maxBytes) : new Uint8Array(maxBytes);
    const { bytes, fds, truncated, wouldBlock } = sysRecvmsg(this.fd, buffer, maxFds, this.#name);
    return { data: buffer.subarray(0, bytes), fds, truncated, wouldBlock };
  }

  /**
   * Receives exactly `length` bytes from a stream socket, however the stream splits them, with
   * the descriptors that came with them (`maxFds` in all, 0 by default), within `timeoutMs` in
   * all when given. The peer closing first throws `ERR_VFIO_CLOSED`; the time running out, a
   * `SysError` with errno ETIMEDOUT. After a throw the descriptors received are closed, and the
   * bytes received are lost: the stream is out of step, so close it.
   */
  receiveExactly(length: number, options: ReceiveOptions & { maxFds?: number } = {}): ReceivedBytes {
    this.check();
    const where = `for receiveExactly on ${this.#name}`;
    const { timeoutMs, maxFds = 0 } = options;
    checkInteger('length', where, length, 0, MAX_RECEIVE);
    checkInteger('maxFds', where, maxFds, 0, SCM_MAX_FD);
    if (timeoutMs !== undefined) checkInteger('timeoutMs', where, timeoutMs, 0, MAX_TIMEOUT);
    const deadline = performance.now() + (timeoutMs ?? 0);
    const data = new Uint8Array(length);
    const fds: number[] = [];
    try {
      for (let got = 0; got < length;) {
        const late = `the peer did not answer within ${timeoutMs} ms (${got} of ${length} bytes received)`;
        if (timeoutMs !== undefined)
          sysWaitReadable(this.fd, Math.max(0, Math.ceil(deadline - performance.now())), this.#name, late);
        const part = sysRecvmsg(this.fd, data.subarray(got), maxFds - fds.length, this.#name);
        fds.push(...part.fds);
        // A non-blocking socket with nothing yet: wait for it (a timeout waits at the loop's top).
        if (part.wouldBlock && timeoutMs === undefined) sysWaitReadable(this.fd, -1, this.#name, late);
        if (part.wouldBlock) continue;
        if (part.bytes === 0) throw this.#endOfStream(got, length, fds.length);
        if (part.truncated)
          throw new VfioRangeError(
            VfioErrorCode.OUT_OF_RANGE,
            `receiveExactly on ${this.#name}: a message was longer than the ${length - got} bytes still wanted, and its tail was dropped: receiveExactly is for stream sockets`,
          );
        got += part.bytes;
      }
    } catch (e) {
      for (const fd of fds) sysClose(fd, `descriptor ${fd} received on ${this.#name}`);
      throw e;
    }
    return { data, fds };
  }

  #endOfStream(got: number, length: number, fdCount: number): VfioError {
    const closed = fdCount > 0 ? `; the ${fdCount} descriptors that came with them are closed` : '';
    return new VfioError(
      VfioErrorCode.CLOSED,
      `receiveExactly on ${this.#name}: the peer closed the connection (end of stream) after ${got} of the ${length} bytes wanted${closed}`,
    );
  }

  protected release(): void {
    sysClose(this.fd, this.#name);
  }
}
