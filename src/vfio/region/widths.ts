/**
 * What tells a region's 8-, 16-, 32- and 64-bit accesses apart on their checked path
 * (region-slow-path.ts), one entry a width, so that path is written once: the accessors' names
 * for messages, the value check (src/sys/args.ts: a number up to 32 bits, a bigint at 64), and
 * the one access of that width through a mapped window or in the buffer of a pread/pwrite.
 */
import type { MmioWindow } from '../../sys/index.js';
import { checkValue, checkValue64 } from '../../sys/index.js';

export interface Width<V extends number | bigint> {
  /** Bytes per access. */
  readonly bytes: 1 | 2 | 4 | 8;
  /** The accessors' names, for messages: `read32`, `write32`. */
  readonly read: string;
  readonly write: string;
  /** `value` if it fits the width; else throws, naming the write, its offset and `where`. */
  check(where: string, offset: number, value: unknown): V;
  /** One access of the width through a mapped window. */
  load(w: MmioWindow, offset: number): V;
  store(w: MmioWindow, offset: number, value: V): void;
  /** The value at the start of a pread/pwrite buffer, little-endian. */
  decode(b: Buffer): V;
  encode(b: Buffer, value: V): void;
}

/** An 8-, 16- or 32-bit access: values are numbers. */
function narrow(bytes: 1 | 2 | 4, access: Pick<Width<number>, 'load' | 'store' | 'decode' | 'encode'>): Width<number> {
  const write = `write${bytes * 8}`;
  return {
    bytes,
    read: `read${bytes * 8}`,
    write,
    check: (where, offset, value) => checkValue(write, where, offset, value, bytes),
    ...access,
  };
}

export const W8 = narrow(1, {
  load: (w, o) => w.read8(o),
  store: (w, o, v) => w.write8(o, v),
  decode: (b) => b.readUInt8(),
  encode: (b, v) => b.writeUInt8(v),
});

export const W16 = narrow(2, {
  load: (w, o) => w.read16(o),
  store: (w, o, v) => w.write16(o, v),
  decode: (b) => b.readUInt16LE(),
  encode: (b, v) => b.writeUInt16LE(v),
});

export const W32 = narrow(4, {
  load: (w, o) => w.read32(o),
  store: (w, o, v) => w.write32(o, v),
  decode: (b) => b.readUInt32LE(),
  encode: (b, v) => b.writeUInt32LE(v),
});

export const W64: Width<bigint> = {
  bytes: 8,
  read: 'read64',
  write: 'write64',
  check: (where, offset, value) => checkValue64('write64', where, offset, value),
  load: (w, o) => w.read64(o),
  store: (w, o, v) => w.write64(o, v),
  decode: (b) => b.readBigUInt64LE(),
  encode: (b, v) => b.writeBigUInt64LE(v),
};
