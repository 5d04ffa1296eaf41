/** Typed register maps: describe a device's registers once as data, get checked accessors. */
export type {
  Access,
  ClearingEffect,
  FieldSpec,
  MapSpec,
  ReadEffect,
  RegisterSpec,
  RegisterWidth,
  SpecValue,
  WriteEffect,
} from './spec.js';
export type {
  ClearInput,
  ClearableField,
  Decoded,
  FieldInput,
  FieldLabel,
  FieldNumber,
  FieldValue,
  RegisterName,
  RegisterValue,
  WritableField,
  AccessOf,
  FieldAccess,
  FieldWriteEffect,
  FieldsOf,
  IfWritable,
  IsArray,
  Own,
  OwnOr,
  Wide,
  WideRange,
  Zeros,
} from './types.js';
export type { FieldModel, MapModel, RegisterModel } from './model.js';
export { Register, RegisterDef, type FieldInfo, type ModifyOptions, type WriteOptions } from './register.js';
export type { RegisterAccess } from './access.js';
export {
  BoundMap,
  RegisterArray,
  RegisterDump,
  RegisterMap,
  defineRegisterMap,
  type ArrayPlacement,
  type BindOptions,
  type BoundRegisters,
  type DumpEntry,
} from './map.js';
export { builtinMaps, e1000eMap, nvmeMap, nvmeDoorbells } from './maps/index.js';
export { fromIpXact, ipXactSpec, type IpXactOptions } from './ipxact.js';
export { fromSvd, svdSpec, type SvdOptions } from './svd.js';
export { findRegisterMap, loadRegisterMap, parseRegisterMap, type LoadOptions } from './load.js';
export { mapsBoundTo, registerAt, type RegisterAt } from './bindings.js';
