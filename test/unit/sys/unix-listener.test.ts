// Sockets at a path (src/sys/unix-listener.ts, src/sys/socket-path.ts, UnixSocket.connect and the
// timed receives of src/sys/unix-socket.ts): in one process, in a fresh directory per test, with
// /proc/self/fd as the witness that nothing is left open.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventFd, FdWatcher, UnixListener, UnixSocket, sysBind, sysClose, sysSocket } from '../../../src/sys/index.js';
import {
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SUN_PATH_MAX,
  SysError,
  VfioError,
  VfioErrorCode,
  VfioRangeError,
} from '../../../structs/index.js';
import { openFdCount } from '../../support/fd-count.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** Descriptors received, closed when the `using` block ends. */
function owned(fds: number[]): number[] & Disposable {
  return Object.assign(fds, { [Symbol.dispose]: () => fds.forEach((fd) => closeSync(fd)) });
}

/** A socket file that nothing listens on, as a server that died leaves it: bound, then closed. */
function staleSocketAt(path: string): void {
  const fd = sysSocket(SOCK_STREAM);
  try {
    sysBind(fd, path);
  } finally {
    sysClose(fd);
  }
}

/** The listener's side of a connection just made: a connect to a listening socket is queued at once. */
function acceptNow(listener: UnixListener): UnixSocket {
  const accepted = listener.accept();
  if (accepted === undefined) throw new Error(`no connection pending on ${listener.name}`);
  return accepted;
}

