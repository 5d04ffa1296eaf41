// The declarations use Node's types (Buffer, Disposable): consumers get them without a tsconfig entry.
/// <reference types="node" preserve="true" />
/**
 * vfio-ts: open a PCI device through Linux VFIO, map its registers, give it DMA memory and
 * take its interrupts, from TypeScript.
 *
 * @example
 * ```ts
 * import { openDevice } from 'vfio-ts';
 * using dev = openDevice('00:03.0');
 * console.log(dev.bar(0).read32(0).toString(16));
 * ```
 *
 * @module vfio-ts
 */
import {
  Container,
  IommufdContext,
  chooseIommu,
  locateDevice,
  type ContainerOptions,
  type Device,
  type DeviceOptions,
  type IommuChoice,
  type IommuContext,
  type IommufdContextOptions,
} from './vfio/index.js';
import { PciSysfs, parsePciAddress } from './pci/index.js';
import { openUserDevice, VFIO_USER_PREFIX } from './vfio-user/index.js';

export interface OpenDeviceOptions extends ContainerOptions, IommufdContextOptions, DeviceOptions {
  /**
   * The way into VFIO: `auto` (default) takes iommufd where `/dev/iommu` and the device's cdev
   * exist, no-IOMMU for a device in a no-IOMMU group, else the legacy container (`type1`).
   * Asking for one the machine lacks throws, naming the missing kernel option. The environment
   * variable `VFIO_TS_IOMMU` sets the default for a whole process (the test VM uses it).
   */
  iommu?: IommuChoice;
  /**
   * An IOMMU context to open the device in (a `Container` or an `IommufdContext`), to share one
   * IOVA space between devices. When absent a new one is made, and closing the device closes it.
   */
  context?: IommuContext;
  /** Set the bus-master bit so the device can do DMA and MSI (default true). */
  busMaster?: boolean;
  /** A `vfio-user:` device: the most milliseconds one command waits for its server (default 10 000). */
  timeoutMs?: number;
}

/**
 * One-call bring-up: validates the address, checks in sysfs that the device exists, has an
 * IOMMU group and is on vfio-pci, opens an IOMMU context of the chosen kind (or uses the one
 * given), opens the device in it and turns bus mastering on.
 *
 * @param address PCI address, `0000:00:03.0` or short `00:03.0`; or `vfio-user:PATH`, a device a
 *   vfio-user server (`serveDevice`, or any other) serves on the UNIX socket PATH: no root, no
 *   IOMMU, the same `Device`.
 */
export function openDevice(address: string, options: OpenDeviceOptions = {}): Device {
  if (typeof address === 'string' && address.startsWith(VFIO_USER_PREFIX)) return openServed(address, options);
  const addr = parsePciAddress(address); // before any file is touched
  const given = options.context;
  const deviceOptions: DeviceOptions = { dmaBits: options.dmaBits };
  let context: IommuContext;
  if (given) {
    context = given;
  } else {
    const loc = locateDevice(new PciSysfs(options.sysfsRoot), addr);
    const kind = chooseIommu(options.iommu ?? process.env.VFIO_TS_IOMMU ?? 'auto', loc);
    context =
      kind === 'iommufd' ? new IommufdContext(options) : new Container({ ...options, noIommu: kind === 'noiommu' });
  }
  let dev: Device;
  try {
    dev = context.device(addr, deviceOptions);
  } catch (e) {
    if (!given) context.close();
    throw e;
  }
  if (!given) dev.onClose(() => context.close());
  return withBusMaster(dev, options);
}

/** A device a vfio-user server serves: the same `Device`. */
function openServed(address: string, options: OpenDeviceOptions): Device {
  const path = address.slice(VFIO_USER_PREFIX.length);
  return withBusMaster(openUserDevice(path, { dmaBits: options.dmaBits, timeoutMs: options.timeoutMs }), options);
}

/** Turns bus mastering on unless told not to; a device that refuses is closed. */
function withBusMaster(dev: Device, options: OpenDeviceOptions): Device {
  try {
    if (options.busMaster !== false) dev.setBusMaster(true);
  } catch (e) {
    dev.close();
    throw e;
  }
  return dev;
}

