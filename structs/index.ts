// The declarations use Node's types (Buffer, Disposable): consumers get them without a tsconfig entry.
/// <reference types="node" preserve="true" />
/**
 * The kernel ABI layer: every structure as a koffi layout under its C name, ioctl request codes
 * under their macro names, flags and PCI constants, and the parsers and builders of the
 * variable-size buffers. Knows nothing of `src/`.
 *
 * @module vfio-ts/structs
 */
export * from './error-codes.js';
export * from './errors.js';
export * from './errno.js';
export * from './ioctl.js';
export { koffi, cStruct, decodeStruct, encodeStruct, structBuffer, type Fields, type TypeObject } from './koffi.js';
export * from './vfio-structs.js';
export * from './vfio-ioctls.js';
export * from './ioctl-names.js';
export * from './vfio-constants.js';
export * from './pci.js';
export * from './pci-capabilities.js';
export * from './libc.js';
export * from './socket.js';
export * from './cap-chain.js';
export * from './variable.js';
export * from './irq-set.js';
export * from './info-parsers.js';
export * from './hot-reset.js';
export * from './iommufd.js';
export * from './vfio-user.js';
export * from './device-feature.js';
