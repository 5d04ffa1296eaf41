/* What the C sides of the host benchmarks share: the clock, errors, shared files, JSON output. */
#ifndef BENCH_HOST_COMMON_H
#define BENCH_HOST_COMMON_H
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DIE(...) do { fprintf(stderr, __VA_ARGS__); fprintf(stderr, ": %s\n", strerror(errno)); exit(1); } while (0)

/* CLOCK_MONOTONIC, the clock of Node's process.hrtime and Python's time.monotonic_ns. */
static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* `length` bytes of the file at `path`, mapped shared (what the other side maps too). */
static inline void *map_file(const char *path, size_t length) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) DIE("open %s", path);
  void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) DIE("mmap %s", path);
  close(fd);
  return p;
}

/* Prints `"name":[x0,x1,...]` (with a leading comma unless first). */
static inline void json_array(const char *name, const double *xs, long n, int first) {
  printf("%s\"%s\":[", first ? "" : ",", name);
  for (long i = 0; i < n; i++) printf("%s%.3f", i ? "," : "", xs[i]);
  printf("]");
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}
#endif
