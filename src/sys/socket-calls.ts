/**
 * Checked system calls on AF_UNIX sockets: a connected pair, sockets bound to a path (socket,
 * bind, listen, accept4, connect), a wait bounded in time (poll), and messages that carry file
 * descriptors (SCM_RIGHTS), which Node's `net` cannot pass. As in `calls.ts`, each returns its
 * result or throws a `SysError` naming the call, the errno and the socket; EINTR is retried.
 */
import {
  AF_UNIX,
  EAGAIN,
  ECONNABORTED,
  EINTR,
  ETIMEDOUT,
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_NOSIGNAL,
  MSG_TRUNC,
  POLLIN,
  SCM_MAX_FD,
  SOCK_CLOEXEC,
  SOL_SOCKET,
  SO_SNDTIMEO,
  VfioErrorCode,
  VfioRangeError,
  VfioTypeError,
  decodeRights,
  decodeStruct,
  encodeRights,
  encodeStruct,
  iovec,
  koffi,
  msghdr,
  pollfd,
  rightsSpace,
  sockaddrUn,
  timeval,
} from '../../structs/index.js';
import { errno, libc } from './libc.js';
import { sysClose } from './calls.js';
import { fail, type Hint } from './fail.js';
import { checkInteger, describeArg } from './args.js';
import { closeAll } from './close-all.js';

/**
 * `socketpair(AF_UNIX, type | SOCK_CLOEXEC | flags, 0)`: two connected sockets, both
 * close-on-exec. `type` is `SOCK_STREAM` or `SOCK_SEQPACKET`; `flags` may add `SOCK_NONBLOCK`.
 */
export function sysSocketpair(type: number, flags = 0): [number, number] {
  const sv = new Int32Array(2);
  if (libc.socketpair(AF_UNIX, type | SOCK_CLOEXEC | flags, 0, sv) < 0) fail('socketpair', `AF_UNIX type ${type}`);
  return [sv[0], sv[1]];
}

/** `socket(AF_UNIX, type | SOCK_CLOEXEC | flags, 0)`: a new socket, close-on-exec; `flags` may add `SOCK_NONBLOCK`. */
export function sysSocket(type: number, flags = 0): number {
  const fd = libc.socket(AF_UNIX, type | SOCK_CLOEXEC | flags, 0) as number;
  if (fd < 0) fail('socket', `AF_UNIX type ${type}`);
  return fd;
}

/**
 * `bind(fd, path)`: names the socket in the file system, which creates the socket file (with the
 * umask's mode). A path longer than `SUN_PATH_MAX` bytes is refused before the call.
 */
export function sysBind(fd: number, path: string, target = path, hint?: Hint): void {
  const { address, length } = sockaddrUn(path);
  if (libc.bind(fd, address, length) < 0) fail('bind', target, hint);
}

/** `listen(fd, backlog)`: connections are queued from now on, up to `backlog` not yet accepted. */
export function sysListen(fd: number, backlog: number, target: string): void {
  if (libc.listen(fd, backlog) < 0) fail('listen', target);
}

/**
 * `accept4(fd, NULL, NULL, SOCK_CLOEXEC | flags)`: the socket of the next pending connection,
 * close-on-exec (`flags` may add `SOCK_NONBLOCK`), or `null` when the listening socket is
 * non-blocking and none is pending (EAGAIN). ECONNABORTED (a peer that left before it was
 * accepted) is passed over like EINTR.
 */
export function sysAccept4(fd: number, flags: number, target: string): number | null {
  for (;;) {
    const connection = libc.accept4(fd, null, null, SOCK_CLOEXEC | flags) as number;
    if (connection >= 0) return connection;
    const e = errno();
    if (e === EAGAIN) return null;
    if (e !== EINTR && e !== ECONNABORTED) fail('accept4', target, undefined, e);
  }
}

/**
 * `connect(fd, path)` on a blocking socket. A connection to a listening UNIX socket is made at
 * once unless the listener's backlog is full; then the call waits for room, at most `timeoutMs`
 * when given (as `SO_SNDTIMEO`, cleared again after), and throws ETIMEDOUT when that runs out.
 */
export function sysConnect(fd: number, path: string, timeoutMs?: number, target = path): void {
  const { address, length } = sockaddrUn(path);
  // 0 would mean no limit: 0 ms goes as 1 µs, which the kernel rounds up to one clock tick.
  if (timeoutMs !== undefined) setSendTimeout(fd, Math.max(1, timeoutMs * 1000), target);
  for (;;) {
    if (libc.connect(fd, address, length) >= 0) break;
    const e = errno();
    if (e === EINTR) continue;
    // A blocking connect says EAGAIN only when its SO_SNDTIMEO ran out.
    fail('connect', target, connectHints(path, timeoutMs), e === EAGAIN && timeoutMs !== undefined ? ETIMEDOUT : e);
  }
  if (timeoutMs !== undefined) setSendTimeout(fd, 0, target);
}

