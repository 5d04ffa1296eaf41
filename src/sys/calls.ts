/**
 * Checked system calls: each returns its result or throws a `SysError` naming the call, the
 * errno and the resource. EINTR is retried where the call is safe to repeat.
 */
import { EAGAIN, EINTR, IOCTLS, O_CLOEXEC, type IoctlName } from '../../structs/index.js';
import { fail, type Hint } from './fail.js';
import { errno, libc, _SC_PAGESIZE } from './libc.js';
import { hex, U64_MAX } from './format.js';
import { AddressedMemory } from './addressed.js';

/** `MAP_FAILED` is `(void *)-1`; koffi returns pointers as unsigned bigints. */
export const MAP_FAILED_ADDRESS = U64_MAX;

export type { Hint };

/** Memory the kernel reads or writes: a JS buffer, or a raw address (from mmap). */
export type Memory = Uint8Array | bigint;

/** `open(path, flags | O_CLOEXEC)`: the new fd. */
export function sysOpen(path: string, flags: number, mode = 0, hint?: Hint): number {
  for (;;) {
    const fd = libc.open(path, flags | O_CLOEXEC, mode) as number;
    if (fd >= 0) return fd;
    if (errno() !== EINTR) fail('open', path, hint);
  }
}

/** `close(fd)`. EINTR is not retried: on Linux the fd is gone either way. */
export function sysClose(fd: number, target?: string): void {
  if (libc.close(fd) < 0 && errno() !== EINTR) fail('close', target ?? `fd ${fd}`);
}

/**
 * Arguments up to this many bytes go to the kernel from one buffer at a fixed address (copied
 * in, and back after the call, as Python's `fcntl.ioctl` does): koffi's fast call, with no
 * pointer argument, costs less than the copies. Every VFIO and iommufd struct the library
 * sends is smaller; none points into itself, so its address is free to differ.
 */
const COPIED_ARG = 256;
let copiedArg: { memory: AddressedMemory; bytes: Uint8Array } | undefined;

/**
 * `ioctl(fd, NAME, arg)`: `name` is the request's C macro name (its code comes from
 * `IOCTLS`); `arg` is a buffer (the struct) or an integer. Returns the non-negative result.
 */
export function sysIoctl(
  fd: number,
  name: IoctlName,
  arg: Uint8Array | number | bigint,
  target?: string,
  hint?: Hint,
): number {
  const request = IOCTLS[name];
  const r = ioctlOnce(fd, request, arg);
  return r >= 0 ? r : ioctlFailed(fd, name, request, arg, target, hint);
}

/** The errno of the last failed `ioctlOnce`, read before a copied argument was copied back. */
let ioctlErrno = 0;

/** One `ioctl` in the form `arg` takes (see `COPIED_ARG`); on failure `ioctlErrno` is set. */
function ioctlOnce(fd: number, request: number, arg: Uint8Array | number | bigint): number {
  let r: number;
  if (typeof arg !== 'object') r = libc.ioctlInt(fd, request, arg) as number;
  else if (arg.length > COPIED_ARG) r = libc.ioctlPtr(fd, request, arg) as number;
  else {
    copiedArg ??= fixedBuffer(COPIED_ARG);
    const { memory, bytes } = copiedArg;
    const n = arg.length;
    for (let i = 0; i < n; i++) bytes[i] = arg[i];
    r = libc.ioctlAt(fd, request, memory.address) as number;
    if (r < 0) ioctlErrno = errno();
    for (let i = 0; i < n; i++) arg[i] = bytes[i];
    return r;
  }
  if (r < 0) ioctlErrno = errno();
  return r;
}

/** After a failed `ioctlOnce`: again on EINTR, else the `SysError` (out of line, so that `sysIoctl` stays small). */
function ioctlFailed(
  fd: number,
  name: IoctlName,
  request: number,
  arg: Uint8Array | number | bigint,
  target: string | undefined,
  hint: Hint | undefined,
): number {
  for (;;) {
    if (ioctlErrno !== EINTR) fail(`ioctl(${name})`, target ?? `fd ${fd}`, hint, ioctlErrno);
    const r = ioctlOnce(fd, request, arg);
    if (r >= 0) return r;
  }
}

