/**
 * The legacy VFIO container (`/dev/vfio/vfio`) as an IOMMU context: Type1v2 (or Type1) with
 * `VFIO_IOMMU_MAP_DMA`, or the no-IOMMU type, where nothing is translated and the device uses
 * physical addresses. The VFIO layer's `Container` holds one and adds the groups.
 */
import {
  O_RDWR,
  VFIO_API_VERSION,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_NOIOMMU_IOMMU,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  parseIommuType1Info,
  queryVariable,
  structBuffer,
  vfio_iommu_type1_dma_map,
  vfio_iommu_type1_dma_unmap,
  vfio_iommu_type1_info,
  VfioError,
  VfioErrorCode,
} from '../../structs/index.js';
import { Resource, pageSize, sysClose, sysIoctl, sysOpen, U64_MAX } from '../sys/index.js';
import type { DmaMapRequest, Iommu, IommuInfo, IommuKind } from './iommu.js';
import { checkMapRequest, checkUnmap, minPageSizeOf } from './iommu.js';
import { physicalAddressOf } from './pagemap.js';
import { hex } from '../sys/index.js';

export const CONTAINER_PATH = '/dev/vfio/vfio';

/** Options of a legacy VFIO container (`Container`, `Type1Iommu`). */
export interface Type1Options {
  /** The container device (default `/dev/vfio/vfio`). */
  path?: string;
  /**
   * A no-IOMMU container (`VFIO_NOIOMMU_IOMMU`), for devices in no-IOMMU groups
   * (`/dev/vfio/noiommu-N`): no translation, no protection, DMA to physical addresses.
   */
  noIommu?: boolean;
}

/**
 * The IOMMU side of a `Container` (`container.backend`): the `/dev/vfio/vfio` fd, the IOMMU type
 * set on it (Type1v2, Type1 or no-IOMMU) and its `VFIO_IOMMU_MAP_DMA` mappings.
 */
export class Type1Iommu extends Resource implements Iommu {
  /** The container's fd. */
  readonly fd: number;
  /** The container device (default `/dev/vfio/vfio`). */
  readonly path: string;
  /** `type1`, or `noiommu` for a no-IOMMU container. */
  readonly kind: IommuKind;
  /** The IOMMU type set on the container: Type1v2 when the kernel has it, else Type1; or no-IOMMU. */
  readonly iommuType: number;
  #iommuSet = false;
  #shared = false;

  /**
   * Opens the container, or (`adopted`, from a device handed to this process) takes a
   * container fd whose IOMMU type is already set: it is checked, and closed on failure.
   */
  constructor(options: Type1Options = {}, adopted?: { fd: number; iommuType: number }) {
    super();
    this.path = options.path ?? CONTAINER_PATH;
    this.kind = options.noIommu ? 'noiommu' : 'type1';
    this.fd = adopted ? adopted.fd : sysOpen(this.path, O_RDWR);
    try {
      const version = sysIoctl(this.fd, 'VFIO_GET_API_VERSION', 0, this.path);
      if (version !== VFIO_API_VERSION) {
        throw new VfioError(
          VfioErrorCode.UNSUPPORTED,
          `${this.path} speaks VFIO API version ${version}, this library speaks ${VFIO_API_VERSION}`,
        );
      }
      this.iommuType = adopted ? this.#checkAdopted(adopted.iommuType) : this.#chooseType();
    } catch (e) {
      sysClose(this.fd);
      throw e;
    }
    this.#iommuSet = adopted !== undefined;
    this.#shared = adopted !== undefined;
  }

  /** A handed container's type must be the kind's and one the kernel offers; with a group in, the IOMMU answers. */
  #checkAdopted(type: number): number {
    const kinds = this.kind === 'noiommu' ? [VFIO_NOIOMMU_IOMMU] : [VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU];
    if (!kinds.includes(type) || !this.#hasExtension(type))
      throw new VfioError(
        VfioErrorCode.HANDOFF,
        `${this.name}: the handed container's IOMMU type ${type} is not a ${this.kind} type this kernel offers (${kinds.join(' or ')})`,
      );
    return type;
  }

  /**
   * @internal Whether the container is also open in another process (handed to it, or from it):
   * then the kernel's state is left for the last holder, and closing only closes the fd.
   */
  get shared(): boolean {
    return this.#shared;
  }

  /** @internal Marks the container as handed to another process (see `shared`). */
  markShared(): void {
    this.#shared = true;
  }

