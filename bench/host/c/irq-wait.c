/*
 * Row 2, the C waiter: epoll_wait on the interrupt's eventfd, then read it, as a C driver
 * waits; the latency is the time after the read less the device's stamp.
 *   irq-wait FILE COUNT   (fd 3: the interrupt's eventfd, fd 4: the ready eventfd)
 *   ->  {"wait":[ns per interrupt]}
 */
#include "common.h"
#include <sys/epoll.h>

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: irq-wait FILE COUNT\n"); return 2; }
  volatile uint64_t *stamp = map_file(argv[1], 4096);
  long count = atol(argv[2]);
  double *ns = calloc(count, sizeof *ns);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, 3, &ev) < 0) DIE("epoll");
  uint64_t one = 1, n;
  for (long i = 0; i < count; i++) {
    if (write(4, &one, 8) != 8) DIE("write(ready)");
    struct epoll_event out;
    int r;
    while ((r = epoll_wait(ep, &out, 1, 5000)) < 0 && errno == EINTR) {}
    if (r != 1) { fprintf(stderr, "epoll_wait: no interrupt within 5 s\n"); return 1; }
    if (read(3, &n, 8) != 8) DIE("read(interrupt)");
    uint64_t t1 = now_ns();
    if (n != 1) { fprintf(stderr, "interrupt %ld: count %llu, not 1\n", i, (unsigned long long)n); return 1; }
    ns[i] = (double)(t1 - *stamp);
  }
  printf("{");
  json_array("wait", ns, count, 1);
  printf("}\n");
  return 0;
}
