/*
 * Row 6, C side: the FFI floor. `empty()` of libempty.so (c/lib/empty.c) through the pointer
 * dlsym gives, as koffi and ctypes reach it; then getppid(), the cheapest system call, through
 * libc as C calls it (what a call costs once it enters the kernel).
 *   floor LIB EMPTY_OPS SYSCALL_OPS REPS  ->  {"empty":[ns/call per rep],"getppid":[...]}
 */
#include "common.h"
#include <dlfcn.h>

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: floor LIB EMPTY_OPS SYSCALL_OPS REPS\n"); return 2; }
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror()); return 1; }
  void (*volatile empty)(void) = (void (*)(void))dlsym(lib, "empty");
  if (!empty) { fprintf(stderr, "dlsym empty: %s\n", dlerror()); return 1; }
  long eops = atol(argv[2]), sops = atol(argv[3]), reps = atol(argv[4]);
  double *e = calloc(reps, sizeof *e), *s = calloc(reps, sizeof *s);
  long acc = 0;
  for (long r = -1; r < reps; r++) {
    long n = r < 0 ? eops / 10 : eops;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) empty();
    if (r >= 0) e[r] = (double)(now_ns() - t0) / n;
  }
  for (long r = -1; r < reps; r++) {
    long n = r < 0 ? sops / 10 : sops;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) acc += getppid();
    if (r >= 0) s[r] = (double)(now_ns() - t0) / n;
  }
  printf("{");
  json_array("empty", e, reps, 1);
  json_array("getppid", s, reps, 0);
  printf(",\"acc\":[%d]}\n", acc > 0);
  return 0;
}
