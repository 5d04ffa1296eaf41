/**
 * iommufd (`/dev/iommu`) as an IOMMU context: one IO address space (IOAS) that devices opened
 * through their cdev attach to. Mappings go to the IOAS; its IOVA ranges narrow as devices join.
 */
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  MAX_INFO_SIZE,
  O_RDWR,
  decodeStruct,
  iommu_destroy,
  iommu_ioas_alloc,
  iommu_ioas_iova_ranges,
  iommu_ioas_map,
  iommu_ioas_unmap,
  iommu_iova_range,
  structBuffer,
  type IovaRange,
  SysError,
  VfioError,
  VfioErrorCode,
  VfioRangeError,
} from '../../structs/index.js';
import { Resource, bufferAddress, closeAll, sysClose, sysIoctl, sysOpen } from '../sys/index.js';
import type { DmaMapRequest, Iommu, IommuInfo, IommuKind } from './iommu.js';
import { checkMapRequest, checkUnmap, minPageSizeOf } from './iommu.js';
import { hex } from '../sys/index.js';

export const IOMMUFD_PATH = '/dev/iommu';

/** Options of an iommufd context (`IommufdContext`, `IommufdIoas`). */
export interface IommufdOptions {
  /** The iommufd device (default `/dev/iommu`). */
  path?: string;
}

/**
 * The IOMMU side of an `IommufdContext` (`context.backend`): the `/dev/iommu` fd, one IOAS
 * allocated in it and its `IOMMU_IOAS_MAP` mappings.
 */
export class IommufdIoas extends Resource implements Iommu {
  /** Always `iommufd`. */
  readonly kind: IommuKind = 'iommufd';
  /** The iommufd device (default `/dev/iommu`). */
  readonly path: string;
  /** The fd of `/dev/iommu`. */
  readonly fd: number;
  /** The id of this context's IOAS within the iommufd. */
  readonly ioasId: number;

  #shared = false;

  /**
   * Opens `/dev/iommu` and allocates an IOAS, or (`adopted`, from a device handed to this
   * process) takes an iommufd fd and the id of an IOAS in it: the IOAS is asked for its ranges,
   * and the fd is closed on failure.
   */
  constructor(options: IommufdOptions = {}, adopted?: { fd: number; ioasId: number }) {
    super();
    this.path = options.path ?? IOMMUFD_PATH;
    if (adopted) {
      this.fd = adopted.fd;
      this.ioasId = adopted.ioasId;
      this.#shared = true;
      try {
        this.#queryRanges();
      } catch (e) {
        sysClose(this.fd, this.path);
        throw new VfioError(
          VfioErrorCode.HANDOFF,
          `${this.name}: the handed IOAS ${adopted.ioasId} is not in this iommufd (${(e as Error).message})`,
          { cause: e },
        );
      }
      return;
    }
    this.fd = sysOpen(this.path, O_RDWR, 0, {
      ENOENT: `${this.path} does not exist: this kernel has no iommufd (it needs CONFIG_IOMMUFD=y, and CONFIG_VFIO_DEVICE_CDEV=y for the devices' /dev/vfio/devices/vfioN); use the legacy container instead ({ iommu: 'type1' })`,
    });
    try {
      const alloc = structBuffer(iommu_ioas_alloc, { size: iommu_ioas_alloc.size });
      sysIoctl(this.fd, 'IOMMU_IOAS_ALLOC', alloc, this.path);
      this.ioasId = decodeStruct<{ out_ioas_id: number }>(alloc, iommu_ioas_alloc).out_ioas_id;
    } catch (e) {
      sysClose(this.fd, this.path);
      throw e;
    }
  }

  get name(): string {
    return `iommufd ${this.path} (fd ${this.fd}, IOAS ${this.ioasId})`;
  }

  /**
   * @internal Whether the iommufd is also open in another process (handed to it, or from it):
   * then closing leaves the IOAS to the last holder (the kernel frees it with the iommufd).
   */
  get shared(): boolean {
    return this.#shared;
  }

  /** @internal Marks the iommufd as handed to another process (see `shared`). */
  markShared(): void {
    this.#shared = true;
  }

  /** `IOMMU_IOAS_IOVA_RANGES`: the IOVA ranges the attached devices allow, and the IOVA alignment. */
  info(): IommuInfo {
    this.check();
    const { ranges, alignment } = this.#queryRanges();
    // The alignment is one page size: a power of two, so its lowest bit is itself.
    const minPageSize = minPageSizeOf(`${this.name}: IOMMU_IOAS_IOVA_RANGES alignment`, alignment);
    if (BigInt(minPageSize) !== alignment)
      throw new VfioRangeError(
        VfioErrorCode.MALFORMED,
        `${this.name}: IOMMU_IOAS_IOVA_RANGES reports an IOVA alignment of ${hex(alignment)}, not a power of two`,
      );
    return { pageSizes: alignment, minPageSize, iovaRanges: ranges };
  }

