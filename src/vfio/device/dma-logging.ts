/**
 * DMA logging (`VFIO_DEVICE_FEATURE_DMA_LOGGING_START/STOP/REPORT`): the device's driver tracks
 * which pages of given IOVA ranges the device wrote, for migrating a running guest's memory.
 * Only drivers with dirty-page tracking offer it (mlx5_vfio_pci, pds_vfio_pci, and the mtty
 * sample, whose log is always empty: it writes no memory); vfio-pci does not.
 */
import {
  SysError,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
  VfioErrorCode,
  VfioRangeError,
  decodeStruct,
  structBuffer,
  vfio_device_feature_dma_logging_control,
  vfio_device_feature_dma_logging_range,
  vfio_device_feature_dma_logging_report,
} from '../../../structs/index.js';
import { bufferAddress, describeArg } from '../../sys/index.js';
import type { FeatureCalls } from './feature-calls.js';

/** A range of IOVA to log: `iova` and `length` multiples of the page size. */
export interface DmaLogRange {
  iova: bigint;
  length: bigint;
}

/** What `report()` read (and cleared) from the log. */
export interface DmaLogReport {
  iova: bigint;
  length: bigint;
  pageSize: bigint;
  /** One bit a page from `iova`, least significant bit first (the kernel's u64 words, little-endian). */
  bitmap: Uint8Array;
  /** The IOVA of each page the bitmap marks written. */
  dirty: bigint[];
}

/** What DMA logging needs of its device. */
export interface DmaLoggingDevice {
  readonly features: FeatureCalls;
  readonly name: string;
}

const MIN_PAGE = 4096n;
/** The kernel takes as many ranges as fit one 4 KiB page (LOG_MAX_RANGES). */
export const DMA_LOG_MAX_RANGES = 4096 / vfio_device_feature_dma_logging_range.size;
/** The largest bitmap `report()` allocates (bytes): 1 GiB of 4 KiB pages is 32 KiB. */
const MAX_BITMAP = 16 * 1024 * 1024;

/** A device's DMA write log (`device.features.dmaLogging`). */
export class DeviceDmaLogging {
  readonly #device: DmaLoggingDevice;

  /** @internal Use `device.features.dmaLogging`. */
  constructor(device: DmaLoggingDevice) {
    this.#device = device;
  }

  /** Whether the device's driver offers DMA logging (a probe; never throws for no). */
  supported(): boolean {
    return this.#device.features.has(VFIO_DEVICE_FEATURE_DMA_LOGGING_START);
  }

