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
export { openDevice, type OpenDeviceOptions } from './open-device.js';

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
export { DeviceMigration, MigrationStream, MIGRATION_STATES } from './vfio/index.js';
export type { MigrationCaps, MigrationState, PrecopyInfo } from './vfio/index.js';
export { DeviceLowPower, DeviceDmaLogging, DMA_LOG_MAX_RANGES } from './vfio/index.js';
export type { DmaLogRange, DmaLogReport } from './vfio/index.js';
export type { EventFd } from './sys/index.js';
export { DeviceFeatures, Sriov, type FeatureSupport } from './vfio/index.js';
export type { SriovState } from './pci/index.js';
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
export { sendDevice, receiveDevice, type SendDeviceOptions, type ReceiveDeviceOptions } from './vfio/index.js';
export {
  UnixSocket,
  UnixListener,
  type UnixListenOptions,
  type ReceivedMessage,
  type ReceivedBytes,
  type ReceiveOptions,
} from './sys/index.js';
export { MdevSysfs, createMdev, removeMdev, parseMdevAddress, isMdevAddress, MDEV_PREFIX } from './vfio/index.js';
export type { MdevUuid, MdevInfo, MdevParent, MdevType, CreateMdevOptions, RemoveMdevOptions } from './vfio/index.js';
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
