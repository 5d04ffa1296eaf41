/**
 * The client's end of a vfio-user connection: a blocking socket on which each command waits
 * for its reply, as an ioctl on a kernel device waits (the `Device` API is synchronous). A
 * server that goes away or stays silent past the timeout ends the call with
 * `ERR_VFIO_DISCONNECTED`, never a hang; the connection is then closed, since the stream is out
 * of step. A failed command is a `SysError` named after the command, with the server's errno.
 */
import { constants } from 'node:os';
import { SysError, VFIO_USER_VERSION, VfioError, VfioErrorCode, isVfioError } from '../../../structs/index.js';
import { Resource, UnixSocket, closeAll, sysClose } from '../../sys/index.js';
import { commandName, encodeMessage, protocolError, type Message } from '../message.js';
import { MessageReader } from '../message-reader.js';
import {
  DEFAULT_CAPABILITIES,
  MAX_DATA_XFER_LIMIT,
  MAX_MESSAGE_SIZE,
  PROTOCOL_MAJOR,
  PROTOCOL_MINOR,
  encodeVersion,
  parseVersion,
  type Capabilities,
} from '../version.js';

/** Options of a client connection. */
export interface ConnectOptions {
  /** The most milliseconds one command waits for its reply (default 10 000). */
  timeoutMs?: number;
}

/** A reply's payload and the descriptors that came with it (the caller's to close). */
export interface Reply {
  payload: Buffer;
  fds: number[];
}

/** What this client offers the server. */
const CLIENT_CAPABILITIES: Capabilities = {
  ...DEFAULT_CAPABILITIES,
  maxMsgFds: 8,
  maxDataXferSize: MAX_DATA_XFER_LIMIT,
};
/** Descriptors one reply may carry: a region's mmap descriptor is the most a reply has. */
const MAX_REPLY_FDS = CLIENT_CAPABILITIES.maxMsgFds;
/** Bytes asked of each read: a reply to a register access fits many times over. */
const READ_CHUNK = 64 * 1024;

export class ClientConnection extends Resource {
  /** The socket path, for messages. */
  readonly path: string;
  /** What the server said it can take. */
  readonly server: Capabilities;
  readonly #socket: UnixSocket;
  readonly #timeoutMs: number;
  readonly #peer: string;
  #nextId = 0;
  /** Whole messages out of what the socket gives, however it splits them. */
  readonly #reader: MessageReader;
  /** Messages read but not yet taken (a read can hold more than one). */
  readonly #queue: Message[] = [];
  /** What each read goes into (the reader copies what it keeps). */
  readonly #chunk = new Uint8Array(READ_CHUNK);

  /** Connects to the server at `path` and talks versions. */
  static connect(path: string, options: ConnectOptions = {}): ClientConnection {
    return ClientConnection.over(UnixSocket.connect(path, { timeoutMs: options.timeoutMs ?? 10_000 }), path, options);
  }

  /** @internal Talks versions on a connected `socket` (which it then owns); `path` names the server. */
  static over(socket: UnixSocket, path: string, options: ConnectOptions = {}): ClientConnection {
    try {
      return new ClientConnection(path, socket, options.timeoutMs ?? 10_000);
    } catch (e) {
      socket.close();
      throw e;
    }
  }

