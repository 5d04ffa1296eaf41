"""Row 3, Python side: fcntl.ioctl(fd, FIONREAD, buf) on a regular file, with a mutable buffer
for the result, as a Python user asks the kernel.
    ioctl.py FILE OPS REPS  ->  {"ioctl": [ns/op per rep], "bytes": N}
"""
import array
import fcntl
import os
import sys
import termios

from common import emit, timed


def main():
    path, ops, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fd = os.open(path, os.O_RDONLY)
    buf = array.array("i", [0])

    def calls(n):
        for _ in range(n):
            fcntl.ioctl(fd, termios.FIONREAD, buf, True)

    emit({"ioctl": timed(calls, ops, reps), "bytes": buf[0]})


if __name__ == "__main__":
    main()
