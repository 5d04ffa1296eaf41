/**
 * `vfio info`: everything VFIO and config space say about a device, gathered into one report
 * (printed as text or JSON). Reads only: no BAR is mapped and bus mastering is left as found.
 */
import { featuresReport, formatFeaturesReport, type FeatureReport } from './features-info.js';
import { formatSriovReport, sriovReport, type SriovReport } from './sriov-info.js';
import {
  VFIO_DEVICE_FLAGS_AMBA,
  VFIO_DEVICE_FLAGS_AP,
  VFIO_DEVICE_FLAGS_CAPS,
  VFIO_DEVICE_FLAGS_CCW,
  VFIO_DEVICE_FLAGS_FSL_MC,
  VFIO_DEVICE_FLAGS_PCI,
  VFIO_DEVICE_FLAGS_PLATFORM,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  VFIO_TYPE1v2_IOMMU,
  VFIO_TYPE1_IOMMU,
} from '../../structs/index.js';
import {
  Container,
  IommufdContext,
  MdevSysfs,
  isMdevAddress,
  parseMdevAddress,
  irqIndexName,
  regionName,
  type Device,
  type IommuKind,
  type IovaRange,
} from '../index.js';
import { capabilityDetails } from './capability-details.js';
import { capabilityName, extendedCapabilityName, formatSize, pciIdentity } from './format.js';
import { hex } from '../sys/index.js';