export {
  Container,
  IommufdContext,
  Group,
  Device,
  Region,
  regionName,
  irqIndexName,
  type IommuContext,
  type IommuChoice,
  type DeviceInfo,
  type DeviceOptions,
  type IrqInfo,
  type RegionOptions,
  type ContainerOptions,
  type IommufdContextOptions,
  type HotResetPeer,
  type DeviceContext,
  type DeviceGroup,
  type GroupContainer,
  type BackedContext,
  type ContextBackend,
  type IrqDevice,
} from './vfio/index.js';
export {
  IovaAllocator,
  type Iommu,
  type IommuInfo,
  type IommuKind,
  type DmaMapRequest,
  type IovaAllocatorOptions,
  type Span,
  type Type1Iommu,
  type Type1Options,
  type IommufdIoas,
  type IommufdOptions,
} from './iommu/index.js';
export {
  ConfigSpace,
  PciSysfs,
  parsePciAddress,
  type ConfigAccessor,
  type PciAddress,
  type PciBar,
  type PciCapability,
  type PciDeviceInfo,
} from './pci/index.js';
export {
  VfioErrorCode,
  VfioError,
  VfioRangeError,
  VfioTypeError,
  SysError,
  CapChainError,
  IrqWaitAbortedError,
  RegisterMapError,
  ReplayMismatchError,
  UsageError,
  ERROR_CLASSES,
  isVfioError,
  type IrqAbortReason,
  type SysErrorDetails,
} from '../structs/index.js';
export {
  Dma,
  DmaBuffer,
  DmaPool,
  DmaPoolEntry,
  type DmaAllocOptions,
  type DmaOptions,
  type HugePageSize,
} from './dma/index.js';
export type { RegionInfo, IovaRange, SparseArea } from '../structs/index.js';
export {
  Interrupts,
  type EnableIrqOptions,
  type IrqErrorReport,
  type IrqFired,
  type IrqRequest,
  type IrqType,
} from './vfio/index.js';
export {
  defineRegisterMap,
  RegisterMap,
  BoundMap,
  Register,
  RegisterDef,
  RegisterArray,
  RegisterDump,
  builtinMaps,
  e1000eMap,
  nvmeMap,
  nvmeDoorbells,
  fromIpXact,
  ipXactSpec,
  fromSvd,
  svdSpec,
  findRegisterMap,
  loadRegisterMap,
  parseRegisterMap,
  mapsBoundTo,
  registerAt,
  type RegisterAt,
  type IpXactOptions,
  type SvdOptions,
  type LoadOptions,
  type Access,
  type ArrayPlacement,
  type BindOptions,
  type BoundRegisters,
  type ClearInput,
  type ClearableField,
  type ClearingEffect,
  type Decoded,
  type DumpEntry,
  type FieldInfo,
  type FieldInput,
  type FieldLabel,
  type FieldNumber,
  type FieldSpec,
  type FieldValue,
  type MapSpec,
  type ModifyOptions,
  type ReadEffect,
  type RegisterAccess,
  type RegisterName,
  type RegisterSpec,
  type RegisterValue,
  type RegisterWidth,
  type SpecValue,
  type WritableField,
  type WriteEffect,
  type WriteOptions,
  type AccessOf,
  type FieldAccess,
  type FieldModel,
  type FieldWriteEffect,
  type FieldsOf,
  type IfWritable,
  type IsArray,
  type Own,
  type OwnOr,
  type Wide,
  type WideRange,
  type Zeros,
} from './regmap/index.js';
export {
  Trace,
  TraceCheck,
  trace,
  traceProcess,
  checkTrace,
  replay,
  parseTrace,
  environmentTrace,
  type TraceEvent,
  type TraceKind,
  type TraceFormat,
  type TraceObserver,
  type Keeper,
  type TraceOptions,
  type ProcessTraceOptions,
  type CompareOptions,
  type VolatileRule,
  type Step,
  type ReplayOptions,
  type ReplayResult,
} from './trace/index.js';
export { watchDeviceOpens } from './vfio/index.js';
export {
  serveDevice,
  DeviceServer,
  RegisterFile,
  type RegisterEvent,
  type RegisterHandlers,
  type ServeOptions,
  type AccessWidth,
  type BarModel,
  type BarRegisters,
  type BarShape,
  type DeviceModel,
  type InterruptModel,
  type ModelContext,
  type ModelDma,
  type PciIdentity,
} from './vfio-user/index.js';
