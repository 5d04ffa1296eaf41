/**
 * The socket ABI for AF_UNIX sockets on Linux (x86-64 and arm64, glibc): `iovec`, `msghdr`,
 * `cmsghdr`, the flags the system-call layer uses, the `CMSG_*` size macros, the builder and
 * reader of an SCM_RIGHTS control buffer; and for sockets bound to a path, `sockaddr_un` with
 * its builder, and the `pollfd` and `timeval` that bound a wait in time.
 */
import { cStruct, decodeStruct, encodeStruct, koffi } from './koffi.js';
import { VfioErrorCode } from './error-codes.js';
import { VfioRangeError, VfioTypeError } from './errors.js';

// <sys/socket.h>
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
// SOL_SOCKET is 1 on x86-64 and arm64 (asm-generic); a few other architectures differ.
export const SOL_SOCKET = 1;
export const SCM_RIGHTS = 0x01;
export const MSG_CTRUNC = 0x08;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;
// SO_SNDTIMEO is 21 on 64-bit asm-generic and x86-64 (the `_OLD` value, a 64-bit `timeval`).
export const SO_SNDTIMEO = 21;

// <poll.h>
export const POLLIN = 0x001;

// <errno.h>: the errnos the socket calls act on rather than report
export const EADDRINUSE = 98;
export const ECONNABORTED = 103;
export const ETIMEDOUT = 110;

/**
 * The most descriptors one message may carry: the kernel's `SCM_MAX_FD` (include/net/scm.h),
 * which is not in the user-space headers; a `sendmsg` with more fails with EINVAL. Not compared
 * with C, so it is not in `SOCKET_CONSTANTS`; test/unit/sys/socket.test.ts checks it on the kernel.
 */
export const SCM_MAX_FD = 253;

/** `struct iovec`: one buffer of a scatter/gather list. */
export const iovec = cStruct('iovec', { iov_base: 'void *', iov_len: 'size_t' });

/** `struct msghdr` as glibc declares it on 64-bit Linux (`msg_iovlen` and `msg_controllen` are `size_t`). */
export const msghdr = cStruct('msghdr', {
  msg_name: 'void *',
  msg_namelen: 'uint32_t', // socklen_t
  msg_iov: koffi.pointer(iovec),
  msg_iovlen: 'size_t',
  msg_control: 'void *',
  msg_controllen: 'size_t',
  msg_flags: 'int',
});

/** `struct cmsghdr`: the header of one control message; its data follows at `CMSG_LEN(0)`. */
export const cmsghdr = cStruct('cmsghdr', { cmsg_len: 'size_t', cmsg_level: 'int', cmsg_type: 'int' });

/** `sizeof(((struct sockaddr_un *)0)->sun_path)`: a socket path's bytes and its closing NUL. */
export const SUN_PATH_SIZE = 108;
/** The longest path, in bytes, a UNIX socket can be bound or connected to (`sun_path` less the NUL). */
export const SUN_PATH_MAX = SUN_PATH_SIZE - 1;

/** `struct sockaddr_un`: the address of a UNIX socket bound to a path (`sun_family` is `AF_UNIX`). */
export const sockaddr_un = cStruct('sockaddr_un', {
  sun_family: 'uint16_t', // sa_family_t
  sun_path: koffi.array('char', SUN_PATH_SIZE),
});

/** `struct pollfd`: one descriptor for `poll`, the events asked for and those that happened. */
export const pollfd = cStruct('pollfd', { fd: 'int', events: 'short', revents: 'short' });

/** `struct timeval` (`<sys/time.h>`), the value of `SO_SNDTIMEO`: seconds and microseconds, both `long`. */
export const timeval = cStruct('timeval', { tv_sec: 'long', tv_usec: 'long' });

export const SOCKET_STRUCTS = { iovec, msghdr, cmsghdr, sockaddr_un, pollfd, timeval };

/** Every constant above that the C headers define, by macro name (checked against them). */
export const SOCKET_CONSTANTS: Readonly<Record<string, number>> = {
  AF_UNIX,
  SOCK_STREAM,
  SOCK_SEQPACKET,
  SOCK_NONBLOCK,
  SOCK_CLOEXEC,
  SOL_SOCKET,
  SCM_RIGHTS,
  MSG_CTRUNC,
  MSG_TRUNC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_CMSG_CLOEXEC,
  SO_SNDTIMEO,
  POLLIN,
  EADDRINUSE,
  ECONNABORTED,
  ETIMEDOUT,
};

