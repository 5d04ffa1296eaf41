/*
 * Row 5: the shared-memory NIC of the ixy-style driver loop. One file holds, at these offsets,
 * what a real NIC has in its BAR and in DMA memory (bench/host/driver.ts and py/driver.py use the
 * same numbers):
 *   0x0000  registers: RDT (RX tail) 0x00, TDT (TX tail) 0x40, STOP 0x80 (one cache line each)
 *   0x1000  RX ring, 0x3000 TX ring: 512 descriptors of 16 bytes each
 *           { u64 addr (IOVA of the buffer), u32 length, u32 status (bit 0: DD, done) }
 *   0x10000 the packet buffers: 4096 of 2048 bytes, the driver's pool
 * The device address (IOVA) of a byte is IOVA_BASE + its offset in the file. Ring ownership is
 * ixgbe's: the NIC owns the descriptors from its head up to the tail register, exclusive.
 */
#ifndef BENCH_HOST_RING_H
#define BENCH_HOST_RING_H
#include <stdint.h>

#define REG_RDT 0x00
#define REG_TDT 0x40
#define REG_STOP 0x80
#define RX_RING 0x1000
#define TX_RING 0x3000
#define POOL 0x10000
#define RING 512
#define MASK (RING - 1)
#define BATCH 32
#define POOL_COUNT 4096
#define ENTRY 2048
#define FILE_SIZE (POOL + POOL_COUNT * ENTRY)
#define IOVA_BASE 0x80000000ull
#define DD 1u
#define FRAME 64
/*
 * Polls that find nothing before a side gives its CPU away (sched_yield): on a machine with fewer
 * free CPUs than the two spinning sides, the one waiting lets the other run instead of spinning
 * out its time slice. With a CPU each, the yield returns at once.
 */
#define SPINS 64
/* The byte the driver increments in every frame it forwards (ixy touches each packet). */
#define TOUCHED 48

struct desc { volatile uint64_t addr; volatile uint32_t length; volatile uint32_t status; };
#endif
