// Passing file descriptors over AF_UNIX sockets (src/sys/socket-calls.ts, src/sys/unix-socket.ts):
// in one process, over a socketpair, with /proc/self as the witness of what is open.
import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventFd, UnixSocket, sysClose, sysRecvmsg, sysSendmsg, sysSocketpair } from '../../../src/sys/index.js';
import {
  O_CLOEXEC,
  SCM_MAX_FD,
  SOCK_NONBLOCK,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SysError,
  VfioErrorCode,
  VfioRangeError,
  VfioTypeError,
} from '../../../structs/index.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The fd numbers open in this process. */
const openFds = (): string[] => readdirSync('/proc/self/fd').sort();

/** Whether `fd` is close-on-exec: the octal `flags` line of its fdinfo has O_CLOEXEC. */
function isCloexec(fd: number): boolean {
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1];
  return (parseInt(flags, 8) & O_CLOEXEC) !== 0;
}

/** Both ends of a socketpair, closed together when the `using` block ends. */
function socketPair(type = SOCK_STREAM, flags = 0): [UnixSocket, UnixSocket] & Disposable {
  const pair = UnixSocket.pair(type, flags);
  return Object.assign(pair, { [Symbol.dispose]: () => pair.forEach((s) => s.close()) });
}

/** Received descriptors, closed when the `using` block ends. */
function owned(fds: number[]): number[] & Disposable {
  return Object.assign(fds, { [Symbol.dispose]: () => fds.forEach((fd) => closeSync(fd)) });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('AF_UNIX sockets with SCM_RIGHTS', () => {
  it('passes bytes without descriptors over a stream and a seqpacket pair, both ends close-on-exec', () => {
    const before = openFds();
    for (const type of [SOCK_STREAM, SOCK_SEQPACKET]) {
      using pair = socketPair(type);
      const [a, b] = pair;
      expect(isCloexec(a.fd) && isCloexec(b.fd)).toBe(true);
      expect(a.send(bytes('hello'))).toBe(5);
      const got = b.receive(64, 4);
      expect({ ...got, data: text(got.data) }).toEqual({ data: 'hello', fds: [], truncated: false, wouldBlock: false });
    }
    // The functions under the class, on a pair of raw fds.
    const [x, y] = sysSocketpair(SOCK_STREAM);
    try {
      expect(isCloexec(x) && isCloexec(y)).toBe(true);
      expect(sysSendmsg(x, bytes('raw'), [])).toBe(3);
      const buffer = new Uint8Array(8);
      expect(sysRecvmsg(y, buffer, 0)).toEqual({ bytes: 3, fds: [], truncated: false, wouldBlock: false });
      expect(text(buffer.subarray(0, 3))).toBe('raw');
    } finally {
      sysClose(x);
      sysClose(y);
    }
    expect(openFds()).toEqual(before);
  });

  it('passes an eventfd and a file: the received descriptors are the same open files, close-on-exec', () => {
    const before = openFds();
    const dir = mkdtempSync(join(tmpdir(), 'vfio-ts-socket-'));
    const path = join(dir, 'passed');
    const file = openSync(path, 'w+');
    try {
      using counter = new EventFd();
      using pair = socketPair();
      const [a, b] = pair;
      expect(a.send(bytes('two fds'), [counter.fd, file])).toBe(7);
      const got = b.receive(64, 2);
      using fds = owned(got.fds);
      expect(text(got.data)).toBe('two fds');
      expect(fds).toHaveLength(2);
      expect(fds).not.toContain(counter.fd);
      expect(fds).not.toContain(file);
      for (const fd of fds) expect(isCloexec(fd)).toBe(true);
      // The same counter: a signal through the received copy is read on the original.
      writeSync(fds[0], new BigUint64Array([5n]));
      expect(counter.read()).toBe(5n);
      // The same file: written through the received copy, read through its path.
      expect(readlinkSync(`/proc/self/fd/${fds[1]}`)).toBe(path);
      writeSync(fds[1], 'through the copy');
      expect(readFileSync(path, 'utf8')).toBe('through the copy');
    } finally {
      closeSync(file);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(openFds()).toEqual(before);
  });

  it('refuses a message with more descriptors than maxFds, closing those that arrived (MSG_CTRUNC)', () => {
    const before = openFds();
    {
      using counter = new EventFd();
      using pair = socketPair();
      const [a, b] = pair;
      const cases = [
        // Three into room for one: the kernel fills the aligned space (two) and reports MSG_CTRUNC.
        { sent: 3, maxFds: 1, message: /the 2 that arrived were closed/, ctrunc: true },
        // Two into room for one: they fit the alignment padding, arrive whole and are refused all the same.
        { sent: 2, maxFds: 1, message: /the 2 that arrived were closed/, ctrunc: false },
        // None allowed: the kernel drops them all.
        { sent: 1, maxFds: 0, message: /the 0 that arrived were closed/, ctrunc: true },
      ];
      for (const { sent, maxFds, message, ctrunc } of cases) {
        a.send(bytes('payload'), Array<number>(sent).fill(counter.fd));
        const inFlight = openFds();
        const err = thrown(() => b.receive(64, maxFds)) as VfioRangeError;
        expect(err).toBeInstanceOf(VfioRangeError);
        expect(err.code).toBe(VfioErrorCode.OUT_OF_RANGE);
        expect(err.message).toMatch(
          new RegExp(
            `^recvmsg on unix socket ${b.fd}: the message carried more file descriptors than the ${maxFds} allowed`,
          ),
        );
        expect(err.message).toMatch(message);
        expect(err.message.includes('MSG_CTRUNC')).toBe(ctrunc);
        expect(err.message).toMatch(/the message's 7 bytes are consumed; receive with a larger maxFds \(at most 253\)/);
        expect(openFds()).toEqual(inFlight);
      }
      // The socket still works after a refused message.
      a.send(bytes('next'), [counter.fd]);
      const got = b.receive(64, 1);
      using fds = owned(got.fds);
      expect([text(got.data), fds.length]).toEqual(['next', 1]);
    }
    expect(openFds()).toEqual(before);
  });

  it('carries up to SCM_MAX_FD descriptors in one message; the kernel refuses one more (EINVAL)', () => {
    const before = openFds();
    {
      using counter = new EventFd();
      using pair = socketPair();
      const [a, b] = pair;
      const err = thrown(() => a.send(bytes('x'), Array<number>(SCM_MAX_FD + 1).fill(counter.fd))) as SysError;
      expect(err).toBeInstanceOf(SysError);
      expect([err.syscall, err.errnoName]).toEqual(['sendmsg', 'EINVAL']);
      expect(err.message).toMatch(/at most 253 descriptors \(the kernel's SCM_MAX_FD\), not 254: send them in several/);
      a.send(bytes('x'), Array<number>(SCM_MAX_FD).fill(counter.fd));
      using fds = owned(b.receive(1, SCM_MAX_FD).fds);
      expect(new Set(fds).size).toBe(SCM_MAX_FD);
    }
    expect(openFds()).toEqual(before);
  });

  it('an empty non-blocking socket returns nothing (EAGAIN), unlike a closed peer (end of stream)', () => {
    const before = openFds();
    {
      using pair = socketPair(SOCK_STREAM, SOCK_NONBLOCK);
      const [a, b] = pair;
      const got = b.receive(16, 4);
      expect({ ...got, data: got.data.length }).toEqual({ data: 0, fds: [], truncated: false, wouldBlock: true });
      expect(sysRecvmsg(b.fd, new Uint8Array(16), 4)).toEqual({
        bytes: 0,
        fds: [],
        truncated: false,
        wouldBlock: true,
      });
      a.close();
      expect(sysRecvmsg(b.fd, new Uint8Array(16), 4)).toEqual({
        bytes: 0,
        fds: [],
        truncated: false,
        wouldBlock: false,
      });
    }
    expect(openFds()).toEqual(before);
  });

  it('reports a seqpacket message longer than the buffer as truncated (MSG_TRUNC)', () => {
    using pair = socketPair(SOCK_SEQPACKET);
    const [a, b] = pair;
    a.send(bytes('0123456789'));
    const got = b.receive(4);
    expect([text(got.data), got.truncated]).toEqual(['0123', true]);
  });

  it('refuses use after close, a closed peer (EPIPE, no SIGPIPE) and wrong arguments', () => {
    const before = openFds();
    {
      using counter = new EventFd();
      using pair = socketPair();
      const [a, b] = pair;
      a.close();
      a.close();
      for (const use of [() => a.send(bytes('x')), () => a.receive(1)]) {
        const err = thrown(use) as VfioRangeError;
        expect(err.code).toBe(VfioErrorCode.CLOSED);
        expect(err.message).toBe(`unix socket ${a.fd} is closed: open it again to use it`);
      }
      const epipe = thrown(() => b.send(bytes('x'))) as SysError;
      expect([epipe.syscall, epipe.errnoName, epipe.target]).toEqual(['sendmsg', 'EPIPE', `unix socket ${b.fd}`]);
      expect(epipe.message).toMatch(/the peer has closed its end of the socket/);
      const noData = thrown(() => b.send(new Uint8Array(0), [counter.fd])) as VfioRangeError;
      expect(noData.code).toBe(VfioErrorCode.INVALID_ARGUMENT);
      expect(noData.message).toMatch(/1 descriptors with no data: .* send at least one byte with them/);
      expect((thrown(() => b.receive(1, SCM_MAX_FD + 1)) as VfioRangeError).code).toBe(VfioErrorCode.OUT_OF_RANGE);
      expect((thrown(() => b.send(bytes('x'), [1.5])) as VfioRangeError).code).toBe(VfioErrorCode.INVALID_ARGUMENT);
      const notBytes = thrown(() => sysSendmsg(b.fd, 'x' as unknown as Uint8Array, []));
      expect(notBytes).toBeInstanceOf(VfioTypeError);
      expect(String(notBytes)).toMatch(/sendmsg data "x" \(a string\) on socket \d+: expected a Uint8Array/);
      const ebadf = thrown(() => sysRecvmsg(-1, new Uint8Array(1), 0)) as SysError;
      expect([ebadf.syscall, ebadf.errnoName, ebadf.target]).toEqual(['recvmsg', 'EBADF', 'socket -1']);
    }
    expect(openFds()).toEqual(before);
  });
});
