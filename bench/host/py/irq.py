"""Row 2, Python side: waits for the device's interrupts on eventfd 3 (ready eventfd: 4) with
select.epoll and os.read, as a Python driver blocks; then with asyncio (loop.add_reader), a
future per wait and an async generator over them, as an asyncio program waits.
    irq.py FILE COUNT MODE   MODE: wait | async | iter  ->  {"wait": [ns per interrupt]}
"""
import asyncio
import os
import select
import struct
import sys
import time

from common import emit, map_file

IRQ, READY = 3, 4
ONE = struct.pack("<Q", 1)


def stamp_of(mm):
    return struct.unpack_from("<Q", mm, 0)[0]


def blocking(mm, count):
    ep = select.epoll()
    ep.register(IRQ, select.EPOLLIN)
    out = []
    for i in range(count):
        os.write(READY, ONE)
        if not ep.poll(5):
            raise SystemExit("epoll: no interrupt within 5 s")
        n = struct.unpack("<Q", os.read(IRQ, 8))[0]
        t1 = time.monotonic_ns()
        if n != 1:
            raise SystemExit(f"interrupt {i}: count {n}, not 1")
        out.append(t1 - stamp_of(mm))
    return out


class Waits:
    """Interrupts for asyncio: the event loop watches the eventfd; each wait is a future."""

    def __init__(self, loop):
        self.loop = loop
        self.future = None
        loop.add_reader(IRQ, self._ready)

    def _ready(self):
        try:
            n = struct.unpack("<Q", os.read(IRQ, 8))[0]
        except BlockingIOError:
            return
        if self.future is not None and not self.future.done():
            self.future.set_result(n)

    async def wait(self):
        self.future = self.loop.create_future()
        return await self.future

    async def events(self):
        while True:
            yield await self.wait()


async def asynchronous(mm, count, mode):
    waits = Waits(asyncio.get_running_loop())
    out = []
    if mode == "async":
        for i in range(count):
            os.write(READY, ONE)
            n = await waits.wait()
            t1 = time.monotonic_ns()
            if n != 1:
                raise SystemExit(f"interrupt {i}: count {n}, not 1")
            out.append(t1 - stamp_of(mm))
    else:
        os.write(READY, ONE)
        async for n in waits.events():
            t1 = time.monotonic_ns()
            if n != 1:
                raise SystemExit(f"interrupt {len(out)}: count {n}, not 1")
            out.append(t1 - stamp_of(mm))
            if len(out) == count:
                break
            os.write(READY, ONE)
    return out


def main():
    path, count, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    mm = map_file(path, 4096)
    os.set_blocking(IRQ, False)
    samples = blocking(mm, count) if mode == "wait" else asyncio.run(asynchronous(mm, count, mode))
    emit({"wait": samples})


if __name__ == "__main__":
    main()