  /**
   * Starts logging the device's writes to `ranges` (non-overlapping, each a multiple of
   * `pageSize`, a power of two of 4 KiB or more). Returns the page size the driver logs at (it
   * may choose another).
   */
  start(ranges: readonly DmaLogRange[], pageSize = MIN_PAGE): bigint {
    const name = this.#device.name;
    checkPageSize('start()', name, pageSize);
    if (!(ranges instanceof Array) || ranges.length === 0 || ranges.length > DMA_LOG_MAX_RANGES)
      throw new VfioRangeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `start() of DMA logging on ${name}: ranges ${describeArg(ranges)}: expected an array of 1 to ${DMA_LOG_MAX_RANGES} { iova, length } (the kernel takes one page of them)`,
      );
    const size = vfio_device_feature_dma_logging_range.size;
    const array = Buffer.alloc(size * ranges.length);
    ranges.forEach((r, i) => {
      const ok =
        typeof r?.iova === 'bigint' &&
        typeof r.length === 'bigint' &&
        r.iova >= 0n &&
        r.length > 0n &&
        r.iova % pageSize === 0n &&
        r.length % pageSize === 0n &&
        r.iova + r.length < 1n << 64n;
      if (!ok)
        throw new VfioRangeError(
          VfioErrorCode.INVALID_ARGUMENT,
          `start() of DMA logging on ${name}: range ${i} ${describeArg(r)}: expected { iova, length } as bigints, both multiples of the page size ${pageSize}, length above 0, ending within 64 bits`,
        );
      array.writeBigUInt64LE(r.iova, i * size);
      array.writeBigUInt64LE(r.length, i * size + 8);
    });
    const control = structBuffer(vfio_device_feature_dma_logging_control, {
      page_size: pageSize,
      num_ranges: ranges.length,
      ranges: bufferAddress(array),
    });
    this.#call('start', () => this.#device.features.set(VFIO_DEVICE_FEATURE_DMA_LOGGING_START, control));
    return decodeStruct<{ page_size: bigint }>(control, vfio_device_feature_dma_logging_control).page_size;
  }

  /**
   * Reads and clears the log of `length` bytes from `iova` at `pageSize` (a power of two of
   * 4 KiB or more): a bitmap of the pages written since `start()` or the last report.
   */
  report(iova: bigint, length: bigint, pageSize = MIN_PAGE): DmaLogReport {
    const name = this.#device.name;
    checkPageSize('report()', name, pageSize);
    const bytes =
      typeof length === 'bigint' && length > 0n ? ((length + pageSize * 64n - 1n) / (pageSize * 64n)) * 8n : 0n;
    if (
      typeof iova !== 'bigint' ||
      iova < 0n ||
      bytes === 0n ||
      bytes > BigInt(MAX_BITMAP) ||
      iova + length >= 1n << 64n
    )
      throw new VfioRangeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `report() of DMA logging on ${name}: iova ${describeArg(iova)}, length ${describeArg(length)}: expected bigints, length above 0 and within 64 bits, and at most ${MAX_BITMAP * 8} pages (a ${MAX_BITMAP / 1024 / 1024} MiB bitmap; report a long range in parts)`,
      );
    const bitmap = new Uint8Array(Number(bytes));
    const arg = structBuffer(vfio_device_feature_dma_logging_report, {
      iova,
      length,
      page_size: pageSize,
      bitmap: bufferAddress(bitmap),
    });
    this.#call('report', () => this.#device.features.get(VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, arg));
    const pages = length / pageSize;
    const dirty: bigint[] = [];
    for (let p = 0n; p < pages; p++)
      if ((bitmap[Number(p >> 3n)] >> Number(p & 7n)) & 1) dirty.push(iova + p * pageSize);
    return { iova, length, pageSize, bitmap, dirty };
  }

  /** Stops logging. */
  stop(): void {
    this.#call('stop', () => this.#device.features.set(VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP));
  }

  /** A failed feature call told in DMA logging's terms. */
  #call(op: string, fn: () => number): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof SysError && e.errnoName === 'ENOTTY')
        throw e.withHint(
          `${this.#device.name} has no DMA logging: its VFIO driver tracks no dirty pages (vfio-pci does not; variant drivers such as mlx5_vfio_pci and pds_vfio_pci, and the mtty sample, do). features.dmaLogging.supported() asks without throwing`,
          { code: VfioErrorCode.UNSUPPORTED },
        );
      if (e instanceof SysError && e.errnoName === 'EINVAL' && op === 'start')
        throw e.withHint(`the kernel refused the ranges: they overlap, or the driver cannot log at this page size`, {
          code: VfioErrorCode.INVALID_ARGUMENT,
        });
      throw e;
    }
  }
}

function checkPageSize(method: string, name: string, pageSize: unknown): asserts pageSize is bigint {
  if (
    typeof pageSize === 'bigint' &&
    pageSize >= MIN_PAGE &&
    pageSize <= 1n << 62n &&
    (pageSize & (pageSize - 1n)) === 0n
  )
    return;
  throw new VfioRangeError(
    VfioErrorCode.INVALID_ARGUMENT,
    `${method} of DMA logging on ${name}: page size ${describeArg(pageSize)}: expected a bigint power of two of 4096n or more`,
  );
}
