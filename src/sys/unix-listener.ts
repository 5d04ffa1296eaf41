/** A listening AF_UNIX stream socket at a path: the server side of `UnixSocket.connect`. */
import { SOCK_NONBLOCK, SOCK_STREAM, sockaddrUn } from '../../structs/index.js';
import { sysChmod, sysClose, sysRename, sysUnlink } from './calls.js';
import { sysAccept4, sysListen, sysSocket } from './socket-calls.js';
import { bindBeside, fileIdentity, refuseOccupied } from './socket-path.js';
import { checkInteger } from './args.js';
import { closeAll } from './close-all.js';
import { Resource } from './resource.js';
import { UnixSocket } from './unix-socket.js';

/** How `UnixListener.listen` makes its socket file. */
export interface UnixListenOptions {
  /**
   * The socket file's permission bits: a client needs write permission to connect. 0o600 by
   * default, the owner only; the process umask plays no part.
   */
  mode?: number;
  /** Connections the kernel queues until they are accepted (16 by default); a `connect` beyond them waits. */
  backlog?: number;
}

const DEFAULT_BACKLOG = 16;

/**
 * A listening socket bound to a path, with a non-blocking fd: `accept()` never waits, so the
 * caller watches `fd` from the event loop (`FdWatcher`) and accepts when it is readable.
 * `close()` removes the socket file it made (unless another file has taken its place since)
 * and closes the fd; connections already accepted stay open.
 */
export class UnixListener extends Resource {
  /** The listening socket (non-blocking, close-on-exec): readable while a connection is pending. */
  readonly fd: number;
  /** The path the socket file is at. */
  readonly path: string;
  /** The socket file this listener made (`fileIdentity`): only that one is removed on close. */
  readonly #file: string | undefined;
  readonly #name: string;

  private constructor(fd: number, path: string) {
    super();
    this.fd = fd;
    this.path = path;
    this.#file = fileIdentity(path);
    this.#name = `unix listener ${path}`;
  }

  /**
   * Listens at `path`. The socket is bound to a temporary name in the same directory, given
   * `mode`, made to listen, and then renamed to `path`: so the socket file never has another
   * mode at `path`, and the umask is not touched. A socket file left at `path` by a server that
   * is gone is replaced; a live server there, or a file that is not a socket, is refused
   * (EADDRINUSE), as is a path longer than `SUN_PATH_MAX` bytes. A failure leaves no file and
   * no fd behind.
   */
  static listen(path: string, options: UnixListenOptions = {}): UnixListener {
    const { mode = 0o600, backlog = DEFAULT_BACKLOG } = options;
    sockaddrUn(path); // a path that does not fit is refused before anything is made
    checkInteger('mode', `for the socket at ${path}`, mode, 0, 0o777);
    checkInteger('backlog', `for the socket at ${path}`, backlog, 0, 0xffff);
    refuseOccupied(path);
    const fd = sysSocket(SOCK_STREAM, SOCK_NONBLOCK);
    try {
      const temporary = bindBeside(fd, path);
      try {
        // Listening comes after the chmod: until then a connect to the new file is refused.
        sysChmod(temporary, mode);
        sysListen(fd, backlog, temporary);
        sysRename(temporary, path);
      } catch (e) {
        sysUnlink(temporary);
        throw e;
      }
      return new UnixListener(fd, path);
    } catch (e) {
      sysClose(fd);
      throw e;
    }
  }

  get name(): string {
    return this.#name;
  }

  /**
   * The next pending connection as a blocking `UnixSocket` (close-on-exec; `flags` may add
   * `SOCK_NONBLOCK`), or undefined when none is pending.
   */
  accept(flags = 0): UnixSocket | undefined {
    this.check();
    const fd = sysAccept4(this.fd, flags, this.#name);
    return fd === null ? undefined : new UnixSocket(fd, `unix socket ${fd} (accepted at ${this.path})`);
  }

  protected override describe(): string {
    return `fd ${this.fd}`;
  }

  protected release(): void {
    closeAll([
      () => {
        if (this.#file !== undefined && fileIdentity(this.path) === this.#file) sysUnlink(this.path);
      },
      () => sysClose(this.fd, this.#name),
    ]);
  }
}
