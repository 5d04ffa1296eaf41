/**
 * Row 5's shared-memory NIC as c/ring.h lays it out (the C NIC and driver, the Python driver
 * and both TypeScript drivers use these numbers): the registers, two rings of 512 descriptors of
 * 16 bytes ({ u64 addr, u32 length, u32 status }), then the packet buffers, the driver's pool.
 */
export const REG_RDT = 0x00;
export const REG_TDT = 0x40;
export const REG_STOP = 0x80;
export const RX_RING = 0x1000;
export const TX_RING = 0x3000;
export const POOL = 0x10000;
export const RING = 512;
export const MASK = RING - 1;
export const BATCH = 32;
export const POOL_COUNT = 4096;
export const ENTRY = 2048;
export const FILE_SIZE = POOL + POOL_COUNT * ENTRY;
/** The device address (IOVA) of the file's first byte. */
export const IOVA_BASE = 0x8000_0000;
/** Status bit 0: the descriptor is done. */
export const DD = 1;
/** The byte a driver increments in every frame it forwards (ixy touches each packet). */
export const TOUCHED = 48;
/** Empty polls in a row before a side yields its CPU. */
export const SPINS = 64;