function connectHints(path: string, timeoutMs: number | undefined): Hint {
  return {
    ENOENT: `there is no socket at ${path}: start the server first, or check the path`,
    ECONNREFUSED: `nothing listens at ${path}: the server is not running (the socket file is left over), or the file is not a socket`,
    EACCES: `the process may not connect to ${path}: that needs write permission on the socket file and search permission on its directories`,
    EPROTOTYPE: `the socket at ${path} is not a stream socket`,
    ETIMEDOUT: `the server at ${path} did not take the connection within ${timeoutMs} ms: its queue of connections not yet accepted is full`,
  };
}

/** `setsockopt(SO_SNDTIMEO)`: sends and connects wait at most `micros` microseconds; 0 is no limit. */
function setSendTimeout(fd: number, micros: number, target: string): void {
  const value = new Uint8Array(timeval.size);
  encodeStruct(value, timeval, { tv_sec: Math.floor(micros / 1e6), tv_usec: micros % 1e6 });
  if (libc.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, value, value.length) < 0) fail('setsockopt(SO_SNDTIMEO)', target);
}

/**
 * Waits with `poll` until `fd` is readable, at most `timeoutMs` (-1: no limit): until data, a
 * connection, the peer's hang-up or an error is pending, so that the next receive does not
 * block. When the time runs out it throws ETIMEDOUT from `poll`, with `hint`. After EINTR it
 * waits on for the time that is left.
 */
export function sysWaitReadable(fd: number, timeoutMs: number, target: string, hint: Hint): void {
  const poller = new Uint8Array(pollfd.size);
  encodeStruct(poller, pollfd, { fd, events: POLLIN });
  const deadline = performance.now() + timeoutMs;
  for (let wait = timeoutMs; ; wait = timeoutMs < 0 ? -1 : Math.max(0, Math.ceil(deadline - performance.now()))) {
    const ready = libc.poll(poller, 1, wait) as number;
    if (ready > 0) return;
    if (ready === 0) fail('poll', target, hint, ETIMEDOUT);
    if (errno() !== EINTR) fail('poll', target);
  }
}

/**
 * One message's memory: `msghdr`, then one `iovec` over `data`, then `control` bytes. The
 * header holds addresses into this same buffer and into `data`; both stay where they are
 * (ArrayBuffer memory does not move) while the caller holds them.
 */
function messageBuffer(data: Uint8Array, controlSize: number): { message: Uint8Array; control: Uint8Array } {
  const iovAt = msghdr.size;
  const controlAt = iovAt + iovec.size;
  const message = new Uint8Array(controlAt + controlSize);
  const base = koffi.address(message);
  encodeStruct(message, iovec, { iov_base: koffi.address(data), iov_len: data.length }, iovAt);
  encodeStruct(message, msghdr, {
    msg_iov: base + BigInt(iovAt),
    msg_iovlen: 1,
    msg_control: controlSize > 0 ? base + BigInt(controlAt) : 0n,
    msg_controllen: controlSize,
  });
  return { message, control: message.subarray(controlAt) };
}

/**
 * `sendmsg(fd, data + fds, MSG_NOSIGNAL)`: sends `data` with `fds` as one SCM_RIGHTS control
 * message, and returns the bytes sent. A stream socket may send fewer bytes than given (the
 * descriptors go with the first); send the rest without them. A peer that has closed gives
 * EPIPE, never SIGPIPE. A non-blocking socket whose buffer is full throws EAGAIN. Descriptors
 * need at least one byte of data to travel with (a stream socket sends nothing for none).
 */
export function sysSendmsg(fd: number, data: Uint8Array, fds: readonly number[], target = `socket ${fd}`): number {
  checkBytes('sendmsg data', target, data);
  fds.forEach((d, i) => checkInteger(`descriptor fds[${i}]`, `to send on ${target}`, d, 0, 0x7fff_ffff));
  if (fds.length > 0 && data.length === 0)
    throw new VfioRangeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `sendmsg on ${target}: ${fds.length} descriptors with no data: a stream socket sends nothing for an empty message, so they would be lost; send at least one byte with them`,
    );
  const { message, control } = messageBuffer(data, fds.length > 0 ? rightsSpace(fds.length) : 0);
  if (fds.length > 0) encodeRights(control, fds);
  const address = Number(koffi.address(message));
  for (;;) {
    const n = Number(libc.sendmsg(fd, address, MSG_NOSIGNAL));
    if (n >= 0) return n;
    if (errno() !== EINTR) fail('sendmsg', target, sendHints(fds));
  }
}

