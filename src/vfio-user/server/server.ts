/**
 * `serveDevice`: a device model served on a UNIX socket, one client at a time, from Node's
 * event loop (no thread, nothing blocks). A client that breaks the protocol is disconnected;
 * a client that goes away takes its eventfds and DMA windows with it and leaves room for the
 * next, which finds the model's state as the last one left it.
 */
import { SOCK_NONBLOCK } from '../../../structs/index.js';
import { FdWatcher, Resource, UnixListener, closeAll, type UnixSocket } from '../../sys/index.js';
import { encodeMessage, type Message } from '../message.js';
import { MAX_MESSAGE_SIZE } from '../version.js';
import { MessageReader } from '../message-reader.js';
import type { DeviceModel } from './model.js';
import { ServedModel } from './served-device.js';
import { SERVER_CAPABILITIES, ServerSession, type SessionReply } from './session.js';

/** Options of `serveDevice`. */
export interface ServeOptions {
  /** The socket file to create. */
  socket: string;
  /** Its permissions: 0o600 (only its owner may connect) unless asked. */
  mode?: number;
  /**
   * Called with what went wrong that the server survived: a model handler that threw, a client
   * that broke the protocol. Default: a process warning (code `VFIO_USER_SERVER`).
   */
  onError?(error: unknown, what: string): void;
  /** Called when a client connects or goes. */
  onClient?(event: 'connected' | 'disconnected'): void;
}

const READ_CHUNK = 64 * 1024;

/** A served device model; `close()` stops serving, disconnects the client and removes the socket. */
export class DeviceServer extends Resource {
  /** The socket file clients connect to. */
  readonly path: string;
  readonly #listener: UnixListener;
  readonly #accepting: FdWatcher;
  readonly #device: ServedModel;
  readonly #options: ServeOptions;
  #client: { socket: UnixSocket; watcher: FdWatcher; reader: MessageReader; session: ServerSession } | undefined;
  #clients = 0;
  /** What each read goes into (the reader copies what it keeps). */
  readonly #chunk = new Uint8Array(READ_CHUNK);

  /** @internal Use `serveDevice()`. */
  constructor(model: DeviceModel, options: ServeOptions) {
    super();
    this.#options = options;
    this.#device = new ServedModel(model, SERVER_CAPABILITIES.maxDmaMaps, (e, what) => this.#report(e, what));
    try {
      this.#listener = UnixListener.listen(options.socket, { mode: options.mode ?? 0o600 });
    } catch (e) {
      this.#device.close(); // the shared BARs' memory
      throw e;
    }
    this.path = options.socket;
    this.#accepting = new FdWatcher(this.#listener.fd, () => this.#accept());
    this.#accepting.start();
  }

  get name(): string {
    return `vfio-user server of ${this.#device.name} on ${this.path}`;
  }

  /** Whether a client is connected now. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Clients served so far, the current one included. */
  get clientCount(): number {
    return this.#clients;
  }

  #accept(): void {
    if (this.#client) return;
    const socket = this.#listener.accept(SOCK_NONBLOCK);
    if (!socket) return;
    this.#clients++;
    const peer = `vfio-user client ${this.#clients} of ${this.path}`;
    const reader = new MessageReader(peer, MAX_MESSAGE_SIZE, SERVER_CAPABILITIES.maxMsgFds);
    const watcher = new FdWatcher(socket.fd, () => this.#readable());
    this.#client = { socket, watcher, reader, session: new ServerSession(this.#device, peer) };
    // One client at a time: the next waits in the listener's queue until this one goes.
    this.#accepting.stop();
    watcher.start();
    this.#options.onClient?.('connected');
  }

  /** One read per wake: the watch is level-triggered, so what is left wakes it again. */
  #readable(): void {
    const c = this.#client;
    if (!c) return;
    try {
      const r = c.socket.receive(READ_CHUNK, SERVER_CAPABILITIES.maxMsgFds, { into: this.#chunk });
      if (r.wouldBlock) return;
      if (r.data.length === 0 && r.fds.length === 0) return this.#drop();
      for (const m of c.reader.feed(r.data, r.fds)) this.#answer(c.socket, c.session, m);
    } catch (e) {
      this.#report(e, this.name);
      this.#drop();
    }
  }

  #answer(socket: UnixSocket, session: ServerSession, m: Message): void {
    const reply: SessionReply = session.handle(m);
    if (m.noReply) return;
    if ('errno' in reply) {
      socket.sendAll(encodeMessage({ id: m.id, command: m.command, reply: true, errno: reply.errno }));
      return;
    }
    socket.sendAll(
      encodeMessage({ id: m.id, command: m.command, reply: true, payload: reply.payload }),
      reply.fds ?? [],
    );
  }

  #drop(): void {
    const c = this.#client;
    if (!c) return;
    this.#client = undefined;
    closeAll([
      () => c.watcher.close(),
      () => c.reader.close(),
      () => c.socket.close(),
      () => this.#device.clientGone(),
    ]);
    this.#options.onClient?.('disconnected');
    if (!this.closed) {
      this.#accepting.start();
      this.#accept(); // one may be queued already
    }
  }

  #report(error: unknown, what: string): void {
    if (this.#options.onError) return this.#options.onError(error, what);
    process.emitWarning(`${what}: ${(error as Error).message ?? String(error)}`, { code: 'VFIO_USER_SERVER' });
  }

  protected release(): void {
    closeAll([
      () => this.#drop(),
      () => this.#accepting.close(),
      () => this.#listener.close(),
      () => this.#device.close(),
    ]);
  }
}

/**
 * Serves `model` on the UNIX socket `options.socket`, created readable and writable by its
 * owner only (`mode` to change it): `openDevice('vfio-user:' + path)` in another process, or
 * QEMU's `vfio-user-pci`, drives it like a PCI device. Serving runs on the event loop; the
 * returned server keeps the process alive until `close()`.
 */
export function serveDevice(model: DeviceModel, options: ServeOptions): DeviceServer {
  return new DeviceServer(model, options);
}
