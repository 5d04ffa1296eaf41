/**
 * What a `Container` and an `IommufdContext` share: the IOMMU backend they hold (not inherit),
 * the `Iommu` calls forwarded to it, their sysfs and their DMA context.
 */
import { PciSysfs } from '../../pci/index.js';
import { closeAll, Resource } from '../../sys/index.js';
import type { DmaMapRequest, Iommu, IommuInfo, IommuKind } from '../../iommu/index.js';
import { Dma } from '../../dma/index.js';

/** What a context needs of its backend (a `Type1Iommu` or an `IommufdIoas`): an `Iommu` with its file. */
export interface ContextBackend extends Iommu {
  /** The backend's fd (`/dev/vfio/vfio` or `/dev/iommu`). */
  readonly fd: number;
  /** The device file it opened. */
  readonly path: string;
  /** Closes the backend's file. */
  close(): void;
}

/** An IOMMU context: a backend, the devices opened in it (by the subclass), and one DMA context. */
export abstract class BackedContext<B extends ContextBackend> extends Resource implements Iommu {
  /** The context's IOMMU side: its fd and its mappings. */
  readonly backend: B;
  /** The sysfs devices are found in. */
  readonly sysfs: PciSysfs;
  readonly #dma: Dma;

  /** Takes ownership of `backend`: it is closed with the context. */
  protected constructor(backend: B, sysfsRoot?: string) {
    super();
    this.backend = backend;
    this.sysfs = new PciSysfs(sysfsRoot);
    // No system call: the DMA context asks the IOMMU for its ranges at the first allocation.
    this.#dma = new Dma(this);
  }

  /** `type1`, `iommufd` or `noiommu`. */
  get kind(): IommuKind {
    return this.backend.kind;
  }

  /** The backend's fd. */
  get fd(): number {
    return this.backend.fd;
  }

  /** The backend's device file, `/dev/vfio/vfio` or `/dev/iommu`. */
  get path(): string {
    return this.backend.path;
  }

  get name(): string {
    return this.backend.name;
  }

  /** The DMA context, shared by the devices of this context (each allocates below its own `dmaBits`). */
  get dma(): Dma {
    this.check();
    return this.#dma;
  }

  /** What the IOMMU reports now: page sizes, IOVA ranges and, for a container, `dma_avail`. */
  info(): IommuInfo {
    this.check();
    return this.backend.info();
  }

  /** Maps `req.size` bytes at `req.vaddr` for the devices at `req.iova`. */
  mapDma(req: DmaMapRequest): void {
    this.check();
    this.backend.mapDma(req);
  }

  /** Unmaps exactly one earlier mapping. */
  unmapDma(iova: bigint, size: number): void {
    this.check();
    this.backend.unmapDma(iova, size);
  }

  /** The physical address of locked memory, for a no-IOMMU container only. */
  get physicalAddress(): ((vaddr: bigint, size: number) => bigint) | undefined {
    return this.backend.physicalAddress?.bind(this.backend);
  }

  /** @internal What the context opened (groups or devices), closed last first before the backend. */
  protected abstract children(): Resource[];

  protected release(): void {
    closeAll([
      ...this.children()
        .reverse()
        .map((c) => () => c.close()),
      () => this.backend.close(),
    ]);
  }
}
