/** An AF_UNIX socket owned by this process, which sends and receives file descriptors with its data. */
import { SOCK_STREAM } from '../../structs/index.js';
import { sysClose } from './calls.js';
import { sysRecvmsg, sysSendmsg, sysSocketpair } from './socket-calls.js';
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

/** Largest receive buffer: Linux moves at most 0x7ffff000 bytes per call. */
const MAX_RECEIVE = 0x7fff_f000;

/**
 * A connected AF_UNIX socket, closed on `close()`. Calls block Node's thread unless the
 * socket was made with `SOCK_NONBLOCK`.
 */
export class UnixSocket extends Resource {
  readonly fd: number;
  readonly #name: string;

  /** Takes ownership of `fd`, a connected AF_UNIX socket: `close()` closes it. */
  constructor(fd: number) {
    super();
    this.fd = fd;
    this.#name = `unix socket ${fd}`;
  }

  /**
   * Two connected sockets (`socketpair`), both close-on-exec: `type` is `SOCK_STREAM` or
   * `SOCK_SEQPACKET`, `flags` may add `SOCK_NONBLOCK`.
   */
  static pair(type = SOCK_STREAM, flags = 0): [UnixSocket, UnixSocket] {
    const [a, b] = sysSocketpair(type, flags);
    return [new UnixSocket(a), new UnixSocket(b)];
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
   * Receives one message of up to `maxBytes` bytes with up to `maxFds` descriptors. A message
   * with more descriptors is refused with its descriptors closed; see `sysRecvmsg`.
   */
  receive(maxBytes: number, maxFds = 0): ReceivedMessage {
    this.check();
    checkInteger('maxBytes', `for receive on ${this.#name}`, maxBytes, 0, MAX_RECEIVE);
    const buffer = new Uint8Array(maxBytes);
    const { bytes, fds, truncated, wouldBlock } = sysRecvmsg(this.fd, buffer, maxFds, this.#name);
    return { data: buffer.subarray(0, bytes), fds, truncated, wouldBlock };
  }

  protected release(): void {
    sysClose(this.fd, this.#name);
  }
}
