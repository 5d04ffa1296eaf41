"""Row 6, Python side: the FFI floor through ctypes, Python's own foreign calls: `empty()` of
libempty.so; then libc's getppid(), ioctl(FIONREAD) on FILE, and an eventfd's write,
epoll_wait and read, each declared with ctypes as koffi declares them.
    floor.py LIB FILE EMPTY_OPS SYSCALL_OPS REPS
      ->  {"empty": [ns/call per rep], "getppid": [...], "ioctl": [...], "wait": [ns per round]}
"""
import ctypes
import os
import select
import sys
import termios

from common import emit, timed


def declare(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


def main():
    path, file = sys.argv[1], sys.argv[2]
    eops, sops, reps = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    empty = declare(ctypes.CDLL(path), "empty", None)
    getppid = declare(libc, "getppid", ctypes.c_int)
    c_ioctl = declare(libc, "ioctl", ctypes.c_int, ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)
    c_write = declare(libc, "write", ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
    c_read = declare(libc, "read", ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
    c_epoll_wait = declare(libc, "epoll_wait", ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
    fd = os.open(file, os.O_RDONLY)
    efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    ep = select.epoll()
    ep.register(efd, select.EPOLLIN)
    epfd = ep.fileno()
    nbytes = ctypes.c_int(0)
    one, count, events = ctypes.c_uint64(1), ctypes.c_uint64(0), (ctypes.c_char * 16)()
    one_p, count_p, nbytes_p = ctypes.addressof(one), ctypes.addressof(count), ctypes.addressof(nbytes)

    def empties(n):
        for _ in range(n):
            empty()

    def getppids(n):
        for _ in range(n):
            getppid()

    def ioctls(n):
        for _ in range(n):
            c_ioctl(fd, termios.FIONREAD, nbytes_p)

    def waits(n):
        for _ in range(n):
            c_write(efd, one_p, 8)
            c_epoll_wait(epfd, events, 1, 1000)
            c_read(efd, count_p, 8)

    emit(
        {
            "empty": timed(empties, eops, reps),
            "getppid": timed(getppids, sops, reps),
            "ioctl": timed(ioctls, sops, reps),
            "wait": timed(waits, sops // 4, reps),
        }
    )


if __name__ == "__main__":
    main()
