/*
 * Row 3, C side: ioctl(fd, FIONREAD, &n) on a regular file (the kernel answers from the inode:
 * the cheapest ioctl there is), as the library's sysIoctl does it.
 *   ioctl FILE OPS REPS  ->  {"ioctl":[ns/op per rep],"bytes":N}
 */
#include "common.h"
#include <sys/ioctl.h>

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: ioctl FILE OPS REPS\n"); return 2; }
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) DIE("open %s", argv[1]);
  long ops = atol(argv[2]), reps = atol(argv[3]);
  double *ns = calloc(reps, sizeof *ns);
  int n = 0;
  for (long i = 0; i < ops / 10; i++)
    if (ioctl(fd, FIONREAD, &n) < 0) DIE("ioctl(FIONREAD)");
  for (long r = 0; r < reps; r++) {
    uint64_t t0 = now_ns();
    for (long i = 0; i < ops; i++)
      if (ioctl(fd, FIONREAD, &n) < 0) DIE("ioctl(FIONREAD)");
    ns[r] = (double)(now_ns() - t0) / ops;
  }
  printf("{");
  json_array("ioctl", ns, reps, 1);
  printf(",\"bytes\":%d}\n", n);
  return 0;
}
