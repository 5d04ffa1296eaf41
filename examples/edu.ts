/**
 * A user-space driver for QEMU's `edu` device (1234:11e8), the teaching device of the QEMU
 * tree: read its id, check it is alive, let it compute a factorial, and copy data through its
 * DMA engine and back, with memory from `dev.dma`.
 *
 * Run (as root, the device bound to vfio-pci):
 *   node --import tsx examples/edu.ts [ADDRESS]
 * Without ADDRESS it uses the test VM's manifest, or the first edu bound to vfio-pci.
 * In the test VM: scripts/vm/run --devices edu -- node --import tsx examples/edu.ts
 */
import { randomFillSync } from 'node:crypto';
import { openDevice, type Region } from '../src/index.js';
import { findDevice, isMain, runMain, waitFor, type DeviceWanted } from './common.js';

/** edu's BAR0 registers (QEMU docs/specs/edu.rst). Below 0x80 they take 4-byte accesses only. */
const ID = 0x00; //        0xRRrr00ed: major, minor, 0xed
const LIVENESS = 0x04; //  reads back the bitwise complement of what was written
const FACTORIAL = 0x08; // write n, wait until not busy, read n!
const STATUS = 0x20; //    bit 0: factorial busy
const DMA_SRC = 0x80; //   64-bit DMA registers
const DMA_DST = 0x88;
const DMA_COUNT = 0x90;
const DMA_CMD = 0x98; //   bit 0 start (clears when done), bit 1 direction: edu -> RAM
const STATUS_BUSY = 0x01;
const DMA_START = 1n;
const DMA_TO_RAM = 2n;
/** edu's 4 KiB DMA buffer, as the DMA engine addresses it. */
const EDU_BUFFER = 0x40000n;

export const EDU: DeviceWanted = {
  name: 'edu',
  description: 'QEMU edu device (1234:11e8)',
  matches: (d) => d.vendor === 0x1234 && d.device === 0x11e8,
};

/** What `main` found, for callers (the demo, tests). */
export interface EduResult {
  address: string;
  id: number;
  factorials: Array<[number, number]>;
  dmaBytes: number;
  dmaIova: bigint;
}

/** Starts one DMA transfer and polls until the engine clears the start bit (~100 ms under TCG). */
function dma(bar0: Region, src: bigint, dst: bigint, count: number, toRam: boolean): void {
  // QEMU 7.2's edu aborts on a transfer of exactly 4096 bytes (off-by-one): stay below.
  if (count < 1 || count >= 4096) throw new RangeError(`edu DMA count must be 1-4095, got ${count}`);
  bar0.write64(DMA_SRC, src);
  bar0.write64(DMA_DST, dst);
  bar0.write64(DMA_COUNT, BigInt(count));
  bar0.write64(DMA_CMD, DMA_START | (toRam ? DMA_TO_RAM : 0n));
  waitFor(() => (bar0.read64(DMA_CMD) & DMA_START) === 0n, 10_000, 'the edu DMA transfer');
}

/** n! as the device computes it: 32 bits, wrapping. */
function factorial(bar0: Region, n: number): number {
  bar0.write32(FACTORIAL, n);
  waitFor(() => (bar0.read32(STATUS) & STATUS_BUSY) === 0, 1_000, 'the factorial unit');
  return bar0.read32(FACTORIAL);
}

/** Drives the edu at `address` (or the one `findDevice` finds) and logs what it does. */
export function main(address?: string, log: (line: string) => void = console.log): EduResult {
  const addr = findDevice(EDU, address);
  // openDevice: finds the IOMMU group, opens container, group and device, turns bus mastering on.
  // `using` closes everything (DMA mappings, BAR mapping, fds) when the function returns.
  using dev = openDevice(addr);
  const bar0 = dev.bar(0); // 1 MiB, mmapped; every access has exactly the width asked for

  const id = bar0.read32(ID);
  log(`edu at ${addr}: id 0x${id.toString(16).padStart(8, '0')} (version ${id >>> 24}.${(id >>> 16) & 0xff})`);
  if ((id & 0xff) !== 0xed)
    throw new Error(`${addr} does not look like an edu device: id register reads 0x${id.toString(16)}`);

  // Liveness: the device answers with the complement of what we wrote.
  for (const v of [0x12345678, 0xdeadbeef, 0]) {
    bar0.write32(LIVENESS, v);
    const back = bar0.read32(LIVENESS);
    if (back !== ~v >>> 0)
      throw new Error(
        `liveness check failed: wrote 0x${v.toString(16)}, read 0x${back.toString(16)} (expected its complement)`,
      );
  }
  log('liveness check: ok (the device returns the complement of what is written)');

  const factorials: Array<[number, number]> = [];
  for (const n of [5, 10, 12]) factorials.push([n, factorial(bar0, n)]);
  log(`factorials: ${factorials.map(([n, r]) => `${n}! = ${r}`).join(', ')}`);

  // DMA: one page of memory the device can reach at `buf.iova`. Random bytes go from its first
  // half into edu's buffer, and come back into its second half.
  using buf = dev.dma.alloc(4096);
  const size = 1000;
  const data = randomFillSync(new Uint8Array(size));
  buf.bytes.set(data, 0);
  buf.bytes.fill(0, 2048);
  dma(bar0, buf.iova, EDU_BUFFER, size, false); //        RAM -> edu
  dma(bar0, EDU_BUFFER, buf.iova + 2048n, size, true); // edu -> RAM
  const back = buf.bytes.subarray(2048, 2048 + size);
  const bad = back.findIndex((b, i) => b !== data[i]);
  if (bad !== -1)
    throw new Error(
      `DMA round trip corrupted byte ${bad}: sent 0x${data[bad].toString(16)}, got 0x${back[bad].toString(16)}`,
    );
  log(`DMA round trip: ${size} random bytes RAM -> edu -> RAM through IOVA 0x${buf.iova.toString(16)}: identical`);

  return { address: addr, id, factorials, dmaBytes: size, dmaIova: buf.iova };
}

if (isMain(import.meta.url)) await runMain(() => main(process.argv[2]));
