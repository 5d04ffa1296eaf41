/*
 * Row 5, the C driver: ixy's forwarder on the shared-memory NIC (ring.h). Receives batches of
 * up to 32 frames (each RX descriptor refilled from the pool), touches each frame, sends them
 * (TX descriptors cleaned 32 at a time, their buffers back to the pool), drops what the TX
 * ring cannot take. rx_batch, tx_batch and the pool are noinline, as a driver library's are.
 * After SPINS empty polls in a row it yields its CPU (ring.h).
 *   driver FILE MS REPS  ->  {"ns":[ns per forwarded frame, per rep],"frames":N}
 *   (a first, untimed rep of MS warms up; then REPS reps of MS milliseconds each)
 */
#include "pool.h"
#include "ring.h"
#include <sched.h>

static uint8_t *m;
static volatile uint32_t *rdt, *tdt;
static struct desc *rx, *tx;
static struct pool *pool;
static struct entry *rx_bufs[RING], *tx_bufs[RING];
static uint32_t rx_index, tx_index, clean_index;

__attribute__((noinline)) static uint32_t rx_batch(struct entry **bufs, uint32_t *lens, uint32_t num) {
  uint32_t idx = rx_index, last = idx, n;
  for (n = 0; n < num; n++) {
    struct desc *d = &rx[idx];
    if (!(d->status & DD)) break;
    struct entry *nb = pool_alloc(pool);
    if (!nb) { fprintf(stderr, "driver: pool empty\n"); exit(1); }
    bufs[n] = rx_bufs[idx];
    lens[n] = d->length;
    d->addr = nb->iova;
    d->status = 0;
    rx_bufs[idx] = nb;
    last = idx;
    idx = (idx + 1) & MASK;
  }
  if (n) {
    rx_index = idx;
    *rdt = last;
  }
  return n;
}

__attribute__((noinline)) static uint32_t tx_batch(struct entry **bufs, uint32_t *lens, uint32_t num) {
  for (;;) {
    uint32_t cleanable = (tx_index - clean_index) & MASK;
    if (cleanable < BATCH) break;
    uint32_t to = (clean_index + BATCH - 1) & MASK;
    if (!(tx[to].status & DD)) break;
    for (uint32_t i = clean_index;; i = (i + 1) & MASK) {
      pool_free(pool, tx_bufs[i]);
      if (i == to) break;
    }
    clean_index = (to + 1) & MASK;
  }
  uint32_t sent;
  for (sent = 0; sent < num; sent++) {
    uint32_t next = (tx_index + 1) & MASK;
    if (next == clean_index) break;
    struct entry *b = bufs[sent];
    tx_bufs[tx_index] = b;
    tx[tx_index].addr = b->iova;
    tx[tx_index].length = lens[sent];
    tx[tx_index].status = 0;
    tx_index = next;
  }
  *tdt = tx_index;
  return sent;
}

/* Forwards for `ms` milliseconds; returns the frames sent, and the time taken in *ns. */
static uint64_t forward(long ms, uint64_t *ns) {
  struct entry *bufs[BATCH];
  uint32_t lens[BATCH];
  uint64_t frames = 0, t0 = now_ns(), end = t0 + (uint64_t)ms * 1000000u, t = t0;
  unsigned empty = 0;
  for (uint32_t round = 0;; round++) {
    uint32_t n = rx_batch(bufs, lens, BATCH);
    if (n == 0 && ++empty == SPINS) {
      empty = 0;
      sched_yield();
    } else if (n > 0) empty = 0;
    for (uint32_t i = 0; i < n; i++) bufs[i]->bytes[TOUCHED]++;
    uint32_t sent = tx_batch(bufs, lens, n);
    for (uint32_t i = sent; i < n; i++) pool_free(pool, bufs[i]);
    frames += sent;
    /* The window closes only once a frame went through: a rate of zero frames is no figure. */
    if ((round & 15) == 0 && (t = now_ns()) >= end && frames > 0) break;
  }
  *ns = t - t0;
  return frames;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: driver FILE MS REPS\n"); return 2; }
  long ms = atol(argv[2]), reps = atol(argv[3]);
  m = map_file(argv[1], FILE_SIZE);
  rdt = (void *)(m + REG_RDT);
  tdt = (void *)(m + REG_TDT);
  rx = (void *)(m + RX_RING);
  tx = (void *)(m + TX_RING);
  pool = pool_new(m + POOL, IOVA_BASE + POOL, POOL_COUNT, ENTRY);
  for (uint32_t i = 0; i < RING; i++) {
    rx_bufs[i] = pool_alloc(pool);
    rx[i].addr = rx_bufs[i]->iova;
    rx[i].status = 0;
  }
  *rdt = RING - 1;
  double *ns = calloc(reps, sizeof *ns);
  uint64_t total = 0, t;
  forward(ms, &t);
  for (long r = 0; r < reps; r++) {
    uint64_t frames = forward(ms, &t);
    total += frames;
    ns[r] = (double)t / (double)frames;
  }
  *(volatile uint32_t *)(m + REG_STOP) = 1;
  printf("{");
  json_array("ns", ns, reps, 1);
  printf(",\"frames\":%llu}\n", (unsigned long long)total);
  return 0;
}
