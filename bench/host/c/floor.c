/*
 * Row 6, C side: the FFI floor. `empty()` of libempty.so (c/lib/empty.c) through the pointer
 * dlsym gives, as koffi and ctypes reach it; then, as C makes them, the system calls the
 * library's hot paths make: getppid() (the cheapest there is), ioctl(FIONREAD) on FILE (row 3's
 * call), and an eventfd's signal, epoll_wait and read (row 2's own-signal wait).
 *   floor LIB FILE EMPTY_OPS SYSCALL_OPS REPS
 *     ->  {"empty":[ns/call per rep],"getppid":[...],"ioctl":[...],"wait":[ns per round]}
 */
#include "common.h"
#include <dlfcn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

static double *timed(long ops, long reps, long (*body)(long)) {
  double *ns = calloc(reps, sizeof *ns);
  for (long r = -1; r < reps; r++) {
    long n = r < 0 ? ops / 10 : ops;
    uint64_t t0 = now_ns();
    if (body(n) < 0) DIE("floor");
    if (r >= 0) ns[r] = (double)(now_ns() - t0) / n;
  }
  return ns;
}

static void (*volatile empty)(void);
static int file_fd, efd, ep;

static long empties(long n) {
  for (long i = 0; i < n; i++) empty();
  return 0;
}

static long getppids(long n) {
  long acc = 0;
  for (long i = 0; i < n; i++) acc += getppid();
  return acc > 0 ? 0 : -1;
}

static long ioctls(long n) {
  int bytes = 0;
  for (long i = 0; i < n; i++)
    if (ioctl(file_fd, FIONREAD, &bytes) < 0) return -1;
  return 0;
}

static long waits(long n) {
  uint64_t one = 1, count;
  struct epoll_event out;
  for (long i = 0; i < n; i++)
    if (write(efd, &one, 8) != 8 || epoll_wait(ep, &out, 1, 1000) != 1 || read(efd, &count, 8) != 8) return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: floor LIB FILE EMPTY_OPS SYSCALL_OPS REPS\n"); return 2; }
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror()); return 1; }
  empty = (void (*)(void))dlsym(lib, "empty");
  if (!empty) { fprintf(stderr, "dlsym empty: %s\n", dlerror()); return 1; }
  if ((file_fd = open(argv[2], O_RDONLY | O_CLOEXEC)) < 0) DIE("open %s", argv[2]);
  efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
  if (efd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) DIE("eventfd/epoll");
  long eops = atol(argv[3]), sops = atol(argv[4]), reps = atol(argv[5]);
  printf("{");
  json_array("empty", timed(eops, reps, empties), reps, 1);
  json_array("getppid", timed(sops, reps, getppids), reps, 0);
  json_array("ioctl", timed(sops, reps, ioctls), reps, 0);
  json_array("wait", timed(sops / 4, reps, waits), reps, 0);
  printf("}\n");
  return 0;
}
