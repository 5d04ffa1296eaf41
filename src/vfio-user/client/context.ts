/**
 * The DMA side of a vfio-user device, seen from the client: the server is the device's IOMMU.
 * A buffer is a memfd this process maps shared; `VFIO_USER_DMA_MAP` sends its descriptor and
 * the IOVA the device is to use, so the server maps the same pages; `VFIO_USER_DMA_UNMAP` takes
 * them back. No root, no IOMMU, nothing pinned: the memory is the two processes' own.
 */
import {
  VFIO_USER_DMA_MAP,
  VFIO_USER_DMA_MAP_FLAG_READ,
  VFIO_USER_DMA_MAP_FLAG_WRITE,
  VFIO_USER_DMA_UNMAP,
  VfioError,
  VfioErrorCode,
} from '../../../structs/index.js';
import { Dma } from '../../dma/index.js';
import { checkMapRequest, checkUnmap, type DmaMapRequest, type IommuInfo } from '../../iommu/index.js';
import { PciSysfs } from '../../pci/index.js';
import { Resource } from '../../sys/index.js';
import type { DeviceContext } from '../../vfio/index.js';
import { encodeDmaMap, encodeDmaUnmap } from '../payloads.js';
import type { ClientConnection } from './connection.js';

/** IOVAs a vfio-user device may use: all of the 64-bit space but page 0, so address 0 is never valid. */
const IOVA_RANGE = { start: 0x1000n, end: 2n ** 64n - 1n };

export class VfioUserContext extends Resource implements DeviceContext {
  readonly kind = 'vfio-user' as const;
  readonly sharesMemory = true;
  readonly dma: Dma;
  /** Not used by a vfio-user device: it has no sysfs entry. */
  readonly sysfs = new PciSysfs();
  readonly #connection: ClientConnection;
  #mapped = 0;

  constructor(connection: ClientConnection) {
    super();
    this.#connection = connection;
    this.dma = new Dma(this);
  }

  get name(): string {
    return `vfio-user server ${this.#connection.path}`;
  }

  /** The server's page sizes and how many more windows it takes; the whole 64-bit space but page 0. */
  info(): IommuInfo {
    this.check();
    const pageSizes = this.#connection.server.pgsizes;
    const lowest = pageSizes & -pageSizes;
    const minPageSize = Math.max(4096, Number(lowest));
    return {
      pageSizes,
      minPageSize,
      iovaRanges: [IOVA_RANGE],
      dmaAvail: Math.max(0, this.#connection.server.maxDmaMaps - this.#mapped),
    };
  }

  mapDma(req: DmaMapRequest): void {
    this.check();
    checkMapRequest(`in ${this.name}`, req);
    if (req.fd === undefined)
      throw new VfioError(
        VfioErrorCode.INTERNAL,
        `${this.name}: a DMA map without a descriptor (memory for a vfio-user device comes from a memfd)`,
      );
    const flags = (req.readable ? VFIO_USER_DMA_MAP_FLAG_READ : 0) | (req.writable ? VFIO_USER_DMA_MAP_FLAG_WRITE : 0);
    const payload = encodeDmaMap({ flags, offset: req.fdOffset ?? 0n, addr: req.iova, size: BigInt(req.size) });
    this.#connection.request(VFIO_USER_DMA_MAP, payload, [req.fd]);
    this.#mapped++;
  }

  unmapDma(iova: bigint, size: number): void {
    this.check();
    checkUnmap(`in ${this.name}`, iova, size);
    this.#connection.request(VFIO_USER_DMA_UNMAP, encodeDmaUnmap({ flags: 0, addr: iova, size: BigInt(size) }));
    this.#mapped--;
  }

  protected release(): void {
    this.#connection.close();
  }
}
