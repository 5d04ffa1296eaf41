/*
 * Row 1, C side: volatile 32-bit reads and writes of a shared 4 KiB page (the file the
 * TypeScript side maps as a Region), cycling over its 1024 words.
 *   accessor FILE OPS REPS  ->  {"read32":[ns/op per rep],"write32":[...]}
 */
#include "common.h"

static volatile uint32_t sink;

__attribute__((noinline)) static uint32_t reads(volatile uint32_t *regs, long n) {
  uint32_t acc = 0;
  for (long i = 0; i < n; i++) acc ^= regs[i & 1023];
  return acc;
}

__attribute__((noinline)) static void writes(volatile uint32_t *regs, long n) {
  for (long i = 0; i < n; i++) regs[i & 1023] = (uint32_t)i;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: accessor FILE OPS REPS\n"); return 2; }
  volatile uint32_t *regs = map_file(argv[1], 4096);
  long ops = atol(argv[2]), reps = atol(argv[3]);
  double *rd = calloc(reps, sizeof *rd), *wr = calloc(reps, sizeof *wr);
  sink ^= reads(regs, ops / 10);
  writes(regs, ops / 10);
  for (long r = 0; r < reps; r++) {
    uint64_t t0 = now_ns();
    sink ^= reads(regs, ops);
    uint64_t t1 = now_ns();
    writes(regs, ops);
    uint64_t t2 = now_ns();
    rd[r] = (double)(t1 - t0) / ops;
    wr[r] = (double)(t2 - t1) / ops;
  }
  printf("{");
  json_array("read32", rd, reps, 1);
  json_array("write32", wr, reps, 0);
  printf("}\n");
  return 0;
}