  #chooseType(): number {
    if (this.kind === 'noiommu') {
      if (this.#hasExtension(VFIO_NOIOMMU_IOMMU)) return VFIO_NOIOMMU_IOMMU;
      throw new VfioError(
        VfioErrorCode.NO_IOMMU,
        `${this.path} offers no no-IOMMU mode: it needs a kernel with CONFIG_VFIO_NOIOMMU and the module parameter on (vfio.enable_unsafe_noiommu_mode=1 on the kernel command line, or echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode before binding the device)`,
      );
    }
    if (this.#hasExtension(VFIO_TYPE1v2_IOMMU)) return VFIO_TYPE1v2_IOMMU;
    if (this.#hasExtension(VFIO_TYPE1_IOMMU)) return VFIO_TYPE1_IOMMU;
    throw new VfioError(
      VfioErrorCode.UNAVAILABLE,
      `${this.path} supports neither the Type1v2 nor the Type1 IOMMU: is vfio_iommu_type1 loaded (modprobe vfio_iommu_type1) and the IOMMU on (intel_iommu=on / amd_iommu=on)?`,
    );
  }

  get name(): string {
    return `container ${this.path} (fd ${this.fd})`;
  }

  #hasExtension(ext: number): boolean {
    return sysIoctl(this.fd, 'VFIO_CHECK_EXTENSION', ext, this.path) === 1;
  }

  /** Whether the kernel offers an extension (`VFIO_TYPE1v2_IOMMU`, `VFIO_UNMAP_ALL`, ...). */
  checkExtension(ext: number): boolean {
    this.check();
    return this.#hasExtension(ext);
  }

  /** @internal Called once a group is in the container: `VFIO_SET_IOMMU` is only valid from then on. */
  setIommu(): void {
    if (this.#iommuSet) return;
    sysIoctl(this.fd, 'VFIO_SET_IOMMU', this.iommuType, this.path);
    this.#iommuSet = true;
  }

  /** @internal Called when the last group left: the kernel dropped the IOMMU with it. */
  iommuDropped(): void {
    this.#iommuSet = false;
  }

  #requireIommu(what: string): void {
    this.check();
    if (!this.#iommuSet)
      throw new VfioError(
        VfioErrorCode.INVALID_STATE,
        `${this.name}: ${what} needs a group in the container first (container.group(n) or container.device(address))`,
      );
  }

  /** `VFIO_IOMMU_GET_INFO` with its capabilities: page sizes, IOVA ranges, dma_avail. */
  info(): IommuInfo {
    this.#requireIommu('VFIO_IOMMU_GET_INFO');
    if (this.kind === 'noiommu') {
      // Nothing translates: any physical address goes, at the CPU's page granularity.
      const page = pageSize();
      return { pageSizes: BigInt(page), minPageSize: page, iovaRanges: [{ start: 0n, end: U64_MAX }] };
    }
    const buf = queryVariable(
      vfio_iommu_type1_info,
      {},
      (b) => sysIoctl(this.fd, 'VFIO_IOMMU_GET_INFO', b, this.path),
      'VFIO_IOMMU_GET_INFO',
    );
    const raw = parseIommuType1Info(buf);
    const pageSizes = raw.iovaPgsizes;
    return {
      pageSizes,
      minPageSize: minPageSizeOf(`${this.path}: VFIO_IOMMU_GET_INFO`, pageSizes),
      // Without the capability the kernel puts no limit but the address width.
      iovaRanges: raw.iovaRanges ?? [{ start: 0n, end: U64_MAX }],
      dmaAvail: raw.dmaAvail,
    };
  }

  #refuseNoIommu(what: string): void {
    if (this.kind === 'noiommu')
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.name} is a no-IOMMU container: there is no ${what}; the device uses physical addresses (dev.dma.alloc gives them)`,
      );
  }

  /** `VFIO_IOMMU_MAP_DMA`. */
  mapDma(req: DmaMapRequest): void {
    this.#requireIommu('VFIO_IOMMU_MAP_DMA');
    this.#refuseNoIommu('VFIO_IOMMU_MAP_DMA');
    checkMapRequest(`in ${this.name}`, req);
    const flags = (req.readable ? VFIO_DMA_MAP_FLAG_READ : 0) | (req.writable ? VFIO_DMA_MAP_FLAG_WRITE : 0);
    const buf = structBuffer(vfio_iommu_type1_dma_map, {
      argsz: vfio_iommu_type1_dma_map.size,
      flags,
      vaddr: req.vaddr,
      iova: req.iova,
      size: BigInt(req.size),
    });
    const what = `${this.path}: IOVA ${hex(req.iova)}+${hex(req.size)}`;
    const hint = 'this IOVA range overlaps a mapping that already exists in the container';
    sysIoctl(this.fd, 'VFIO_IOMMU_MAP_DMA', buf, what, { EEXIST: hint });
  }

  /** `VFIO_IOMMU_UNMAP_DMA` of exactly one earlier mapping (Type1v2 cannot split one). */
  unmapDma(iova: bigint, size: number): void {
    this.#requireIommu('VFIO_IOMMU_UNMAP_DMA');
    this.#refuseNoIommu('VFIO_IOMMU_UNMAP_DMA');
    checkUnmap(`in ${this.name}`, iova, size);
    // No flags: the map flags (READ/WRITE) are not valid here.
    const buf = structBuffer(vfio_iommu_type1_dma_unmap, {
      argsz: vfio_iommu_type1_dma_unmap.size,
      flags: 0,
      iova,
      size: BigInt(size),
    });
    sysIoctl(this.fd, 'VFIO_IOMMU_UNMAP_DMA', buf, `${this.path}: IOVA ${hex(iova)}+${hex(size)}`);
    const unmapped = buf.readBigUInt64LE(vfio_iommu_type1_dma_unmap.members!.size.offset);
    if (unmapped !== BigInt(size)) {
      throw new VfioError(
        VfioErrorCode.INVALID_ARGUMENT,
        `${this.path}: unmapped ${hex(unmapped)} bytes at IOVA ${hex(iova)}, expected ${hex(size)}: unmap whole mappings only`,
      );
    }
  }

  /** The physical address of locked memory, for a no-IOMMU container only. */
  get physicalAddress(): ((vaddr: bigint, size: number) => bigint) | undefined {
    return this.kind === 'noiommu' ? physicalAddressOf : undefined;
  }

  protected release(): void {
    sysClose(this.fd, this.path);
  }
}
