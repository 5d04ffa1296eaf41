/**
 * Capability chains of variable-size VFIO info buffers (`vfio_region_info`,
 * `vfio_iommu_type1_info`, `vfio_device_info`). Each capability starts with a
 * `vfio_info_cap_header` whose `next` is an offset from the start of the buffer, 0 at the end.
 * A chain is untrusted input: every offset is checked, so a bad chain throws instead of
 * reading past the buffer or looping.
 */
import { vfio_info_cap_header } from './vfio-structs.js';
import { CapChainError } from './errors.js';

/** One capability of a chain: its id, version, and where it starts and ends in the buffer. */
export interface CapEntry {
  id: number;
  version: number;
  offset: number;
  /** End of this capability: the next one's offset, or the end of the buffer. */
  end: number;
}

const HEADER = vfio_info_cap_header.size;

/**
 * Walks the chain starting at `first` in `buf`. `fixedSize` is the size of the fixed part of
 * the info struct: no capability may start inside it. Offsets must strictly increase, so a
 * loop or a backwards link is rejected; the walk ends after at most `buf.length / 8` steps.
 */
export function walkCapChain(buf: Uint8Array, first: number, fixedSize: number, what = 'capability chain'): CapEntry[] {
  const out: CapEntry[] = [];
  if (first === 0) return out;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let offset = first;
  let previous = fixedSize - 1;
  while (offset !== 0) {
    if (offset <= previous) {
      throw new CapChainError(
        `${what}: capability at offset ${offset} is not after the previous one (${previous < fixedSize ? 'inside the fixed header' : `offset ${previous}`}): a backwards link or a loop`,
      );
    }
    if (offset % 4 !== 0) throw new CapChainError(`${what}: capability offset ${offset} is not 4-byte aligned`);
    if (offset + HEADER > buf.length) {
      throw new CapChainError(
        `${what}: capability header at offset ${offset} ends at ${offset + HEADER}, past the ${buf.length}-byte buffer (truncated or out of bounds)`,
      );
    }
    const id = view.getUint16(offset, true);
    const version = view.getUint16(offset + 2, true);
    const next = view.getUint32(offset + 4, true);
    if (next !== 0 && next <= offset) {
      throw new CapChainError(`${what}: capability ${id} at offset ${offset} links back to offset ${next}: a loop`);
    }
    // Else the next capability would overlap this one's header and the two would share bytes.
    if (next !== 0 && next < offset + HEADER) {
      throw new CapChainError(
        `${what}: capability ${id} at offset ${offset} links to offset ${next}, inside its own ${HEADER}-byte header`,
      );
    }
    if (next > buf.length) {
      throw new CapChainError(
        `${what}: capability ${id} at offset ${offset} links to offset ${next}, past the ${buf.length}-byte buffer`,
      );
    }
    out.push({ id, version, offset, end: next === 0 ? buf.length : next });
    previous = offset;
    offset = next;
  }
  return out;
}

/** Throws unless capability `cap` holds at least `size` bytes. */
export function requireCapSize(cap: CapEntry, size: number, what: string): void {
  if (cap.offset + size > cap.end) {
    throw new CapChainError(
      `${what}: capability ${cap.id} at offset ${cap.offset} needs ${size} bytes but only ${cap.end - cap.offset} are there (truncated)`,
    );
  }
}