function sendHints(fds: readonly number[]): Hint {
  return {
    EAGAIN:
      'the socket is non-blocking and its send buffer is full: wait until it is writable (EPOLLOUT), then send again',
    EPIPE: 'the peer has closed its end of the socket',
    EBADF: `the socket, or one of the descriptors sent (${fds.join(', ')}), is not open`,
    EINVAL: () =>
      fds.length > SCM_MAX_FD
        ? `one message carries at most ${SCM_MAX_FD} descriptors (the kernel's SCM_MAX_FD), not ${fds.length}: send them in several messages`
        : 'the kernel rejected the message: check the socket type and the descriptors',
    ETOOMANYREFS:
      'too many descriptors are in flight (sent, not yet received) for this user: let the peer receive them first, or raise RLIMIT_NOFILE',
  };
}

/** What `sysRecvmsg` received. */
export interface RecvmsgResult {
  /** Bytes written to the buffer; 0 at end of stream, for an empty message, or when `wouldBlock`. */
  bytes: number;
  /** Descriptors that arrived, each new in this process and close-on-exec; the caller closes them. */
  fds: number[];
  /** The message was longer than the buffer and its tail was dropped (MSG_TRUNC; SOCK_SEQPACKET only). */
  truncated: boolean;
  /** The socket is non-blocking and had nothing to read (EAGAIN): nothing was received. */
  wouldBlock: boolean;
}

/**
 * `recvmsg(fd, buffer, MSG_CMSG_CLOEXEC)`: one message into `buffer`, with up to `maxFds`
 * descriptors, each close-on-exec. On a non-blocking socket with nothing to read (EAGAIN) it
 * returns `bytes` 0 and no descriptors, with `wouldBlock` set, instead of throwing; on a
 * blocking one it waits, and Node's thread with it. A message that carries more descriptors
 * than `maxFds` is refused: the ones that arrived are closed (none is left open), its data is
 * consumed, and an `ERR_VFIO_OUT_OF_RANGE` error says so.
 */
export function sysRecvmsg(fd: number, buffer: Uint8Array, maxFds: number, target = `socket ${fd}`): RecvmsgResult {
  checkBytes('recvmsg buffer', target, buffer);
  checkInteger('maxFds', `for recvmsg on ${target}`, maxFds, 0, SCM_MAX_FD);
  const { message, control } = messageBuffer(buffer, maxFds > 0 ? rightsSpace(maxFds) : 0);
  const address = Number(koffi.address(message));
  let bytes: number;
  for (;;) {
    bytes = Number(libc.recvmsg(fd, address, MSG_CMSG_CLOEXEC));
    if (bytes >= 0) break;
    const e = errno();
    if (e === EAGAIN) return { bytes: 0, fds: [], truncated: false, wouldBlock: true };
    if (e !== EINTR) fail('recvmsg', target, undefined, e);
  }
  const header = decodeStruct<{ msg_controllen: bigint; msg_flags: number }>(message, msghdr);
  const fds = decodeRights(control, Number(header.msg_controllen));
  const ctrunc = (header.msg_flags & MSG_CTRUNC) !== 0;
  if (ctrunc || fds.length > maxFds) tooManyFds(fds, maxFds, bytes, ctrunc, target);
  return { bytes, fds, truncated: (header.msg_flags & MSG_TRUNC) !== 0, wouldBlock: false };
}

/** Closes the descriptors of a refused message, then throws why it was refused. */
function tooManyFds(fds: number[], maxFds: number, bytes: number, ctrunc: boolean, target: string): never {
  closeAll(fds.map((d) => () => sysClose(d, `descriptor ${d} received on ${target}`)));
  const cause = ctrunc ? ' (the kernel reported MSG_CTRUNC and dropped those that did not fit)' : '';
  throw new VfioRangeError(
    VfioErrorCode.OUT_OF_RANGE,
    `recvmsg on ${target}: the message carried more file descriptors than the ${maxFds} allowed${cause}: the ${fds.length} that arrived were closed and the message's ${bytes} bytes are consumed; receive with a larger maxFds (at most ${SCM_MAX_FD}) or have the peer send fewer per message`,
  );
}

/** Throws unless `buffer` is bytes: its address goes to the kernel. */
function checkBytes(what: string, target: string, buffer: unknown): void {
  if (buffer instanceof Uint8Array) return;
  throw new VfioTypeError(
    VfioErrorCode.INVALID_ARGUMENT,
    `${what} ${describeArg(buffer)} on ${target}: expected a Uint8Array (or a Buffer)`,
  );
}
