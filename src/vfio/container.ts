/** A VFIO container (`/dev/vfio/vfio`): an IOMMU context shared by the groups attached to it. */
import {
  O_RDWR, VFIO_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_GET_API_VERSION,
  VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU,
  parseIommuType1Info, queryVariable, structBuffer, vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_unmap,
  vfio_iommu_type1_info,
} from '../../structs/index.js';
import { PciSysfs, bindCommand, parsePciAddress } from '../pci/index.js';
import { closeAll, Resource, sysClose, SysError, sysIoctl, sysOpen } from '../sys/index.js';
import type { DmaMapRequest, Iommu, IommuInfo } from './iommu.js';
import { Group } from './group.js';
import type { Device } from './device.js';

export const CONTAINER_PATH = '/dev/vfio/vfio';

export interface ContainerOptions {
  /** The container device (default `/dev/vfio/vfio`). */
  path?: string;
  /** Root of sysfs, for finding groups (default `/sys`). */
  sysfsRoot?: string;
}

export class Container extends Resource implements Iommu {
  readonly fd: number;
  readonly path: string;
  readonly sysfs: PciSysfs;
  /** The IOMMU type chosen: Type1v2 when the kernel has it, else Type1. */
  readonly iommuType: number;
  readonly #groups = new Map<number, Group>();
  #iommuSet = false;

