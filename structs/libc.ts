/**
 * The libc-level ABI the system-call layer needs on Linux (x86-64 and arm64): flag values
 * and the structures `epoll_event` and `rlimit`.
 */
import { cStruct } from './koffi.js';

// <fcntl.h>
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

// <errno.h>: the errnos the system-call layer acts on rather than reports
export const EINTR = 4;
export const EAGAIN = 11;

// <sys/mman.h>
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_HUGETLB = 0x40000;
export const MAP_HUGE_SHIFT = 26;
export const MAP_HUGE_2MB = 21 << MAP_HUGE_SHIFT;
export const MAP_HUGE_1GB = 30 << MAP_HUGE_SHIFT;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;

// <linux/memfd.h>
export const MFD_CLOEXEC = 0x0001;

// <sys/eventfd.h>
export const EFD_SEMAPHORE = 0o1;
export const EFD_NONBLOCK = O_NONBLOCK;
export const EFD_CLOEXEC = O_CLOEXEC;

// <sys/epoll.h>
export const EPOLL_CLOEXEC = O_CLOEXEC;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;

// <sys/resource.h>
export const RLIMIT_NOFILE = 7;
export const RLIMIT_MEMLOCK = 8;
/** `RLIM_INFINITY` as the unsigned 64-bit value it is. */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/**
 * `struct epoll_event`: the kernel declares it packed on x86-64 only (12 bytes); on arm64
 * `data` is aligned to 8 (16 bytes).
 */
export const epoll_event = cStruct('epoll_event', { events: 'uint32_t', data: 'uint64_t' }, process.arch === 'x64');

export const rlimit = cStruct('rlimit', { rlim_cur: 'uint64_t', rlim_max: 'uint64_t' });

export const LIBC_STRUCTS = { epoll_event, rlimit };

/** Every constant above, by macro name (checked against the C headers). */
export const LIBC_CONSTANTS: Readonly<Record<string, number>> = {
  EINTR,
  EAGAIN,
  O_RDONLY,
  O_WRONLY,
  O_RDWR,
  O_NONBLOCK,
  O_CLOEXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  MAP_SHARED,
  MAP_PRIVATE,
  MAP_FIXED,
  MAP_ANONYMOUS,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_HUGETLB,
  MAP_HUGE_SHIFT,
  MAP_HUGE_2MB,
  MAP_HUGE_1GB,
  MADV_DONTFORK,
  MADV_DOFORK,
  EFD_SEMAPHORE,
  EFD_NONBLOCK,
  EFD_CLOEXEC,
  MFD_CLOEXEC,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLIN,
  EPOLLOUT,
  EPOLLERR,
  EPOLLHUP,
  RLIMIT_NOFILE,
  RLIMIT_MEMLOCK,
};
