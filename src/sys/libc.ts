/**
 * The raw libc binding: each function declared once with koffi, called directly, no checks.
 * `calls.ts` and `socket-calls.ts` wrap them with errno handling and are their only callers.
 */
import { koffi } from '../../structs/index.js';

const lib = koffi.load('libc.so.6');

// ioctl is variadic in C; on the x86-64 and arm64 Linux ABIs a fixed third argument of
// pointer or integer class is passed exactly as the variadic one, so it is declared for each
// form the library passes: a buffer, an integer, an address (see `readAt` below).
export const libc = {
  open: lib.func('int open(const char *path, int flags, uint32_t mode)'),
  close: lib.func('int close(int fd)'),
  ioctlPtr: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
  ioctlInt: lib.func('int ioctl(int fd, unsigned long request, unsigned long arg)'),
  ioctlAt: lib.func('int ioctl(int fd, unsigned long request, uintptr_t arg)'),
  pread: lib.func('long pread(int fd, void *buf, size_t count, int64_t offset)'),
  pwrite: lib.func('long pwrite(int fd, const void *buf, size_t count, int64_t offset)'),
  read: lib.func('long read(int fd, void *buf, size_t count)'),
  write: lib.func('long write(int fd, const void *buf, size_t count)'),
  mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
  munmap: lib.func('int munmap(void *addr, size_t length)'),
  madvise: lib.func('int madvise(void *addr, size_t length, int advice)'),
  mlock: lib.func('int mlock(const void *addr, size_t length)'),
  munlock: lib.func('int munlock(const void *addr, size_t length)'),
  eventfd: lib.func('int eventfd(unsigned int initval, int flags)'),
  memfd_create: lib.func('int memfd_create(const char *name, unsigned int flags)'),
  ftruncate: lib.func('int ftruncate(int fd, int64_t length)'),
  epoll_create1: lib.func('int epoll_create1(int flags)'),
  epoll_ctl: lib.func('int epoll_ctl(int epfd, int op, int fd, void *event)'),
  // The calls of an interrupt's wake-up take their memory as an address (a number) rather than
  // a buffer: with no pointer argument koffi takes its fast call path (nothing to convert, and
  // nothing to finalise after the call). The memory is an ArrayBuffer's own, which never moves.
  readAt: lib.func('long read(int fd, uintptr_t buf, size_t count)'),
  writeAt: lib.func('long write(int fd, uintptr_t buf, size_t count)'),
  epoll_wait: lib.func('int epoll_wait(int epfd, uintptr_t events, int maxevents, int timeout)'),
  socketpair: lib.func('int socketpair(int domain, int type, int protocol, void *sv)'),
  // The msghdr is passed by address: it points into its own buffer (msg_iov, msg_control),
  // so koffi must hand the kernel that very memory, never a copy.
  sendmsg: lib.func('long sendmsg(int fd, uintptr_t msg, int flags)'),
  recvmsg: lib.func('long recvmsg(int fd, uintptr_t msg, int flags)'),
  socket: lib.func('int socket(int domain, int type, int protocol)'),
  bind: lib.func('int bind(int fd, const void *addr, uint32_t addrlen)'),
  listen: lib.func('int listen(int fd, int backlog)'),
  accept4: lib.func('int accept4(int fd, void *addr, void *addrlen, int flags)'),
  connect: lib.func('int connect(int fd, const void *addr, uint32_t addrlen)'),
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t length)'),
  poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  chmod: lib.func('int chmod(const char *path, uint32_t mode)'),
  rename: lib.func('int rename(const char *from, const char *to)'),
  unlink: lib.func('int unlink(const char *path)'),
  getrlimit: lib.func('int getrlimit(int resource, void *rlim)'),
  setrlimit: lib.func('int setrlimit(int resource, const void *rlim)'),
  sysconf: lib.func('long sysconf(int name)'),
  strerror: lib.func('const char *strerror(int errnum)'),
};

/** The calling thread's errno right after a libc call. */
export const errno = (): number => koffi.errno();

/** `sysconf(_SC_PAGESIZE)`. */
export const _SC_PAGESIZE = 30;
