"""What the Python sides of the host benchmarks share: mapping the shared file, timing loops, output."""
import json
import mmap
import os
import sys
import time


def map_file(path, length):
    """`length` bytes of the file at `path`, mapped shared (what the other side maps too)."""
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, length, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)


def timed(body, ops, reps):
    """A warm-up run of a tenth, then `reps` runs of `ops`: ns per op of each run."""
    body(max(1, ops // 10))
    out = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        body(ops)
        out.append((time.perf_counter_ns() - t0) / ops)
    return out


def emit(result):
    """The result, as the one line of JSON the TypeScript side reads."""
    sys.stdout.write(json.dumps(result) + "\n")
