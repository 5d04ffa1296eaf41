/**
 * vfio-user, VFIO's operations as messages on a UNIX socket (QEMU's
 * `docs/interop/vfio-user.rst`): the message header, command numbers, header flags and the
 * payload layouts the protocol defines itself. Payloads that are a `<linux/vfio.h>` structure
 * (`vfio_region_info`, `vfio_irq_info`, `vfio_irq_set`, `vfio_device_feature`) use that
 * declaration from vfio-structs.ts; the device info is the one that differs (16 bytes, no
 * `cap_offset`). No C header declares these: `test/unit/structs/vfio-user.test.ts` pins every
 * size and offset against the specification's tables. All fields are in the host's byte order.
 */
import { cStruct } from './koffi.js';

/** The commands (the header's `command`), numbered as the specification's table. */
export const VFIO_USER_VERSION = 1;
export const VFIO_USER_DMA_MAP = 2;
export const VFIO_USER_DMA_UNMAP = 3;
export const VFIO_USER_DEVICE_GET_INFO = 4;
export const VFIO_USER_DEVICE_GET_REGION_INFO = 5;
export const VFIO_USER_DEVICE_GET_REGION_IO_FDS = 6;
export const VFIO_USER_DEVICE_GET_IRQ_INFO = 7;
export const VFIO_USER_DEVICE_SET_IRQS = 8;
export const VFIO_USER_REGION_READ = 9;
export const VFIO_USER_REGION_WRITE = 10;
export const VFIO_USER_DMA_READ = 11;
export const VFIO_USER_DMA_WRITE = 12;
export const VFIO_USER_DEVICE_RESET = 13;
/** Withdrawn from the specification (dirty-page tracking moved to device features); refused. */
export const VFIO_USER_DIRTY_PAGES = 14;
export const VFIO_USER_REGION_WRITE_MULTI = 15;
export const VFIO_USER_DEVICE_FEATURE = 16;
export const VFIO_USER_MIG_DATA_READ = 17;
export const VFIO_USER_MIG_DATA_WRITE = 18;

/** Every command's name by number, for messages and traces. */
export const VFIO_USER_COMMAND_NAMES: Readonly<Record<number, string>> = {
  [VFIO_USER_VERSION]: 'VFIO_USER_VERSION',
  [VFIO_USER_DMA_MAP]: 'VFIO_USER_DMA_MAP',
  [VFIO_USER_DMA_UNMAP]: 'VFIO_USER_DMA_UNMAP',
  [VFIO_USER_DEVICE_GET_INFO]: 'VFIO_USER_DEVICE_GET_INFO',
  [VFIO_USER_DEVICE_GET_REGION_INFO]: 'VFIO_USER_DEVICE_GET_REGION_INFO',
  [VFIO_USER_DEVICE_GET_REGION_IO_FDS]: 'VFIO_USER_DEVICE_GET_REGION_IO_FDS',
  [VFIO_USER_DEVICE_GET_IRQ_INFO]: 'VFIO_USER_DEVICE_GET_IRQ_INFO',
  [VFIO_USER_DEVICE_SET_IRQS]: 'VFIO_USER_DEVICE_SET_IRQS',
  [VFIO_USER_REGION_READ]: 'VFIO_USER_REGION_READ',
  [VFIO_USER_REGION_WRITE]: 'VFIO_USER_REGION_WRITE',
  [VFIO_USER_DMA_READ]: 'VFIO_USER_DMA_READ',
  [VFIO_USER_DMA_WRITE]: 'VFIO_USER_DMA_WRITE',
  [VFIO_USER_DEVICE_RESET]: 'VFIO_USER_DEVICE_RESET',
  [VFIO_USER_DIRTY_PAGES]: 'VFIO_USER_DIRTY_PAGES',
  [VFIO_USER_REGION_WRITE_MULTI]: 'VFIO_USER_REGION_WRITE_MULTI',
  [VFIO_USER_DEVICE_FEATURE]: 'VFIO_USER_DEVICE_FEATURE',
  [VFIO_USER_MIG_DATA_READ]: 'VFIO_USER_MIG_DATA_READ',
  [VFIO_USER_MIG_DATA_WRITE]: 'VFIO_USER_MIG_DATA_WRITE',
};

