/*
 * Row 2, the device: a separate process that raises COUNT interrupts on eventfd 3, each once
 * the waiter said it is ready (a write to eventfd 4) and GAP_US later, so that the waiter is
 * asleep in its wait. It stamps CLOCK_MONOTONIC into the shared file's first 8 bytes just
 * before the write that signals the interrupt.
 *   irq-device FILE COUNT GAP_US   (fd 3: the interrupt's eventfd, fd 4: the ready eventfd)
 *   ->  {"raised":COUNT}
 */
#include "common.h"
#include <poll.h>

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: irq-device FILE COUNT GAP_US\n"); return 2; }
  volatile uint64_t *stamp = map_file(argv[1], 4096);
  long count = atol(argv[2]);
  struct timespec gap = { 0, atol(argv[3]) * 1000 };
  uint64_t one = 1, got;
  for (long i = 0; i < count; i++) {
    struct pollfd ready = { .fd = 4, .events = POLLIN };
    for (;;) {
      if (poll(&ready, 1, -1) < 0 && errno != EINTR) DIE("poll(ready)");
      if (read(4, &got, 8) == 8) break;
      if (errno != EAGAIN && errno != EINTR) DIE("read(ready)");
    }
    nanosleep(&gap, NULL);
    *stamp = now_ns();
    if (write(3, &one, 8) != 8) DIE("write(interrupt)");
  }
  printf("{\"raised\":%ld}\n", count);
  return 0;
}
