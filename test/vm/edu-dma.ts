/** Drives edu's DMA engine (test helper): copies between its 4 KiB buffer at 0x40000 and RAM. */
import type { Region } from '../../src/index.js';

const DMA_SRC = 0x80;
const DMA_DST = 0x88;
const DMA_COUNT = 0x90;
const DMA_CMD = 0x98;
const CMD_START = 1n;
const CMD_TO_RAM = 2n;
export const EDU_BUFFER = 0x40000n;

function run(bar0: Region, src: bigint, dst: bigint, count: number, cmd: bigint): void {
  // QEMU 7.2's edu aborts on a transfer of exactly 4096 bytes (off-by-one): keep below.
  if (count <= 0 || count >= 4096) throw new RangeError(`edu DMA count must be 1-4095, got ${count}`);
  bar0.write64(DMA_SRC, src);
  bar0.write64(DMA_DST, dst);
  bar0.write64(DMA_COUNT, BigInt(count));
  bar0.write64(DMA_CMD, cmd);
  const deadline = Date.now() + 10_000;
  while (bar0.read64(DMA_CMD) & CMD_START) {
    if (Date.now() > deadline) throw new Error('edu DMA did not complete in 10 s');
  }
}

/** RAM (at `iova`) to edu's buffer at `devOffset`. */
export function dmaToDevice(bar0: Region, iova: bigint, devOffset: number, count: number): void {
  run(bar0, iova, EDU_BUFFER + BigInt(devOffset), count, CMD_START);
}

/** edu's buffer at `devOffset` to RAM (at `iova`). */
export function dmaToRam(bar0: Region, devOffset: number, iova: bigint, count: number): void {
  run(bar0, EDU_BUFFER + BigInt(devOffset), iova, count, CMD_START | CMD_TO_RAM);
}