/** Header flags: bits 0-3 are the message type. */
export const VFIO_USER_TYPE_MASK = 0xf;
export const VFIO_USER_TYPE_COMMAND = 0x0;
export const VFIO_USER_TYPE_REPLY = 0x1;
/** A command that wants no reply. */
export const VFIO_USER_FLAG_NO_REPLY = 0x10;
/** A reply to a command that failed; the header's `error_no` holds the errno (it may be 0). */
export const VFIO_USER_FLAG_ERROR = 0x20;

/** `VFIO_USER_DMA_MAP` flags. */
export const VFIO_USER_DMA_MAP_FLAG_READ = 0x1;
export const VFIO_USER_DMA_MAP_FLAG_WRITE = 0x2;

/** The defaults a peer assumes for a capability the other did not state. */
export const VFIO_USER_DEFAULT_MAX_MSG_FDS = 1;
export const VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE = 1024 * 1024;
export const VFIO_USER_DEFAULT_MAX_DMA_MAPS = 65535;
export const VFIO_USER_DEFAULT_PGSIZES = 4096;

/** The header every message starts with; `msg_size` counts the header too. */
export const vfio_user_header = cStruct('vfio_user_header', {
  msg_id: 'uint16_t',
  command: 'uint16_t',
  msg_size: 'uint32_t',
  flags: 'uint32_t',
  error_no: 'uint32_t',
});

/** `VFIO_USER_VERSION`, both ways: followed by optional NUL-terminated JSON capabilities. */
export const vfio_user_version = cStruct('vfio_user_version', {
  major: 'uint16_t',
  minor: 'uint16_t',
  // data[]: UTF-8 JSON, NUL-terminated
});

/** `VFIO_USER_DMA_MAP` request; a descriptor comes with it when the server may map the memory. */
export const vfio_user_dma_map = cStruct('vfio_user_dma_map', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  offset: 'uint64_t',
  addr: 'uint64_t',
  size: 'uint64_t',
});

/** `VFIO_USER_DMA_UNMAP` request and reply. */
export const vfio_user_dma_unmap = cStruct('vfio_user_dma_unmap', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  addr: 'uint64_t',
  size: 'uint64_t',
});

/** `VFIO_USER_DEVICE_GET_INFO` request and reply: `vfio_device_info` without `cap_offset`. */
export const vfio_user_device_info = cStruct('vfio_user_device_info', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  num_regions: 'uint32_t',
  num_irqs: 'uint32_t',
});

/** `VFIO_USER_REGION_READ` / `_WRITE`: the data follows on a write request and a read reply. */
export const vfio_user_region_access = cStruct('vfio_user_region_access', {
  offset: 'uint64_t',
  region: 'uint32_t',
  count: 'uint32_t',
  // data[]: count bytes
});

/** `VFIO_USER_DMA_READ` / `_WRITE`: the data follows on a write request and a read reply. */
export const vfio_user_dma_access = cStruct('vfio_user_dma_access', {
  addr: 'uint64_t',
  count: 'uint64_t',
  // data[]: count bytes
});

/** `VFIO_USER_DEVICE_GET_REGION_IO_FDS` request (the reply adds sub-regions; not offered). */
export const vfio_user_region_io_fds = cStruct('vfio_user_region_io_fds', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  index: 'uint32_t',
  count: 'uint32_t',
});

/** One write of `VFIO_USER_REGION_WRITE_MULTI`: at most 8 bytes of data. */
export const vfio_user_write_one = cStruct('vfio_user_write_one', {
  offset: 'uint64_t',
  region: 'uint32_t',
  count: 'uint32_t',
  data: 'uint8_t[8]',
});

/** Every layout above by name: no C header has them (test/unit/structs/vfio-user.test.ts pins them). */
export const VFIO_USER_STRUCTS = {
  vfio_user_header,
  vfio_user_version,
  vfio_user_dma_map,
  vfio_user_dma_unmap,
  vfio_user_device_info,
  vfio_user_region_access,
  vfio_user_dma_access,
  vfio_user_region_io_fds,
  vfio_user_write_one,
};