/** The names of the bits set in `flags`, from a table of `[bit, name]`. */
function flagNames(flags: number, names: Array<[number, string]>): string[] {
  return names.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

const DEVICE_FLAGS: Array<[number, string]> = [
  [VFIO_DEVICE_FLAGS_RESET, 'reset'],
  [VFIO_DEVICE_FLAGS_PCI, 'pci'],
  [VFIO_DEVICE_FLAGS_PLATFORM, 'platform'],
  [VFIO_DEVICE_FLAGS_AMBA, 'amba'],
  [VFIO_DEVICE_FLAGS_CCW, 'ccw'],
  [VFIO_DEVICE_FLAGS_AP, 'ap'],
  [VFIO_DEVICE_FLAGS_FSL_MC, 'fsl-mc'],
  [VFIO_DEVICE_FLAGS_CAPS, 'caps'],
];
const REGION_FLAGS: Array<[number, string]> = [
  [VFIO_REGION_INFO_FLAG_READ, 'read'],
  [VFIO_REGION_INFO_FLAG_WRITE, 'write'],
  [VFIO_REGION_INFO_FLAG_MMAP, 'mmap'],
  [VFIO_REGION_INFO_FLAG_CAPS, 'caps'],
];
const IRQ_FLAGS: Array<[number, string]> = [
  [VFIO_IRQ_INFO_EVENTFD, 'eventfd'],
  [VFIO_IRQ_INFO_MASKABLE, 'maskable'],
  [VFIO_IRQ_INFO_AUTOMASKED, 'automasked'],
  [VFIO_IRQ_INFO_NORESIZE, 'noresize'],
];
export interface RegionReport {
  index: number;
  name: string;
  size: bigint;
  /** Offset of the region in the device fd. */
  offset: bigint;
  flags: number;
  flagNames: string[];
  /** The parts that may be mmapped (sparse-mmap capability); absent: all of it when `mmap` is set. */
  sparseMmap?: Array<{ offset: bigint; size: bigint }>;
  msixMappable: boolean;
  type?: { type: number; subtype: number };
}

export interface IrqReport {
  index: number;
  name: string;
  count: number;
  flags: number;
  flagNames: string[];
}

export interface CapabilityReport {
  id: number;
  name: string;
  offset: number;
  version?: number;
  /** A one-line decode of the capability's main fields (MSI, MSI-X, PCIe, PM). */
  details?: string;
}

export interface BarReport {
  index: number;
  kind: 'io' | 'mem32' | 'mem64';
  prefetchable: boolean;
  /** Bus address programmed by the host (informational under VFIO). */
  address: bigint;
  /** Size from the VFIO region. */
  size: bigint;
}

export interface IommuReport {
  /** The way into VFIO: `type1`, `iommufd` or `noiommu`. */
  kind: IommuKind;
  type: string;
  /** Supported IOMMU page sizes. */
  pageSizes: string[];
  pageSizeMask: bigint;
  iovaRanges: IovaRange[];
  dmaAvail?: number;
}

/** What `vfio info` prints. */
export interface DeviceReport {
  address: string;
  vendor: string;
  device: string;
  class: string;
  className: string;
  driver: string | null;
  iommuGroup: number;
  command: number;
  busMaster: boolean;
  flags: number;
  flagNames: string[];
  canReset: boolean;
  regions: RegionReport[];
  irqs: IrqReport[];
  capabilities: CapabilityReport[];
  extendedCapabilities: CapabilityReport[];
  bars: BarReport[];
  iommu: IommuReport;
  /** SR-IOV: a PF's VFs or a VF's PF; absent for other devices. */
  sriov?: SriovReport;
  features?: FeatureReport[]; // every VFIO_DEVICE_FEATURE_* index probed; absent over vfio-user
}

/** What kind of IOMMU context it is, for people. */
function describeIommu(iommu: Device['iommu']): string {
  if (iommu instanceof IommufdContext) return `${iommu.path}, IOAS ${iommu.ioasId}`;
  if (!(iommu instanceof Container)) return iommu.name;
  if (iommu.kind === 'noiommu') return `container ${iommu.path}, no translation: physical addresses`;
  const t = iommu.iommuType;
  return `container ${iommu.path}, ${t === VFIO_TYPE1v2_IOMMU ? 'Type1v2' : t === VFIO_TYPE1_IOMMU ? 'Type1' : `type ${t}`}`;
}

/** Gathers the report for an open device. */
export function deviceReport(dev: Device): DeviceReport {
  const config = dev.config;
  // A served device has no sysfs entry, and an mdev none on the PCI bus: who it is comes from
  // its config space (an mdev's driver from its own sysfs entry).
  const served = dev.iommu.kind === 'vfio-user';
  const mdev = !served && isMdevAddress(dev.address);
  const pci =
    served || mdev
      ? {
          vendor: config.vendorId(),
          device: config.deviceId(),
          class: config.read32(0x08) >>> 8,
          driver: mdev ? new MdevSysfs(dev.iommu.sysfs.root).device(parseMdevAddress(dev.address)).driver : null,
        }
      : dev.iommu.sysfs.info(dev.address);
  const regions: RegionReport[] = dev.regions.map((r) => ({
    index: r.index,
    name: regionName(r.index),
    size: r.size,
    offset: r.offset,
    flags: r.flags,
    flagNames: flagNames(r.flags, REGION_FLAGS),
    ...(r.sparseMmap ? { sparseMmap: r.sparseMmap.map((a) => ({ offset: a.offset, size: a.size })) } : {}),
    msixMappable: r.msixMappable,
    ...(r.type ? { type: r.type } : {}),
  }));
  const irqs: IrqReport[] = dev.irqs.map((q) => ({
    index: q.index,
    name: irqIndexName(q.index),
    count: q.count,
    flags: q.flags,
    flagNames: flagNames(q.flags, IRQ_FLAGS),
  }));
  const capabilities = config.capabilities().map((c) => {
    const details = capabilityDetails(config, c.id, c.offset);
    return { id: c.id, name: capabilityName(c.id), offset: c.offset, ...(details ? { details } : {}) };
  });
  const extendedCapabilities = config
    .extendedCapabilities()
    .map((c) => ({ id: c.id, name: extendedCapabilityName(c.id), offset: c.offset, version: c.version }));
  const bars: BarReport[] = config
    .bars()
    .map((b) => ({
      index: b.index,
      kind: b.io ? ('io' as const) : b.is64 ? ('mem64' as const) : ('mem32' as const),
      prefetchable: b.prefetchable,
      address: b.address,
      size: regions[b.index]?.size ?? 0n,
    }))
    .filter((b) => b.size > 0n);
  const iommu = dev.iommu;
  const iommuInfo = iommu.info();
  const pageSizes: string[] = [];
  for (let bit = 0n; bit < 64n; bit++) if ((iommuInfo.pageSizes >> bit) & 1n) pageSizes.push(formatSize(1n << bit));
  const command = config.command();
  const sriov = sriovReport(dev);
  return {
    address: dev.address,
    ...pciIdentity(pci),
    iommuGroup: dev.iommuGroup,
    command,
    busMaster: dev.busMasterEnabled(),
    flags: dev.info.flags,
    flagNames: flagNames(dev.info.flags, DEVICE_FLAGS),
    canReset: dev.info.canReset,
    regions,
    irqs,
    capabilities,
    extendedCapabilities,
    bars,
    iommu: {
      kind: iommu.kind,
      type: describeIommu(iommu),
      pageSizes,
      pageSizeMask: iommuInfo.pageSizes,
      iovaRanges: iommuInfo.iovaRanges,
      ...(iommuInfo.dmaAvail !== undefined ? { dmaAvail: iommuInfo.dmaAvail } : {}),
    },
    ...(sriov ? { sriov } : {}),
    features: featuresReport(dev),
  };
}

/** The text `vfio info` prints. */
export function formatDeviceReport(r: DeviceReport): string {
  const out: string[] = [];
  out.push(
    `${r.address} ${r.vendor}:${r.device} ${r.className} (class ${r.class}), ${
      r.iommu.kind === 'vfio-user'
        ? 'served over vfio-user'
        : `driver ${r.driver ?? 'none'}, IOMMU group ${r.iommuGroup}`
    }`,
  );
  out.push(
    `device flags ${hex(r.flags)} (${r.flagNames.join(', ') || 'none'}); reset ${r.canReset ? 'supported' : 'not supported'}; command ${hex(r.command, 4)}, bus master ${r.busMaster ? 'on' : 'off'}`,
  );
  out.push('', `regions (${r.regions.length}):`);
  for (const g of r.regions) {
    if (g.size === 0n) {
      out.push(`  ${String(g.index).padStart(2)} ${g.name.padEnd(7)} -`);
      continue;
    }
    const extra: string[] = [];
    if (g.sparseMmap)
      extra.push(
        `mmap areas ${g.sparseMmap.length ? g.sparseMmap.map((a) => `[${hex(a.offset)}, ${hex(a.offset + a.size)})`).join(' ') : 'none'}`,
      );
    if (g.msixMappable) extra.push('MSI-X mappable');
    if (g.type) extra.push(`type ${hex(g.type.type)}/${g.type.subtype}`);
    out.push(
      `  ${String(g.index).padStart(2)} ${g.name.padEnd(7)} ${formatSize(g.size).padEnd(9)} ${g.flagNames.join(',')}${extra.length ? `  ${extra.join('; ')}` : ''}`,
    );
  }
  out.push('', `irqs (${r.irqs.length}):`);
  for (const q of r.irqs) {
    out.push(
      `  ${q.index} ${q.name.padEnd(6)} ${q.count === 0 ? '-' : `${q.count} vector${q.count === 1 ? '' : 's'}`.padEnd(11)}${q.count === 0 ? '' : ` ${q.flagNames.join(',')}`}`.trimEnd(),
    );
  }
  out.push('', 'capabilities:');
  if (r.capabilities.length === 0) out.push('  none');
  for (const c of r.capabilities)
    out.push(`  ${hex(c.offset, 2)} ${c.name} (${hex(c.id, 2)})${c.details ? `: ${c.details}` : ''}`);
  out.push('', 'extended capabilities:');
  if (r.extendedCapabilities.length === 0) out.push('  none');
  for (const c of r.extendedCapabilities) out.push(`  ${hex(c.offset, 3)} ${c.name} (${hex(c.id, 4)}) v${c.version}`);
  out.push('', 'BARs:');
  if (r.bars.length === 0) out.push('  none');
  for (const b of r.bars) {
    out.push(
      `  BAR${b.index} ${b.kind === 'io' ? 'I/O' : `${b.kind}${b.prefetchable ? ' prefetchable' : ''}`} at ${hex(b.address)}, size ${formatSize(b.size)}`,
    );
  }
  const i = r.iommu;
  const sizes =
    i.pageSizes.length > 6
      ? `${i.pageSizes[0]} and ${i.pageSizes.length - 1} larger (mask ${hex(i.pageSizeMask)})`
      : i.pageSizes.join(' ');
  out.push('', `IOMMU ${i.kind} (${i.type}): page sizes ${sizes}`);
  out.push(`  IOVA ranges ${i.iovaRanges.map((x) => `${hex(x.start)}-${hex(x.end)}`).join(', ')}`);
  out.push(`  dma_avail ${i.dmaAvail ?? 'not reported'}`);
  if (r.sriov) out.push('', ...formatSriovReport(r.sriov));
  return [...out, ...formatFeaturesReport(r.features)].join('\n');
}
