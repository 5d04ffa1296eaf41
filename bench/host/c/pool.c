/*
 * Row 4, C side: pool alloc + free pairs; alloc, write the entry's first byte, put its IOVA in a
 * descriptor, free (what a driver does per packet); and a checked view of 64 bytes at an offset of the
 * pool's memory (what DmaBuffer.view returns).
 *   pool OPS REPS  ->  {"alloc_free":[ns/op per rep],"alloc_touch_free":[...],"view":[...]}
 */
#include "pool.h"

#define COUNT 1024
#define ENTRY 2048

static volatile uint64_t sink;

struct view { uint8_t *p; size_t n; };

__attribute__((noinline)) static struct view view(uint8_t *base, size_t size, size_t off, size_t n) {
  if (off > size || n > size - off) { fprintf(stderr, "view out of range\n"); exit(1); }
  return (struct view){ base + off, n };
}

__attribute__((noinline)) static uint64_t alloc_free(struct pool *p, long n) {
  uint64_t acc = 0;
  for (long i = 0; i < n; i++) {
    struct entry *e = pool_alloc(p);
    acc += e->index;
    pool_free(p, e);
  }
  return acc;
}

__attribute__((noinline)) static uint64_t alloc_touch_free(struct pool *p, volatile uint64_t *desc, long n) {
  for (long i = 0; i < n; i++) {
    struct entry *e = pool_alloc(p);
    e->bytes[0] = (uint8_t)i;
    desc[i & 7] = e->iova;
    pool_free(p, e);
  }
  return desc[0];
}

__attribute__((noinline)) static uint64_t views(uint8_t *base, long n) {
  uint64_t acc = 0;
  for (long i = 0; i < n; i++) acc += view(base, COUNT * ENTRY, (size_t)(i & 511) * 64, 64).n;
  return acc;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: pool OPS REPS\n"); return 2; }
  long ops = atol(argv[1]), reps = atol(argv[2]);
  uint8_t *mem = mmap(NULL, COUNT * ENTRY, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (mem == MAP_FAILED) DIE("mmap");
  struct pool *p = pool_new(mem, 0x100000, COUNT, ENTRY);
  static volatile uint64_t desc[8];
  double *af = calloc(reps, sizeof *af), *atf = calloc(reps, sizeof *atf), *vw = calloc(reps, sizeof *vw);
  sink += alloc_free(p, ops / 10) + alloc_touch_free(p, desc, ops / 10) + views(mem, ops / 10);
  for (long r = 0; r < reps; r++) {
    uint64_t t0 = now_ns();
    sink += alloc_free(p, ops);
    uint64_t t1 = now_ns();
    sink += alloc_touch_free(p, desc, ops);
    uint64_t t2 = now_ns();
    sink += views(mem, ops);
    uint64_t t3 = now_ns();
    af[r] = (double)(t1 - t0) / ops;
    atf[r] = (double)(t2 - t1) / ops;
    vw[r] = (double)(t3 - t2) / ops;
  }
  printf("{");
  json_array("alloc_free", af, reps, 1);
  json_array("alloc_touch_free", atf, reps, 0);
  json_array("view", vw, reps, 0);
  printf("}\n");
  return 0;
}
