/**
 * A served device's regions as VFIO numbers them for PCI: BAR0-5 (the model's handlers), the
 * ROM (none), config space (emulated), VGA (none). Region reads and writes are split into
 * naturally aligned accesses of up to 8 bytes, so a handler sees the widths a CPU would issue.
 */
import { constants } from 'node:os';
import {
  VFIO_PCI_BAR5_REGION_INDEX,
  VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_PCI_NUM_REGIONS,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  VfioErrorCode,
  VfioRangeError,
} from '../../../structs/index.js';
import { closeAll, sharedMemory, sysClose, type SharedMemory } from '../../sys/index.js';
import type { EmulatedConfigSpace } from '../model/config-space.js';
import type { AccessWidth, BarModel, ModelContext } from './model.js';
import type { Refusal } from './served-irqs.js';

/** A region as the client is told of it. */
export interface ServedRegionInfo {
  index: number;
  flags: number;
  size: bigint;
}

export class ServedRegions {
  readonly #bars: ReadonlyArray<BarModel | undefined>;
  readonly #config: EmulatedConfigSpace;
  /** The memory of each shared BAR, by index. */
  readonly #shared = new Map<number, SharedMemory>();

  /** `name` names the model in errors. */
  constructor(bars: ReadonlyArray<BarModel | undefined>, config: EmulatedConfigSpace, name: string) {
    this.#bars = bars;
    this.#config = config;
    try {
      bars.forEach((bar, n) => {
        if (!bar?.shared) return;
        if (bar.read || bar.write || bar.registers || bar.io)
          throw new VfioRangeError(
            VfioErrorCode.INVALID_ARGUMENT,
            `${name}: BAR${n} is shared memory: it takes no read, write or registers, and is not I/O`,
          );
        this.#shared.set(n, sharedMemory(bar.size, `BAR${n} of ${name}`));
      });
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The memory of shared BAR `n`. */
  memory(n: number): Uint8Array {
    const m = this.#shared.get(n);
    if (!m) throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, `BAR${n} is not a shared BAR of this model`);
    return m.mapping.u8;
  }

  /** The descriptor the client maps region `index` from, for a shared BAR. */
  mmapFd(index: number): number | undefined {
    return this.#shared.get(index)?.fd;
  }

  /** Unmaps and closes the shared BARs' memory. */
  close(): void {
    const all = [...this.#shared.values()];
    this.#shared.clear();
    closeAll(all.flatMap((m) => [() => m.mapping.close(), () => sysClose(m.fd, m.mapping.target)]));
  }

  /** Number of regions (VFIO's nine for PCI). */
  get count(): number {
    return VFIO_PCI_NUM_REGIONS;
  }

  /** What the client is told about region `index`, or undefined past the last. */
  info(index: number): ServedRegionInfo | undefined {
    if (index >= VFIO_PCI_NUM_REGIONS) return undefined;
    const rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    if (index === VFIO_PCI_CONFIG_REGION_INDEX) return { index, flags: rw, size: BigInt(this.#config.size) };
    const bar = index <= VFIO_PCI_BAR5_REGION_INDEX ? this.#bars[index] : undefined;
    const mmap = this.#shared.has(index) ? VFIO_REGION_INFO_FLAG_MMAP : 0;
    return bar ? { index, flags: rw | mmap, size: BigInt(bar.size) } : { index, flags: 0, size: 0n };
  }

  /** Reads `count` bytes of region `index` at `offset`, or says why not. */
  read(index: number, offset: bigint, count: number, ctx: ModelContext): Uint8Array | Refusal {
    const out = new Uint8Array(count);
    const bad = this.#check(index, offset, count);
    if (bad) return bad;
    const at = Number(offset);
    if (index === VFIO_PCI_CONFIG_REGION_INDEX) return this.#config.readBytes(at, count);
    const shared = this.#shared.get(index);
    if (shared) return shared.mapping.u8.slice(at, at + count);
    const bar = this.#bars[index]!;
    const view = new DataView(out.buffer);
    for (const [o, w] of pieces(at, count)) {
      const v = bar.read ? bar.read(o, w, ctx) : (bar.registers?.read(o, w, ctx) ?? 0);
      store(view, o - at, w, v);
    }
    return out;
  }

  /** Writes `data` into region `index` at `offset`, or says why not. */
  write(index: number, offset: bigint, data: Uint8Array, ctx: ModelContext): Refusal | undefined {
    const bad = this.#check(index, offset, data.length);
    if (bad) return bad;
    const at = Number(offset);
    if (index === VFIO_PCI_CONFIG_REGION_INDEX) {
      this.#config.writeBytes(at, data);
      return undefined;
    }
    const shared = this.#shared.get(index);
    if (shared) {
      shared.mapping.u8.set(data, at);
      return undefined;
    }
    const bar = this.#bars[index]!;
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    for (const [o, w] of pieces(at, data.length)) {
      const v = load(view, o - at, w);
      if (bar.write) bar.write(o, w, v, ctx);
      else bar.registers?.write(o, w, v, ctx);
    }
    return undefined;
  }

  #check(index: number, offset: bigint, count: number): Refusal | undefined {
    const info = this.info(index);
    if (!info || info.size === 0n) return { errno: constants.errno.EINVAL, why: `region ${index} does not exist` };
    if (offset + BigInt(count) > info.size)
      return { errno: constants.errno.EINVAL, why: `${count} bytes at ${offset} pass the end of region ${index}` };
    return undefined;
  }
}

/** `[offset, width]` of the naturally aligned accesses (up to 8 bytes) that cover a span. */
function* pieces(offset: number, count: number): Generator<[number, AccessWidth]> {
  const end = offset + count;
  let at = offset;
  while (at < end) {
    let w: AccessWidth = 8;
    while (w > 1 && (at % w !== 0 || at + w > end)) w = (w / 2) as AccessWidth;
    yield [at, w];
    at += w;
  }
}

function load(view: DataView, at: number, w: AccessWidth): number | bigint {
  return w === 1
    ? view.getUint8(at)
    : w === 2
      ? view.getUint16(at, true)
      : w === 4
        ? view.getUint32(at, true)
        : view.getBigUint64(at, true);
}

function store(view: DataView, at: number, w: AccessWidth, v: number | bigint): void {
  if (w === 8) view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
  else if (w === 4) view.setUint32(at, Number(v) >>> 0, true);
  else if (w === 2) view.setUint16(at, Number(v) & 0xffff, true);
  else view.setUint8(at, Number(v) & 0xff);
}
