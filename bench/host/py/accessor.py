"""Row 1, Python side: 32-bit reads and writes of the shared 4 KiB page through a memoryview
cast to unsigned ints over an mmap (tinygrad's way to reach a BAR), cycling over its 1024 words.
    accessor.py FILE OPS REPS  ->  {"read32": [ns/op per rep], "write32": [...]}
"""
import sys

from common import emit, map_file, timed


def main():
    path, ops, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    mm = map_file(path, 4096)
    regs = memoryview(mm).cast("I")

    def reads(n):
        acc = 0
        for i in range(n):
            acc ^= regs[i & 1023]
        return acc

    def writes(n):
        for i in range(n):
            regs[i & 1023] = i & 0xFFFFFFFF

    emit({"read32": timed(reads, ops, reps), "write32": timed(writes, ops, reps)})
    regs.release()


if __name__ == "__main__":
    main()
