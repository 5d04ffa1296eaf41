"""Row 2, the CPU path without the scheduler, Python side: signal an own eventfd, wait for it
(select.epoll, then asyncio's add_reader with a future per wait) and read it, OPS times.
    irq_self.py OPS REPS  ->  {"wait": [ns per round, per rep], "async": [...]}
"""
import asyncio
import os
import select
import struct
import sys
import time

from common import emit, timed

ONE = struct.pack("<Q", 1)


def main():
    ops, reps = int(sys.argv[1]), int(sys.argv[2])
    fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    ep = select.epoll()
    ep.register(fd, select.EPOLLIN)

    def blocking(n):
        for _ in range(n):
            os.write(fd, ONE)
            ep.poll(1)
            os.read(fd, 8)

    wait = timed(blocking, ops, reps)
    ep.unregister(fd)

    async def asynchronous():
        loop = asyncio.get_running_loop()
        state = {"future": None}

        def ready():
            n = struct.unpack("<Q", os.read(fd, 8))[0]
            state["future"].set_result(n)

        loop.add_reader(fd, ready)

        async def rounds(n):
            for _ in range(n):
                state["future"] = loop.create_future()
                os.write(fd, ONE)
                await state["future"]

        out = []
        await rounds(max(1, ops // 10))
        for _ in range(reps):
            t0 = time.perf_counter_ns()
            await rounds(ops)
            out.append((time.perf_counter_ns() - t0) / ops)
        return out

    emit({"wait": wait, "async": asyncio.run(asynchronous())})


if __name__ == "__main__":
    main()