function fixedBuffer(length: number): { memory: AddressedMemory; bytes: Uint8Array } {
  const memory = new AddressedMemory(length);
  return { memory, bytes: new Uint8Array(memory.buffer) };
}

/** `chmod(path, mode)`. */
export function sysChmod(path: string, mode: number): void {
  if (libc.chmod(path, mode) < 0) fail('chmod', path);
}

/** `rename(from, to)`: puts `from` at `to` in one step, replacing what was there (one file system). */
export function sysRename(from: string, to: string, hint?: Hint): void {
  if (libc.rename(from, to) < 0) fail('rename', `${from} -> ${to}`, hint);
}

/** `unlink(path)`. */
export function sysUnlink(path: string): void {
  if (libc.unlink(path) < 0) fail('unlink', path);
}

/** `pread(fd, mem, length, offset)`: bytes read (may be fewer than asked at end of file). */
export function sysPread(fd: number, mem: Memory, length: number, offset: bigint | number, target?: string): number {
  for (;;) {
    const n = Number(libc.pread(fd, mem, length, BigInt(offset)));
    if (n >= 0) return n;
    if (errno() !== EINTR) fail('pread', target ?? `fd ${fd}`);
  }
}

/** `pwrite(fd, mem, length, offset)`: bytes written. */
export function sysPwrite(fd: number, mem: Memory, length: number, offset: bigint | number, target?: string): number {
  for (;;) {
    const n = Number(libc.pwrite(fd, mem, length, BigInt(offset)));
    if (n >= 0) return n;
    if (errno() !== EINTR) fail('pwrite', target ?? `fd ${fd}`);
  }
}

/** `read(fd, buf, length)`: bytes read; `null` when the fd is non-blocking and empty (EAGAIN). */
export function sysRead(fd: number, buf: Uint8Array, length = buf.length, target?: string): number | null {
  for (;;) {
    const n = Number(libc.read(fd, buf, length));
    if (n >= 0) return n;
    const e = errno();
    if (e === EAGAIN) return null;
    if (e !== EINTR) fail('read', target ?? `fd ${fd}`);
  }
}

/**
 * `read(fd, address, length)` into memory at a raw address (see `AddressedMemory`): bytes read;
 * `null` when the fd is non-blocking and empty (EAGAIN). Per interrupt: nothing is allocated,
 * and the failure path is out of line, so the call inlines into the wait that makes it.
 */
export function sysReadAt(fd: number, address: number, length: number, target: string): number | null {
  const n = libc.readAt(fd, address, length) as number;
  return n >= 0 ? n : readAtFailed(fd, address, length, target);
}

function readAtFailed(fd: number, address: number, length: number, target: string): number | null {
  for (;;) {
    const e = errno();
    if (e === EAGAIN) return null;
    if (e !== EINTR) fail('read', target, undefined, e);
    const n = libc.readAt(fd, address, length) as number;
    if (n >= 0) return n;
  }
}

/** `write(fd, address, length)` from memory at a raw address: bytes written. */
export function sysWriteAt(fd: number, address: number, length: number, target: string): number {
  const n = libc.writeAt(fd, address, length) as number;
  return n >= 0 ? n : writeAtFailed(fd, address, length, target);
}

function writeAtFailed(fd: number, address: number, length: number, target: string): number {
  for (;;) {
    const e = errno();
    if (e !== EINTR) fail('write', target, undefined, e);
    const n = libc.writeAt(fd, address, length) as number;
    if (n >= 0) return n;
  }
}

/** `write(fd, buf, length)`: bytes written. */
export function sysWrite(fd: number, buf: Uint8Array, length = buf.length, target?: string): number {
  for (;;) {
    const n = Number(libc.write(fd, buf, length));
    if (n >= 0) return n;
    if (errno() !== EINTR) fail('write', target ?? `fd ${fd}`);
  }
}

