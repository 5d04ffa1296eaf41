/*
 * A packet-buffer pool as a C driver writes one: entries carved from one block of memory, each
 * with its index, IOVA and bytes, a stack of free indices, and the checks DmaPool makes (the
 * entry's owner, double free). alloc and free are noinline, as calls into a library are.
 */
#ifndef BENCH_HOST_POOL_H
#define BENCH_HOST_POOL_H
#include "common.h"

struct pool;
struct entry { struct pool *pool; uint32_t index; int in_use; uint64_t iova; uint8_t *bytes; };
struct pool { struct entry *entries; uint32_t *stack; uint32_t top, count, entry_size; uint8_t *base; uint64_t iova; };

static struct pool *pool_new(uint8_t *base, uint64_t iova, uint32_t count, uint32_t entry_size) {
  struct pool *p = calloc(1, sizeof *p);
  p->entries = calloc(count, sizeof *p->entries);
  p->stack = calloc(count, sizeof *p->stack);
  p->count = count;
  p->entry_size = entry_size;
  p->base = base;
  p->iova = iova;
  for (uint32_t i = 0; i < count; i++) {
    p->entries[i] = (struct entry){ p, i, 0, iova + (uint64_t)i * entry_size, base + (size_t)i * entry_size };
    p->stack[i] = count - 1 - i;
  }
  p->top = count;
  return p;
}

__attribute__((noinline)) static struct entry *pool_alloc(struct pool *p) {
  if (p->top == 0) return NULL;
  struct entry *e = &p->entries[p->stack[--p->top]];
  e->in_use = 1;
  return e;
}

__attribute__((noinline)) static void pool_free(struct pool *p, struct entry *e) {
  if (e->pool != p) { fprintf(stderr, "entry of another pool\n"); exit(1); }
  if (!e->in_use) { fprintf(stderr, "entry %u freed twice\n", e->index); exit(1); }
  e->in_use = 0;
  p->stack[p->top++] = e->index;
}
#endif
