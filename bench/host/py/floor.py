"""Row 6, Python side: the FFI floor through ctypes, Python's own foreign calls: `empty()` of
libempty.so, and libc's getppid() (the cheapest system call).
    floor.py LIB EMPTY_OPS SYSCALL_OPS REPS  ->  {"empty": [ns/call per rep], "getppid": [...]}
"""
import ctypes
import sys

from common import emit, timed


def main():
    path, eops, sops, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    empty = ctypes.CDLL(path).empty
    empty.argtypes = []
    empty.restype = None
    getppid = ctypes.CDLL("libc.so.6").getppid
    getppid.argtypes = []
    getppid.restype = ctypes.c_int

    def empties(n):
        for _ in range(n):
            empty()

    def syscalls(n):
        for _ in range(n):
            getppid()

    emit({"empty": timed(empties, eops, reps), "getppid": timed(syscalls, sops, reps)})


if __name__ == "__main__":
    main()
