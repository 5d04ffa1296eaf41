/*
 * Register access baseline in C: the same loops as bench/mmio.ts, on the same devices, through
 * the same kernel interfaces (raw VFIO ioctls, BAR0 mmapped from the device fd, volatile
 * uint32_t accesses), plus volatile reads of plain anonymous memory and a free-list stack of
 * pool entries. Prints one line per timed repetition: "<case> <ops> <nanoseconds>".
 *
 *   cc -O2 -o mmio bench/mmio.c
 *   ./mmio EDU_GROUP EDU_BDF E1000E_GROUP E1000E_BDF DEV_OPS MEM_OPS POOL_OPS REPS
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DIE(...) do { fprintf(stderr, __VA_ARGS__); fprintf(stderr, ": %s\n", strerror(errno)); exit(1); } while (0)

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct bar { int container, group, dev; volatile uint32_t *regs; uint64_t size; };

static struct bar open_bar0(const char *group_no, const char *bdf) {
  struct bar b;
  char path[64];
  snprintf(path, sizeof path, "/dev/vfio/%s", group_no);
  b.container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
  if (b.container < 0) DIE("open /dev/vfio/vfio");
  b.group = open(path, O_RDWR | O_CLOEXEC);
  if (b.group < 0) DIE("open %s", path);
  if (ioctl(b.group, VFIO_GROUP_SET_CONTAINER, &b.container)) DIE("VFIO_GROUP_SET_CONTAINER");
  if (ioctl(b.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) DIE("VFIO_SET_IOMMU");
  b.dev = ioctl(b.group, VFIO_GROUP_GET_DEVICE_FD, bdf);
  if (b.dev < 0) DIE("VFIO_GROUP_GET_DEVICE_FD %s", bdf);
  struct vfio_region_info info = { .argsz = sizeof info, .index = VFIO_PCI_BAR0_REGION_INDEX };
  if (ioctl(b.dev, VFIO_DEVICE_GET_REGION_INFO, &info)) DIE("VFIO_DEVICE_GET_REGION_INFO %s", bdf);
  b.size = info.size;
  b.regs = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, b.dev, (off_t)info.offset);
  if (b.regs == MAP_FAILED) DIE("mmap BAR0 of %s", bdf);
  return b;
}

static void close_bar(struct bar *b) {
  munmap((void *)b->regs, b->size);
  close(b->dev);
  close(b->group);
  close(b->container);
}

/* The pool: entries with an in-use flag and their owner, a stack of free indices; the same
 * checks as DmaPool (owner, double free). noinline: as a library in another translation unit. */
struct pool;
struct entry { struct pool *pool; uint32_t index; int in_use; uint64_t iova; uint8_t *bytes; };
struct pool { struct entry *entries; uint32_t *stack; uint32_t top, count; };

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

static volatile uint32_t sink;

/* One case: warm up once, then REPS timed runs of OPS iterations of BODY (i is the counter). */
#define RUN(name, ops, body) do {                                     \
    uint32_t acc = 0; (void)acc;                                      \
    for (long i = 0; i < (ops) / 10; i++) { body; }                   \
    for (int rep = 0; rep < reps; rep++) {                            \
      uint64_t t0 = now_ns();                                         \
      for (long i = 0; i < (ops); i++) { body; }                      \
      uint64_t t1 = now_ns();                                         \
      printf("%s %ld %llu\n", name, (long)(ops), (unsigned long long)(t1 - t0)); \
    }                                                                 \
    sink = acc;                                                       \
  } while (0)

int main(int argc, char **argv) {
  if (argc != 4 && argc != 6) { fprintf(stderr, "usage: %s CASE OPS REPS [GROUP BDF]\n", argv[0]); return 2; }
  const char *name = argv[1];
  long ops = atol(argv[2]);
  int reps = atoi(argv[3]);
  int is_edu = strncmp(name, "edu-", 4) == 0, is_nic = strcmp(name, "e1000e-mta-read") == 0;
  if ((is_edu || is_nic) && argc != 6) { fprintf(stderr, "%s needs GROUP BDF\n", name); return 2; }

  if (is_edu) {
    struct bar edu = open_bar0(argv[4], argv[5]);
    volatile uint32_t *r = edu.regs;
    if (r[0] != 0x010000ed) { fprintf(stderr, "edu id reads 0x%08x, not 0x010000ed\n", r[0]); return 1; }
    long bad = 0;
    if (!strcmp(name, "edu-read")) RUN(name, ops, acc ^= r[0x00 / 4]);
    else if (!strcmp(name, "edu-write")) RUN(name, ops, r[0x04 / 4] = (uint32_t)i);
    else if (!strcmp(name, "edu-write-read")) RUN(name, ops, { r[0x04 / 4] = (uint32_t)i; if (r[0x04 / 4] != ~(uint32_t)i) bad++; });
    else { fprintf(stderr, "unknown case %s\n", name); return 2; }
    if (bad) { fprintf(stderr, "edu liveness: %ld of the reads were not the complement\n", bad); return 1; }
    close_bar(&edu);
  } else if (is_nic) {
    struct bar nic = open_bar0(argv[4], argv[5]);
    volatile uint32_t *mta = nic.regs + 0x5200 / 4;
    RUN(name, ops, acc ^= mta[i & 127]);
    close_bar(&nic);
  } else if (!strcmp(name, "mem-read")) {
    volatile uint32_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) DIE("mmap anonymous");
    for (int i = 0; i < 1024; i++) mem[i] = (uint32_t)i;
    RUN(name, ops, acc ^= mem[i & 1023]);
    munmap((void *)mem, 4096);
  } else if (!strcmp(name, "pool-alloc-free")) {
    enum { COUNT = 1024, SIZE = 2048 };
    struct pool p = { .entries = calloc(COUNT, sizeof(struct entry)), .stack = calloc(COUNT, sizeof(uint32_t)), .top = COUNT, .count = COUNT };
    uint8_t *bytes = malloc((size_t)COUNT * SIZE);
    if (!p.entries || !p.stack || !bytes) DIE("malloc");
    for (uint32_t i = 0; i < COUNT; i++) {
      p.entries[i] = (struct entry){ .pool = &p, .index = i, .iova = 0x100000 + (uint64_t)i * SIZE, .bytes = bytes + (size_t)i * SIZE };
      p.stack[i] = COUNT - 1 - i;
    }
    RUN(name, ops, { struct entry *e = pool_alloc(&p); acc += e->index; pool_free(&p, e); });
  } else {
    fprintf(stderr, "unknown case %s\n", name);
    return 2;
  }
  return 0;
}