/** `mlock(address, length)`: keeps the pages resident (no-IOMMU DMA needs them where they are). */
export function sysMlock(address: bigint, length: number | bigint, target?: string): void {
  if (libc.mlock(address, Number(length)) < 0) fail('mlock', target ?? `${hex(address)}`);
}

/** `munlock(address, length)`. */
export function sysMunlock(address: bigint, length: number | bigint, target?: string): void {
  if (libc.munlock(address, Number(length)) < 0) fail('munlock', target ?? `${hex(address)}`);
}

/** `mmap(NULL, length, prot, flags, fd, offset)`: the address. */
export function sysMmap(
  length: number,
  prot: number,
  flags: number,
  fd: number,
  offset: bigint,
  target?: string,
  hint?: Hint,
): bigint {
  const addr = libc.mmap(null, length, prot, flags, fd, offset) as bigint | null;
  if (addr === null || addr === MAP_FAILED_ADDRESS) fail('mmap', target, hint);
  return addr;
}

/** `munmap(address, length)`. */
export function sysMunmap(address: bigint, length: number, target?: string): void {
  if (libc.munmap(address, length) < 0) fail('munmap', target);
}

/** `madvise(address, length, advice)`: false when the kernel refused (the caller decides). */
export function sysMadvise(address: bigint, length: number, advice: number): boolean {
  return libc.madvise(address, length, advice) >= 0;
}

/** `eventfd(initial, flags)`: the new fd. */
export function sysEventfd(initial: number, flags: number): number {
  const fd = libc.eventfd(initial, flags) as number;
  if (fd < 0) fail('eventfd');
  return fd;
}

/** `epoll_create1(flags)`: the new fd. */
export function sysEpollCreate(flags: number): number {
  const fd = libc.epoll_create1(flags) as number;
  if (fd < 0) fail('epoll_create1');
  return fd;
}

/** `epoll_ctl(epfd, op, fd, event)`; `opName` is the op's macro name for messages. */
export function sysEpollCtl(epfd: number, op: number, opName: string, fd: number, event: Uint8Array | null): void {
  if (libc.epoll_ctl(epfd, op, fd, event) < 0) fail(`epoll_ctl(${opName})`, `fd ${fd}`);
}

/** `epoll_wait(epfd, events, maxEvents, timeoutMs)`, `events` an address (`AddressedMemory`): how many were written. */
export function sysEpollWait(
  epfd: number,
  events: number,
  maxEvents: number,
  timeoutMs: number,
  target: string,
): number {
  const n = libc.epoll_wait(epfd, events, maxEvents, timeoutMs) as number;
  return n >= 0 ? n : epollWaitFailed(epfd, events, maxEvents, timeoutMs, target);
}

function epollWaitFailed(epfd: number, events: number, maxEvents: number, timeoutMs: number, target: string): number {
  for (;;) {
    // EINTR: waited again for the whole timeout (a signal is rare; the callers bound their waits).
    if (errno() !== EINTR) fail('epoll_wait', target);
    const n = libc.epoll_wait(epfd, events, maxEvents, timeoutMs) as number;
    if (n >= 0) return n;
  }
}

/** `getrlimit(resource, buf)` into a `struct rlimit` buffer. */
export function sysGetrlimit(resource: number, buf: Uint8Array): void {
  if (libc.getrlimit(resource, buf) < 0) fail('getrlimit', `resource ${resource}`);
}

/** `setrlimit(resource, buf)` from a `struct rlimit` buffer. */
export function sysSetrlimit(resource: number, buf: Uint8Array): void {
  if (libc.setrlimit(resource, buf) < 0) fail('setrlimit', `resource ${resource}`);
}

let cachedPageSize = 0;
/** The system page size in bytes. */
export function pageSize(): number {
  if (cachedPageSize === 0) cachedPageSize = Number(libc.sysconf(_SC_PAGESIZE));
  return cachedPageSize;
}
