"""Row 4, Python side: a packet-buffer pool as a Python driver writes one (a list as the stack of
free indices, entries with their index, IOVA and a memoryview of their bytes, the owner and
double-free checks DmaPool makes), over 2 MiB of mmapped memory.
    pool.py OPS REPS  ->  {"alloc_free": [...], "alloc_touch_free": [...], "view": [...]}
"""
import mmap
import sys

from common import emit, timed

COUNT = 1024
ENTRY = 2048


class Entry:
    __slots__ = ("pool", "index", "iova", "bytes", "in_use")

    def __init__(self, pool, index, iova, view):
        self.pool = pool
        self.index = index
        self.iova = iova
        self.bytes = view
        self.in_use = False

    def free(self):
        self.pool.free(self)


class Pool:
    def __init__(self, memory, iova, count, entry_size):
        whole = memoryview(memory)
        self.entries = [
            Entry(self, i, iova + i * entry_size, whole[i * entry_size : (i + 1) * entry_size]) for i in range(count)
        ]
        self.stack = list(range(count - 1, -1, -1))

    def alloc(self):
        if not self.stack:
            return None
        e = self.entries[self.stack.pop()]
        e.in_use = True
        return e

    def free(self, e):
        if e.pool is not self:
            raise ValueError("entry of another pool")
        if not e.in_use:
            raise ValueError(f"entry {e.index} freed twice")
        e.in_use = False
        self.stack.append(e.index)


def main():
    ops, reps = int(sys.argv[1]), int(sys.argv[2])
    memory = mmap.mmap(-1, COUNT * ENTRY)
    pool = Pool(memory, 0x100000, COUNT, ENTRY)
    whole = memoryview(memory)

    def alloc_free(n):
        for _ in range(n):
            pool.alloc().free()

    desc = memoryview(bytearray(64)).cast("Q")

    def alloc_touch_free(n):
        for i in range(n):
            e = pool.alloc()
            e.bytes[0] = i & 0xFF
            desc[i & 7] = e.iova
            e.free()

    def views(n):
        acc = 0
        for i in range(n):
            off = (i & 511) * 64
            acc += len(whole[off : off + 64])
        return acc

    emit(
        {
            "alloc_free": timed(alloc_free, ops, reps),
            "alloc_touch_free": timed(alloc_touch_free, ops, reps),
            "view": timed(views, ops, reps),
        }
    )


if __name__ == "__main__":
    main()
