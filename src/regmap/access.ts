/** What a register map reads and writes through. */
/** What a register map drives: a `Region`, or anything with its accessors (a test's recorder). */
export interface RegisterAccess {
  /** Bytes the map may reach: a register past it is refused at `bind`. */
  readonly size: number;
  /** What it is, for messages (`BAR0 of 0000:00:03.0`). */
  readonly name?: string;
  /** One 1-byte read at byte `offset`. */
  read8(offset: number): number;
  /** One 2-byte read at byte `offset`. */
  read16(offset: number): number;
  /** One 4-byte read at byte `offset`, as an unsigned number. */
  read32(offset: number): number;
  /** One 8-byte read at byte `offset`, as a bigint. */
  read64(offset: number): bigint;
  /** One 1-byte write of `value` at byte `offset`. */
  write8(offset: number, value: number): void;
  /** One 2-byte write of `value` at byte `offset`. */
  write16(offset: number, value: number): void;
  /** One 4-byte write of `value` (unsigned) at byte `offset`. */
  write32(offset: number, value: number): void;
  /** One 8-byte write of the bigint `value` at byte `offset`. */
  write64(offset: number, value: bigint): void;
}