  #queryRanges(): { ranges: IovaRange[]; alignment: bigint } {
    let room = 4;
    for (let attempt = 0; attempt < 4; attempt++) {
      const array = Buffer.alloc(room * iommu_iova_range.size);
      const buf = structBuffer(iommu_ioas_iova_ranges, {
        size: iommu_ioas_iova_ranges.size,
        ioas_id: this.ioasId,
        num_iovas: room,
        allowed_iovas: bufferAddress(array),
      });
      try {
        sysIoctl(this.fd, 'IOMMU_IOAS_IOVA_RANGES', buf, this.name);
      } catch (e) {
        // EMSGSIZE: the array was too short; num_iovas now says how long it must be.
        if (!(e instanceof SysError && e.errnoName === 'EMSGSIZE')) throw e;
        room = decodeStruct<{ num_iovas: number }>(buf, iommu_ioas_iova_ranges).num_iovas;
        if (room * iommu_iova_range.size > MAX_INFO_SIZE)
          throw new VfioError(
            VfioErrorCode.MALFORMED,
            `${this.name}: IOMMU_IOAS_IOVA_RANGES asks room for ${room} ranges, more than fit in ${MAX_INFO_SIZE} bytes`,
          );
        continue;
      }
      const out = decodeStruct<{ num_iovas: number; out_iova_alignment: bigint }>(buf, iommu_ioas_iova_ranges);
      // More ranges than the array holds would be read from past its end.
      if (out.num_iovas > room)
        throw new VfioError(
          VfioErrorCode.MALFORMED,
          `${this.name}: IOMMU_IOAS_IOVA_RANGES reports ${out.num_iovas} ranges in an array of ${room}`,
        );
      const ranges = Array.from({ length: out.num_iovas }, (_, i) => {
        const r = decodeStruct<{ start: bigint; last: bigint }>(array, iommu_iova_range, i * iommu_iova_range.size);
        return { start: r.start, end: r.last };
      });
      return { ranges, alignment: out.out_iova_alignment };
    }
    throw new VfioError(VfioErrorCode.MALFORMED, `${this.name}: the number of IOVA ranges kept changing`);
  }

  /** `IOMMU_IOAS_MAP` at a fixed IOVA. */
  mapDma(req: DmaMapRequest): void {
    this.check();
    checkMapRequest(`in ${this.name}`, req);
    const flags =
      IOMMU_IOAS_MAP_FIXED_IOVA |
      (req.readable ? IOMMU_IOAS_MAP_READABLE : 0) |
      (req.writable ? IOMMU_IOAS_MAP_WRITEABLE : 0);
    const buf = structBuffer(iommu_ioas_map, {
      size: iommu_ioas_map.size,
      flags,
      ioas_id: this.ioasId,
      user_va: req.vaddr,
      length: BigInt(req.size),
      iova: req.iova,
    });
    sysIoctl(this.fd, 'IOMMU_IOAS_MAP', buf, `${this.name}: IOVA ${hex(req.iova)}+${hex(req.size)}`, {
      EEXIST: 'this IOVA range overlaps a mapping that already exists in the IOAS',
      ENOMEM:
        'the locked-memory limit (RLIMIT_MEMLOCK; iommufd counts pinned pages per user) is too low for this mapping, or memory is short: raise it (ulimit -l) or run with CAP_IPC_LOCK',
    });
  }

  /** `IOMMU_IOAS_UNMAP` of exactly one earlier mapping. */
  unmapDma(iova: bigint, size: number): void {
    this.check();
    checkUnmap(`in ${this.name}`, iova, size);
    const buf = structBuffer(iommu_ioas_unmap, {
      size: iommu_ioas_unmap.size,
      ioas_id: this.ioasId,
      iova,
      length: BigInt(size),
    });
    sysIoctl(this.fd, 'IOMMU_IOAS_UNMAP', buf, `${this.name}: IOVA ${hex(iova)}+${hex(size)}`);
    const unmapped = decodeStruct<{ length: bigint }>(buf, iommu_ioas_unmap).length;
    if (unmapped !== BigInt(size)) {
      throw new VfioError(
        VfioErrorCode.INVALID_ARGUMENT,
        `${this.name}: unmapped ${hex(unmapped)} bytes at IOVA ${hex(iova)}, expected ${hex(size)}: unmap whole mappings only`,
      );
    }
  }

  /**
   * Destroys the IOAS, then closes the iommufd. Devices must be gone first: their BAR mappings
   * keep the device file, and with it the attachment, alive (EBUSY).
   */
  protected release(): void {
    closeAll([
      () =>
        this.#shared ||
        sysIoctl(
          this.fd,
          'IOMMU_DESTROY',
          structBuffer(iommu_destroy, { size: iommu_destroy.size, id: this.ioasId }),
          this.name,
        ),
      () => sysClose(this.fd, this.path),
    ]);
  }
}
