/*
 * Row 5, the NIC: a separate process that plays the device for every driver (C, TypeScript,
 * Python). Fills each RX descriptor the driver hands it (tail register) with a 64-byte frame
 * and marks it done; drains each TX descriptor, checking the frame's length and touched byte,
 * and marks it done. Runs until the driver writes STOP, then prints its counts.
 *   nic FILE  ->  {"rx":frames received by the driver,"tx":frames sent,"bad":frames wrong}
 */
#include "common.h"
#include "ring.h"
#include <sched.h>

static uint8_t *buffer(uint8_t *m, uint64_t iova) {
  if (iova < IOVA_BASE + POOL || iova + FRAME > IOVA_BASE + FILE_SIZE) {
    fprintf(stderr, "nic: descriptor address 0x%llx is outside the pool\n", (unsigned long long)iova);
    exit(1);
  }
  return m + (iova - IOVA_BASE);
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: nic FILE\n"); return 2; }
  uint8_t *m = map_file(argv[1], FILE_SIZE);
  volatile uint32_t *rdt = (void *)(m + REG_RDT), *tdt = (void *)(m + REG_TDT), *stop = (void *)(m + REG_STOP);
  struct desc *rx = (void *)(m + RX_RING), *tx = (void *)(m + TX_RING);
  uint8_t frame[FRAME];
  for (int i = 0; i < FRAME; i++) frame[i] = (uint8_t)(i * 7);
  frame[TOUCHED] = 0;
  uint32_t rh = 0, th = 0;
  uint64_t nrx = 0, ntx = 0, bad = 0;
  unsigned idle_rounds = 0;
  while (!*stop) {
    int idle = 1;
    uint32_t t = *rdt;
    for (int k = 0; k < BATCH && rh != t; k++) {
      memcpy(buffer(m, rx[rh].addr), frame, FRAME);
      rx[rh].length = FRAME;
      __atomic_store_n(&rx[rh].status, DD, __ATOMIC_RELEASE);
      rh = (rh + 1) & MASK;
      nrx++;
      idle = 0;
    }
    t = *tdt;
    for (int k = 0; k < BATCH && th != t; k++) {
      uint8_t *b = buffer(m, tx[th].addr);
      if (tx[th].length != FRAME || b[TOUCHED] != 1 || b[1] != 7) bad++;
      __atomic_store_n(&tx[th].status, DD, __ATOMIC_RELEASE);
      th = (th + 1) & MASK;
      ntx++;
      idle = 0;
    }
    if (!idle) idle_rounds = 0;
    else if (++idle_rounds < SPINS) cpu_relax();
    else { idle_rounds = 0; sched_yield(); }
  }
  printf("{\"rx\":%llu,\"tx\":%llu,\"bad\":%llu}\n", (unsigned long long)nrx, (unsigned long long)ntx,
         (unsigned long long)bad);
  return 0;
}