  constructor(options: ContainerOptions = {}) {
    super();
    this.path = options.path ?? CONTAINER_PATH;
    this.sysfs = new PciSysfs(options.sysfsRoot);
    this.fd = sysOpen(this.path, O_RDWR);
    try {
      const version = sysIoctl(this.fd, VFIO_GET_API_VERSION, 'VFIO_GET_API_VERSION', 0, this.path);
      if (version !== VFIO_API_VERSION) {
        throw new Error(`${this.path} speaks VFIO API version ${version}, this library speaks ${VFIO_API_VERSION}`);
      }
      if (this.#hasExtension(VFIO_TYPE1v2_IOMMU)) this.iommuType = VFIO_TYPE1v2_IOMMU;
      else if (this.#hasExtension(VFIO_TYPE1_IOMMU)) this.iommuType = VFIO_TYPE1_IOMMU;
      else throw new Error(`${this.path} supports neither the Type1v2 nor the Type1 IOMMU: is vfio_iommu_type1 loaded (modprobe vfio_iommu_type1) and the IOMMU on (intel_iommu=on / amd_iommu=on)?`);
    } catch (e) {
      sysClose(this.fd);
      throw e;
    }
  }

  get name(): string {
    return `container ${this.path} (fd ${this.fd})`;
  }

  #hasExtension(ext: number): boolean {
    return sysIoctl(this.fd, VFIO_CHECK_EXTENSION, 'VFIO_CHECK_EXTENSION', ext, this.path) === 1;
  }

  /** Whether the kernel offers an extension (`VFIO_TYPE1v2_IOMMU`, `VFIO_UNMAP_ALL`, ...). */
  checkExtension(ext: number): boolean {
    this.check();
    return this.#hasExtension(ext);
  }

  /** The groups attached to this container. */
  get groups(): Group[] {
    return [...this.#groups.values()];
  }

  /** Opens IOMMU group `number` (or returns it if already attached) and attaches it. */
  group(number: number): Group {
    this.check();
    const existing = this.#groups.get(number);
    if (existing && !existing.closed) return existing;
    const group = new Group(this, number);
    this.#groups.set(number, group);
    return group;
  }

  /** Opens the device at `address` through its group, in this container. */
  device(address: string): Device {
    this.check();
    const addr = parsePciAddress(address);
    this.sysfs.requireDevice(addr);
    const driver = this.sysfs.driver(addr);
    // vfio-pci, or a vendor's variant of it (mlx5_vfio_pci, ...).
    if (driver === null || !driver.includes('vfio')) {
      throw new Error(`${addr} is bound to ${driver ?? 'no driver'}, not vfio-pci: bind it first (as root) with: vfio bind ${addr}  (or: ${bindCommand(addr, this.sysfs.root)})`);
    }
    const number = this.sysfs.iommuGroup(addr);
    if (number === null) {
      throw new Error(`${addr} has no IOMMU group: the IOMMU is off or the device is not behind it; boot with intel_iommu=on (or amd_iommu=on) and check /sys/bus/pci/devices/${addr}/iommu_group`);
    }
    return this.group(number).device(addr);
  }

  /** @internal Called by a group once it has joined the container. */
  attached(): void {
    if (this.#iommuSet) return;
    // VFIO_SET_IOMMU is only valid once a group is in the container.
    sysIoctl(this.fd, VFIO_SET_IOMMU, 'VFIO_SET_IOMMU', this.iommuType, this.path);
    this.#iommuSet = true;
  }

  /** @internal Called by a group when it leaves; the IOMMU is unset with the last group. */
  detached(group: Group): void {
    if (this.#groups.get(group.number) === group) this.#groups.delete(group.number);
    if (this.#groups.size === 0) this.#iommuSet = false;
  }

  #requireIommu(what: string): void {
    this.check();
    if (!this.#iommuSet) throw new Error(`${this.name}: ${what} needs a group in the container first (container.group(n) or container.device(address))`);
  }

  /** `VFIO_IOMMU_GET_INFO` with its capabilities: page sizes, IOVA ranges, dma_avail. */
  info(): IommuInfo {
    this.#requireIommu('VFIO_IOMMU_GET_INFO');
    const buf = queryVariable(vfio_iommu_type1_info, {}, (b) => sysIoctl(this.fd, VFIO_IOMMU_GET_INFO, 'VFIO_IOMMU_GET_INFO', b, this.path), 'VFIO_IOMMU_GET_INFO');
    const raw = parseIommuType1Info(buf);
    const pageSizes = raw.iovaPgsizes;
    return {
      pageSizes,
      minPageSize: pageSizes & -pageSizes,
      // Without the capability the kernel puts no limit but the address width.
      iovaRanges: raw.iovaRanges ?? [{ start: 0n, end: 0xffff_ffff_ffff_ffffn }],
      dmaAvail: raw.dmaAvail,
    };
  }

  /** `VFIO_IOMMU_MAP_DMA`. */
  mapDma(req: DmaMapRequest): void {
    this.#requireIommu('VFIO_IOMMU_MAP_DMA');
    const flags = (req.readable ? VFIO_DMA_MAP_FLAG_READ : 0) | (req.writable ? VFIO_DMA_MAP_FLAG_WRITE : 0);
    const buf = structBuffer(vfio_iommu_type1_dma_map, { argsz: vfio_iommu_type1_dma_map.size, flags, vaddr: req.vaddr, iova: req.iova, size: req.size });
    const what = `${this.path}: IOVA 0x${req.iova.toString(16)}+0x${req.size.toString(16)}`;
    try {
      sysIoctl(this.fd, VFIO_IOMMU_MAP_DMA, 'VFIO_IOMMU_MAP_DMA', buf, what);
    } catch (e) {
      if (e instanceof SysError && e.code === 'EEXIST') {
        throw new SysError({ syscall: 'ioctl(VFIO_IOMMU_MAP_DMA)', errno: e.errno, target: what, hint: 'this IOVA range overlaps a mapping that already exists in the container' });
      }
      throw e;
    }
  }

  /** `VFIO_IOMMU_UNMAP_DMA` of exactly one earlier mapping (Type1v2 cannot split one). */
  unmapDma(iova: bigint, size: bigint): void {
    this.#requireIommu('VFIO_IOMMU_UNMAP_DMA');
    // No flags: the map flags (READ/WRITE) are not valid here.
    const buf = structBuffer(vfio_iommu_type1_dma_unmap, { argsz: vfio_iommu_type1_dma_unmap.size, flags: 0, iova, size });
    sysIoctl(this.fd, VFIO_IOMMU_UNMAP_DMA, 'VFIO_IOMMU_UNMAP_DMA', buf, `${this.path}: IOVA 0x${iova.toString(16)}+0x${size.toString(16)}`);
    const unmapped = buf.readBigUInt64LE(vfio_iommu_type1_dma_unmap.members!.size.offset);
    if (unmapped !== size) {
      throw new Error(`${this.path}: unmapped 0x${unmapped.toString(16)} bytes at IOVA 0x${iova.toString(16)}, expected 0x${size.toString(16)}: unmap whole mappings only`);
    }
  }

  protected release(): void {
    closeAll([...[...this.#groups.values()].reverse().map((g) => () => g.close()), () => sysClose(this.fd, this.path)]);
    this.#groups.clear();
  }
}
