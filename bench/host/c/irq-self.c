/*
 * Row 2, the CPU path without the scheduler: one process signals its own eventfd, waits for it
 * in epoll_wait and reads it, OPS times; what the waiting code costs once the wake-up is done.
 *   irq-self OPS REPS  ->  {"self":[ns per signal, wait and read, per rep]}
 */
#include "common.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: irq-self OPS REPS\n"); return 2; }
  long ops = atol(argv[1]), reps = atol(argv[2]);
  double *ns = calloc(reps, sizeof *ns);
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
  if (fd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) DIE("eventfd/epoll");
  uint64_t one = 1, n;
  for (long r = -1; r < reps; r++) {
    long count = r < 0 ? ops / 10 : ops;
    uint64_t t0 = now_ns();
    for (long i = 0; i < count; i++) {
      if (write(fd, &one, 8) != 8) DIE("write");
      struct epoll_event out;
      if (epoll_wait(ep, &out, 1, 1000) != 1) DIE("epoll_wait");
      if (read(fd, &n, 8) != 8 || n != 1) DIE("read");
    }
    if (r >= 0) ns[r] = (double)(now_ns() - t0) / count;
  }
  printf("{");
  json_array("self", ns, reps, 1);
  printf("}\n");
  return 0;
}