/** The `sun_path` offset: the family comes first. */
const SUN_PATH_AT = koffi.offsetof(sockaddr_un, 'sun_path');

/**
 * A `struct sockaddr_un` for `path`, and the address length to pass with it (up to and with the
 * path's NUL). Refuses what the kernel would misread: a path that is not a string, an empty one
 * (that asks for an automatic abstract name), one with a NUL byte (it would end the path early,
 * or name the abstract namespace), and one longer than `SUN_PATH_MAX` bytes.
 */
export function sockaddrUn(path: string): { address: Uint8Array; length: number } {
  if (typeof path !== 'string')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `socket path (a ${typeof path}): expected a string`);
  const bytes = new TextEncoder().encode(path);
  if (bytes.length === 0 || bytes.includes(0))
    throw new VfioRangeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `socket path ${JSON.stringify(path)} is ${bytes.length === 0 ? 'empty' : 'cut by a NUL byte'}: give a file path`,
    );
  if (bytes.length > SUN_PATH_MAX)
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `socket path ${path} is ${bytes.length} bytes long: a UNIX socket path is at most ${SUN_PATH_MAX} bytes (sun_path holds ${SUN_PATH_SIZE} with the closing NUL); choose a shorter path, such as one under /run or /tmp`,
    );
  const address = new Uint8Array(sockaddr_un.size);
  encodeStruct(address, sockaddr_un, { sun_family: AF_UNIX });
  address.set(bytes, SUN_PATH_AT);
  return { address, length: SUN_PATH_AT + bytes.length + 1 };
}

/** glibc aligns control messages to `sizeof(size_t)`. */
const CMSG_ALIGNMENT = koffi.sizeof('size_t');
const FD_SIZE = koffi.sizeof('int');

/** `CMSG_ALIGN(length)`: `length` rounded up to the alignment of a control message. */
export function CMSG_ALIGN(length: number): number {
  return Math.ceil(length / CMSG_ALIGNMENT) * CMSG_ALIGNMENT;
}

/** `CMSG_LEN(length)`: the `cmsg_len` of a control message with `length` bytes of data. */
export function CMSG_LEN(length: number): number {
  return CMSG_ALIGN(cmsghdr.size) + length;
}

/** `CMSG_SPACE(length)`: the bytes a control message with `length` bytes of data takes in the buffer. */
export function CMSG_SPACE(length: number): number {
  return CMSG_ALIGN(cmsghdr.size) + CMSG_ALIGN(length);
}

/** The control buffer size that holds one SCM_RIGHTS message of `count` descriptors. */
export function rightsSpace(count: number): number {
  return CMSG_SPACE(count * FD_SIZE);
}

/** Writes one SCM_RIGHTS message carrying `fds` at the start of `control` (`rightsSpace(fds.length)` bytes or more). */
export function encodeRights(control: Uint8Array, fds: readonly number[]): void {
  encodeStruct(control, cmsghdr, {
    cmsg_len: CMSG_LEN(fds.length * FD_SIZE),
    cmsg_level: SOL_SOCKET,
    cmsg_type: SCM_RIGHTS,
  });
  const data = CMSG_LEN(0);
  fds.forEach((fd, i) => koffi.encode(control, data + i * FD_SIZE, 'int', fd));
}

/**
 * The descriptors of every SCM_RIGHTS message in the first `length` bytes of `control`, in
 * order, walking the messages as `CMSG_NXTHDR` does; other messages are skipped, and a header
 * whose length does not fit ends the walk (the kernel truncated it).
 */
export function decodeRights(control: Uint8Array, length: number): number[] {
  const end = Math.min(length, control.length);
  const fds: number[] = [];
  for (let at = 0; at + cmsghdr.size <= end;) {
    const h = decodeStruct<{ cmsg_len: bigint; cmsg_level: number; cmsg_type: number }>(control, cmsghdr, at);
    const messageLength = Number(h.cmsg_len);
    if (messageLength < CMSG_LEN(0) || at + messageLength > end) break;
    if (h.cmsg_level === SOL_SOCKET && h.cmsg_type === SCM_RIGHTS) {
      const count = Math.floor((messageLength - CMSG_LEN(0)) / FD_SIZE);
      for (let i = 0; i < count; i++) fds.push(koffi.decode(control, at + CMSG_LEN(0) + i * FD_SIZE, 'int') as number);
    }
    at += CMSG_ALIGN(messageLength);
  }
  return fds;
}
