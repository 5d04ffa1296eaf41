"""Row 5, Python side: ixy's forwarder on the shared-memory NIC (c/ring.h has the layout), with
the pool of pool.py over the file's packet buffers and memoryviews cast to the descriptors'
words, as a Python driver (ixy's own Python port works the same way) is written.
    driver.py FILE MS REPS  ->  {"ns": [ns per forwarded frame, per rep], "frames": N}
"""
import os
import sys
import time

from common import emit, map_file
from pool import Pool

REG_RDT, REG_TDT, REG_STOP = 0x00, 0x40, 0x80
RX_RING, TX_RING, POOL = 0x1000, 0x3000, 0x10000
RING, BATCH, POOL_COUNT, ENTRY = 512, 32, 4096, 2048
MASK = RING - 1
FILE_SIZE = POOL + POOL_COUNT * ENTRY
IOVA_BASE = 0x80000000
DD = 1
TOUCHED = 48
SPINS = 64


class Driver:
    def __init__(self, mm):
        self.u32 = memoryview(mm).cast("I")
        self.u64 = memoryview(mm).cast("Q")
        self.pool = Pool(memoryview(mm)[POOL:], IOVA_BASE + POOL, POOL_COUNT, ENTRY)
        self.rx_bufs = [self.pool.alloc() for _ in range(RING)]
        self.tx_bufs = [None] * RING
        self.rx_index = self.tx_index = self.clean_index = 0
        for i, e in enumerate(self.rx_bufs):
            self.u64[(RX_RING >> 3) + 2 * i] = e.iova
            self.u32[(RX_RING >> 2) + 4 * i + 3] = 0
        self.u32[REG_RDT >> 2] = RING - 1

    def rx_batch(self, bufs, lens, num):
        u32, u64, rx_bufs = self.u32, self.u64, self.rx_bufs
        idx = last = self.rx_index
        n = 0
        while n < num:
            w = (RX_RING >> 2) + 4 * idx
            if not u32[w + 3] & DD:
                break
            nb = self.pool.alloc()
            if nb is None:
                raise SystemExit("driver: pool empty")
            bufs.append(rx_bufs[idx])
            lens.append(u32[w + 2])
            u64[(RX_RING >> 3) + 2 * idx] = nb.iova
            u32[w + 3] = 0
            rx_bufs[idx] = nb
            last = idx
            idx = (idx + 1) & MASK
            n += 1
        if n:
            self.rx_index = idx
            u32[REG_RDT >> 2] = last
        return n

    def tx_batch(self, bufs, lens):
        u32, u64, tx_bufs = self.u32, self.u64, self.tx_bufs
        while True:
            if (self.tx_index - self.clean_index) & MASK < BATCH:
                break
            to = (self.clean_index + BATCH - 1) & MASK
            if not u32[(TX_RING >> 2) + 4 * to + 3] & DD:
                break
            i = self.clean_index
            while True:
                tx_bufs[i].free()
                if i == to:
                    break
                i = (i + 1) & MASK
            self.clean_index = (to + 1) & MASK
        sent = 0
        for b, length in zip(bufs, lens):
            nxt = (self.tx_index + 1) & MASK
            if nxt == self.clean_index:
                break
            tx_bufs[self.tx_index] = b
            u64[(TX_RING >> 3) + 2 * self.tx_index] = b.iova
            w = (TX_RING >> 2) + 4 * self.tx_index
            u32[w + 2] = length
            u32[w + 3] = 0
            self.tx_index = nxt
            sent += 1
        u32[REG_TDT >> 2] = self.tx_index
        return sent

    def forward(self, ms):
        """Forwards for `ms` milliseconds: the frames sent and the nanoseconds taken."""
        frames, rnd, empty = 0, 0, 0
        t0 = t = time.monotonic_ns()
        end = t0 + ms * 1_000_000
        while True:
            bufs, lens = [], []
            n = self.rx_batch(bufs, lens, BATCH)
            if n:
                empty = 0
            else:
                empty += 1
                if empty == SPINS:
                    empty = 0
                    os.sched_yield()
            for b in bufs:
                b.bytes[TOUCHED] = (b.bytes[TOUCHED] + 1) & 0xFF
            sent = self.tx_batch(bufs, lens)
            for b in bufs[sent:n]:
                b.free()
            frames += sent
            rnd += 1
            if rnd & 15 == 0:
                t = time.monotonic_ns()
                if t >= end and frames > 0:  # zero frames is no rate: wait for one
                    return frames, t - t0


def main():
    path, ms, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    mm = map_file(path, FILE_SIZE)
    d = Driver(mm)
    d.forward(ms)
    ns, total = [], 0
    for _ in range(reps):
        frames, took = d.forward(ms)
        total += frames
        ns.append(took / max(frames, 1))
    d.u32[REG_STOP >> 2] = 1
    emit({"ns": ns, "frames": total})


if __name__ == "__main__":
    main()