let dir: string;
let fdsBefore: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfio-ts-listen-'));
  fdsBefore = openFdCount();
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('UnixListener and UnixSocket.connect', () => {
  it('listens owner-only, connects, accepts from the event loop and passes an eventfd; close removes the file', async () => {
    const path = join(dir, 'server.sock');
    {
      using listener = UnixListener.listen(path);
      expect(lstatSync(path).isSocket()).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      // Only the socket file: the temporary name it was bound under is gone.
      expect(readdirSync(dir)).toEqual(['server.sock']);
      expect(listener.accept()).toBeUndefined();

      let watcher: FdWatcher | undefined;
      const accepted = new Promise<UnixSocket>((resolve) => {
        watcher = new FdWatcher(listener.fd, () => {
          const connection = listener.accept();
          if (connection) resolve(connection);
        });
      });
      try {
        watcher!.start();
        using client = UnixSocket.connect(path, { timeoutMs: 1000 });
        using server = await accepted;
        expect(client.name).toBe(`unix socket ${client.fd} (connected to ${path})`);
        expect(server.name).toBe(`unix socket ${server.fd} (accepted at ${path})`);

        using counter = new EventFd();
        client.sendAll(bytes('hello'), [counter.fd]);
        const got = server.receiveExactly(5, { maxFds: 1, timeoutMs: 1000 });
        using fds = owned(got.fds);
        expect(text(got.data)).toBe('hello');
        expect(fds).toHaveLength(1);
        writeSync(fds[0], new BigUint64Array([7n]));
        expect(counter.read()).toBe(7n);

        server.sendAll(bytes('back'));
        expect(text(client.receiveExactly(4, { timeoutMs: 1000 }).data)).toBe('back');
      } finally {
        watcher?.close();
      }
    }
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('gives the socket file the mode asked for, whatever the umask, and leaves the umask alone', () => {
    const path = join(dir, 'group.sock');
    // With this umask a bound socket file would be 0o700 at most: 0o660 comes from the chmod.
    const umask = process.umask(0o077);
    try {
      using _listener = UnixListener.listen(path, { mode: 0o660 });
      expect(statSync(path).mode & 0o777).toBe(0o660);
    } finally {
      expect(process.umask(umask)).toBe(0o077);
    }
    expect(existsSync(path)).toBe(false);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('replaces a socket file that nothing listens on', () => {
    const path = join(dir, 'stale.sock');
    staleSocketAt(path);
    const stale = lstatSync(path);
    expect(stale.isSocket()).toBe(true);
    const refused = thrown(() => UnixSocket.connect(path)) as SysError;
    expect([refused.syscall, refused.errnoName]).toEqual(['connect', 'ECONNREFUSED']);
    expect(refused.message).toMatch(/nothing listens at .*stale\.sock: the server is not running/);
    {
      using listener = UnixListener.listen(path);
      expect(lstatSync(path).ino).not.toBe(stale.ino);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      using _client = UnixSocket.connect(path);
      using _server = acceptNow(listener);
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('refuses a path where something listens, even with its queue full, and leaves that listener as it was', () => {
    const path = join(dir, 'live.sock');
    {
      using first = UnixListener.listen(path, { backlog: 0 });
      const identity = lstatSync(path).ino;
      for (const pending of [0, 1]) {
        using _queued = pending ? UnixSocket.connect(path) : undefined;
        const err = thrown(() => UnixListener.listen(path)) as SysError;
        expect(err).toBeInstanceOf(SysError);
        expect([err.syscall, err.errnoName, err.target, err.code]).toEqual([
          'bind',
          'EADDRINUSE',
          path,
          VfioErrorCode.SYSCALL,
        ]);
        expect(err.message).toMatch(
          /something is listening at .*live\.sock already .*: stop it, or choose another path/,
        );
        expect(lstatSync(path).ino).toBe(identity);
        expect(readdirSync(dir)).toEqual(['live.sock']);
        // One connection is pending: the check's own while the queue had room, else the queued one
        // (the check's connect found the queue full and was not queued).
        const seen: UnixSocket[] = [];
        try {
          for (let s = first.accept(); s; s = first.accept()) seen.push(s);
          expect(seen).toHaveLength(1);
        } finally {
          seen.forEach((s) => s.close());
        }
      }
    }
    expect(existsSync(path)).toBe(false);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('refuses a file that is not a socket, and leaves it untouched', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'keep me');
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    for (const [path, kind] of [
      [file, 'a regular file'],
      [sub, 'a directory'],
    ]) {
      const err = thrown(() => UnixListener.listen(path)) as SysError;
      expect([err.syscall, err.errnoName, err.target]).toEqual(['bind', 'EADDRINUSE', path]);
      expect(err.message).toContain(`${path} exists and is not a socket (${kind}), so it is not replaced`);
    }
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'sub']);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('refuses a path longer than sun_path holds, naming it and the limit; takes one at the limit', () => {
    const fits = join(dir, 'x'.repeat(SUN_PATH_MAX - Buffer.byteLength(dir) - 1));
    expect(Buffer.byteLength(fits)).toBe(107);
    const tooLong = `${fits}y`;
    for (const attempt of [() => UnixListener.listen(tooLong), () => UnixSocket.connect(tooLong)]) {
      const err = thrown(attempt) as VfioRangeError;
      expect(err).toBeInstanceOf(VfioRangeError);
      expect(err.code).toBe(VfioErrorCode.OUT_OF_RANGE);
      expect(err.message).toBe(
        `socket path ${tooLong} is 108 bytes long: a UNIX socket path is at most 107 bytes (sun_path holds 108 with the closing NUL); choose a shorter path, such as one under /run or /tmp`,
      );
    }
    expect(readdirSync(dir)).toEqual([]);
    {
      using listener = UnixListener.listen(fits);
      using _client = UnixSocket.connect(fits);
      using _server = acceptNow(listener);
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('says what is wrong with a missing directory or server, and leaves nothing behind', () => {
    const missing = join(dir, 'no-such-dir', 'server.sock');
    const noDir = thrown(() => UnixListener.listen(missing)) as SysError;
    expect([noDir.syscall, noDir.errnoName]).toEqual(['bind', 'ENOENT']);
    expect(noDir.message).toContain(`the directory ${join(dir, 'no-such-dir')} does not exist: create it first`);
    const noServer = thrown(() => UnixSocket.connect(join(dir, 'absent.sock'))) as SysError;
    expect([noServer.syscall, noServer.errnoName]).toEqual(['connect', 'ENOENT']);
    expect(noServer.message).toMatch(/there is no socket at .*absent\.sock: start the server first/);
    for (const bad of [0o1000, -1, 1.5]) {
      const err = thrown(() => UnixListener.listen(join(dir, 'm.sock'), { mode: bad }));
      expect((err as VfioError).code).toMatch(/^ERR_VFIO_(OUT_OF_RANGE|INVALID_ARGUMENT)$/);
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('times a connect out when the listener queues no more (ETIMEDOUT)', () => {
    const path = join(dir, 'full.sock');
    {
      using _listener = UnixListener.listen(path, { backlog: 0 });
      using _queued = UnixSocket.connect(path);
      const start = performance.now();
      const err = thrown(() => UnixSocket.connect(path, { timeoutMs: 100 })) as SysError;
      const waited = performance.now() - start;
      expect([err.syscall, err.errnoName, err.code]).toEqual(['connect', 'ETIMEDOUT', VfioErrorCode.SYSCALL]);
      expect(err.message).toMatch(/did not take the connection within 100 ms: its queue .* is full/);
      expect(waited).toBeGreaterThanOrEqual(90);
      expect(waited).toBeLessThan(5000);
    }
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('close: twice is safe, use after is refused, and a file put in its place is left alone', () => {
    const path = join(dir, 'moved.sock');
    const listener = UnixListener.listen(path);
    try {
      unlinkSync(path);
      writeFileSync(path, 'someone else');
    } finally {
      listener.close();
    }
    listener.close();
    expect(readFileSync(path, 'utf8')).toBe('someone else');
    const err = thrown(() => listener.accept()) as VfioError;
    expect([err.code, err.message]).toEqual([
      VfioErrorCode.CLOSED,
      `unix listener ${path} is closed: open it again to use it`,
    ]);
    expect(openFdCount()).toBe(fdsBefore);
  });
});

describe('UnixSocket receives bounded in time', () => {
  /** A connected client and server over a fresh listener, all closed when the `using` block ends. */
  function connection(flags = 0): { client: UnixSocket; server: UnixSocket } & Disposable {
    const listener = UnixListener.listen(join(dir, 'pair.sock'));
    try {
      const client = UnixSocket.connect(listener.path);
      const server = listener.accept(flags);
      if (!server) throw new Error('no connection pending');
      return { client, server, [Symbol.dispose]: () => [client, server].forEach((s) => s.close()) };
    } finally {
      listener.close();
    }
  }

  it('assembles bytes the stream split, with the descriptors of each part', () => {
    {
      using c = connection();
      using counter = new EventFd();
      // Parts with their own descriptors are never merged: each recvmsg returns one.
      c.client.send(bytes('ab'), [counter.fd]);
      c.client.send(bytes('cd'), [counter.fd]);
      c.client.sendAll(bytes('ef'));
      const got = c.server.receiveExactly(6, { maxFds: 2, timeoutMs: 1000 });
      using fds = owned(got.fds);
      expect([text(got.data), fds.length]).toEqual(['abcdef', 2]);
      expect(c.server.receiveExactly(0)).toEqual({ data: new Uint8Array(0), fds: [] });
    }
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('throws ETIMEDOUT from poll when the peer sends nothing in time, closing descriptors that came', () => {
    {
      using c = connection();
      const start = performance.now();
      const idle = thrown(() => c.server.receive(16, 0, { timeoutMs: 100 })) as SysError;
      expect(performance.now() - start).toBeGreaterThanOrEqual(90);
      expect([idle.syscall, idle.errnoName, idle.code]).toEqual(['poll', 'ETIMEDOUT', VfioErrorCode.SYSCALL]);
      expect(idle.message).toBe(
        `poll on ${c.server.name} failed: ETIMEDOUT (errno 110, Connection timed out). the peer did not answer within 100 ms`,
      );

      using counter = new EventFd();
      c.client.send(bytes('abc'), [counter.fd]);
      const withFd = openFdCount();
      const begin = performance.now();
      const partial = thrown(() => c.server.receiveExactly(8, { maxFds: 1, timeoutMs: 150 })) as SysError;
      const waited = performance.now() - begin;
      expect([partial.syscall, partial.errnoName]).toEqual(['poll', 'ETIMEDOUT']);
      expect(partial.message).toMatch(/the peer did not answer within 150 ms \(3 of 8 bytes received\)$/);
      expect(waited).toBeGreaterThanOrEqual(140);
      expect(waited).toBeLessThan(5000);
      // The eventfd that arrived with the three bytes was closed.
      expect(openFdCount()).toBe(withFd);
    }
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('tells the end of the stream (ERR_VFIO_CLOSED) from a timeout, and a non-blocking socket waits too', () => {
    {
      using c = connection(SOCK_NONBLOCK);
      expect(c.server.receive(4).wouldBlock).toBe(true);
      using counter = new EventFd();
      c.client.send(bytes('xyz'), [counter.fd]);
      const first = c.server.receiveExactly(1, { timeoutMs: 1000, maxFds: 1 });
      using fds = owned(first.fds);
      expect([text(first.data), fds.length]).toEqual(['x', 1]);
      c.client.close();
      const withFd = openFdCount();
      const err = thrown(() => c.server.receiveExactly(8, { timeoutMs: 1000 })) as VfioError;
      expect(err).toBeInstanceOf(VfioError);
      expect(err).not.toBeInstanceOf(SysError);
      expect(err.code).toBe(VfioErrorCode.CLOSED);
      expect(err.message).toBe(
        `receiveExactly on ${c.server.name}: the peer closed the connection (end of stream) after 2 of the 8 bytes wanted`,
      );
      expect(openFdCount()).toBe(withFd);
      // A plain receive reports the end of the stream as empty data.
      const end = c.server.receive(4, 0, { timeoutMs: 1000 });
      expect([end.data.length, end.wouldBlock]).toEqual([0, false]);
    }
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('closes descriptors already received when the peer leaves mid-message', () => {
    {
      using c = connection();
      using counter = new EventFd();
      c.client.send(bytes('ab'), [counter.fd]);
      c.client.close();
      const err = thrown(() => c.server.receiveExactly(4, { maxFds: 1 })) as VfioError;
      expect(err.code).toBe(VfioErrorCode.CLOSED);
      expect(err.message).toMatch(/after 2 of the 4 bytes wanted; the 1 descriptors that came with them are closed$/);
    }
    expect(openFdCount()).toBe(fdsBefore);
  });
});
