/**
 * Exact-width access to device memory mapped into the process.
 *
 * What V8 does to ordinary typed-array code is wrong for device registers (measured on edu,
 * see docs/DESIGN.md): DataView reads byte by byte, and optimised code forwards a store to a later
 * load of the same element. So:
 * - reads are `Atomics.load`: one load of the stated width, never cached, merged or dropped;
 * - writes are a plain typed-array store followed by an `Atomics.load` of a private fence word.
 *   `Atomics.store` is not used because V8 compiles it to a locked `xchg` on x86-64, which
 *   reads the register before writing it (a read-to-clear register would lose its bits). The
 *   fence is an effect the compiler cannot see through, so the store is neither dropped,
 *   merged with a neighbour, nor moved past the next access.
 */

const FENCE = new Int32Array(1);

/** Typed windows over one mapping of device memory. Offsets are in bytes; no checks here. */
export class MmioWindow {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;

  constructor(buffer: ArrayBuffer) {
    const n = buffer.byteLength;
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer, 0, n >>> 1);
    this.u32 = new Uint32Array(buffer, 0, n >>> 2);
    this.u64 = new BigUint64Array(buffer, 0, Math.floor(n / 8));
  }

  read8(offset: number): number {
    return Atomics.load(this.u8, offset);
  }
  read16(offset: number): number {
    return Atomics.load(this.u16, offset >>> 1);
  }
  read32(offset: number): number {
    return Atomics.load(this.u32, offset >>> 2);
  }
  read64(offset: number): bigint {
    return Atomics.load(this.u64, offset >>> 3);
  }
  write8(offset: number, value: number): void {
    this.u8[offset] = value;
    Atomics.load(FENCE, 0);
  }
  write16(offset: number, value: number): void {
    this.u16[offset >>> 1] = value;
    Atomics.load(FENCE, 0);
  }
  write32(offset: number, value: number): void {
    this.u32[offset >>> 2] = value;
    Atomics.load(FENCE, 0);
  }
  write64(offset: number, value: bigint): void {
    this.u64[offset >>> 3] = value;
    Atomics.load(FENCE, 0);
  }
}