  private constructor(path: string, socket: UnixSocket, timeoutMs: number) {
    super();
    this.path = path;
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#peer = `the vfio-user server at ${path}`;
    this.#reader = new MessageReader(this.#peer, MAX_MESSAGE_SIZE, MAX_REPLY_FDS);
    const version = encodeVersion({ major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR, capabilities: CLIENT_CAPABILITIES });
    const reply = this.#exchange(VFIO_USER_VERSION, version, []);
    const v = parseVersion(reply.payload, this.#peer);
    if (v.major !== PROTOCOL_MAJOR || v.minor > PROTOCOL_MINOR)
      throw protocolError(this.#peer, `version ${v.major}.${v.minor} in reply to ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`);
    this.server = v.capabilities;
  }

  get name(): string {
    return `vfio-user connection to ${this.path}`;
  }

  /** The socket's descriptor. */
  get fd(): number {
    return this.#socket.fd;
  }

  /**
   * Sends a command and waits for its reply. `fds` go with it (they stay open here). The
   * reply's descriptors are the caller's to close.
   */
  request(command: number, payload: Uint8Array = new Uint8Array(0), fds: readonly number[] = []): Reply {
    this.check();
    return this.#exchange(command, payload, fds);
  }

  #exchange(command: number, payload: Uint8Array, fds: readonly number[]): Reply {
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) & 0xffff;
    const name = commandName(command);
    try {
      this.#socket.sendAll(encodeMessage({ id, command, payload }), fds);
      for (;;) {
        const h = this.#receive();
        const body = { data: h.payload, fds: h.fds };
        if (!h.reply) {
          // A command from the server (DMA_READ/WRITE): this client shares memory by descriptor,
          // so it has none to serve; it says so and keeps waiting for its reply.
          closeAll(body.fds.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`)));
          this.#socket.sendAll(
            encodeMessage({ id: h.id, command: h.command, reply: true, errno: constants.errno.ENOTSUP }),
          );
          continue;
        }
        if (h.id !== id || h.command !== command) {
          closeAll(body.fds.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`)));
          throw protocolError(
            this.#peer,
            `a reply to message ${h.id} (${commandName(h.command)}) while ${id} (${name}) waits`,
          );
        }
        if (h.error) {
          closeAll(body.fds.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`)));
          throw new SysError({ syscall: name, errno: h.errno || constants.errno.EIO, target: this.#peer });
        }
        return { payload: Buffer.from(body.data), fds: body.fds };
      }
    } catch (e) {
      if (e instanceof SysError && e.syscall === name) throw e; // the server's answer: the connection is fine
      this.close();
      throw this.#lost(e, name);
    }
  }

  /**
   * The next message from the server: one read usually brings a whole reply (one system call
   * while waiting, bounded by the timeout). The end of the stream is `ERR_VFIO_CLOSED`.
   */
  #receive(): Message {
    for (;;) {
      const queued = this.#queue.shift();
      if (queued) return queued;
      const r = this.#socket.receive(READ_CHUNK, MAX_REPLY_FDS, { timeoutMs: this.#timeoutMs, into: this.#chunk });
      if (r.data.length === 0 && r.fds.length === 0)
        throw new VfioError(VfioErrorCode.CLOSED, `${this.#peer} closed the connection (end of stream)`);
      this.#queue.push(...this.#reader.feed(r.data, r.fds));
    }
  }

  /** The coded error for a connection that broke during `command`. */
  #lost(e: unknown, command: string): unknown {
    if (isVfioError(e) && e.code === VfioErrorCode.PROTOCOL) return e;
    const timedOut = e instanceof SysError && e.errnoName === 'ETIMEDOUT';
    const closed =
      (isVfioError(e) && e.code === VfioErrorCode.CLOSED) ||
      (e instanceof SysError && (e.errnoName === 'EPIPE' || e.errnoName === 'ECONNRESET'));
    if (!timedOut && !closed && !(e instanceof SysError)) return e;
    const what = timedOut
      ? `did not answer ${command} within ${this.#timeoutMs} ms`
      : closed
        ? `closed the connection during ${command}`
        : `could not be reached for ${command} (${(e as Error).message})`;
    return new VfioError(
      VfioErrorCode.DISCONNECTED,
      `${this.#peer} ${what}: the device is gone from this process; start the server again and reopen the device`,
    );
  }

  protected release(): void {
    const unread = this.#queue.splice(0);
    closeAll([
      ...unread.flatMap((m) => m.fds.map((fd) => () => sysClose(fd, `a descriptor from ${this.#peer}`))),
      () => this.#reader.close(),
      () => this.#socket.close(),
    ]);
  }
}
