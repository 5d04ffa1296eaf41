/**
 * `VFIO_DEVICE_FEATURE` (`<linux/vfio.h>`): one ioctl that gets, sets or probes a device
 * feature chosen by its index in the low 16 bits of `flags`. The index of every feature the
 * kernel defines, under its C name, and the payload each one carries in `data[]` where it has
 * one. The request code itself is `VFIO_DEVICE_FEATURE` in `vfio-ioctls.ts`.
 */
import { _IO } from './ioctl.js';
import { cStruct, type TypeObject } from './koffi.js';
import { VFIO_BASE, VFIO_TYPE } from './vfio-ioctls.js';

export const vfio_device_feature = cStruct('vfio_device_feature', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  // data[]: u8, the feature's payload
});

// vfio_device_feature.flags: the feature index and what to do with it.
export const VFIO_DEVICE_FEATURE_MASK = 0xffff;
export const VFIO_DEVICE_FEATURE_GET = 1 << 16;
export const VFIO_DEVICE_FEATURE_SET = 1 << 17;
export const VFIO_DEVICE_FEATURE_PROBE = 1 << 18;

// Feature indexes.
/** SET only: the 16-byte VF token (a UUID) that VF users must present; on an SR-IOV PF. */
export const VFIO_DEVICE_FEATURE_PCI_VF_TOKEN = 0;
/** GET: which migration states the device supports (`vfio_device_feature_migration`). */
export const VFIO_DEVICE_FEATURE_MIGRATION = 1;
/** GET/SET: the migration state, and the data fd of a transfer (`vfio_device_feature_mig_state`). */
export const VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE = 2;
/** SET: allow runtime power management to put the device in a low-power state. */
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY = 3;
/** SET: as LOW_POWER_ENTRY, with an eventfd (an int32 payload) signalled on wake-up. */
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4;
/** SET: leave the low-power state. */
export const VFIO_DEVICE_FEATURE_LOW_POWER_EXIT = 5;
/** SET: start logging the device's DMA writes (`vfio_device_feature_dma_logging_control`). */
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_START = 6;
/** SET: stop logging DMA writes. */
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP = 7;
/** GET: read and clear the DMA write log (`vfio_device_feature_dma_logging_report`). */
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT = 8;
/** GET: the estimated size of the stop-copy data (`vfio_device_feature_mig_data_size`). */
export const VFIO_DEVICE_FEATURE_MIG_DATA_SIZE = 9;
/** SET: set or clear bus mastering where config space cannot (`vfio_device_feature_bus_master`; CDX). */
export const VFIO_DEVICE_FEATURE_BUS_MASTER = 10;
/** GET: a dma-buf fd for ranges of a region (`vfio_device_feature_dma_buf`). */
export const VFIO_DEVICE_FEATURE_DMA_BUF = 11;
/** SET: opt in to `vfio_precopy_info.flags` as an output. */
export const VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 = 12;
/** GET: pending PCI error data on s390 (`vfio_device_feature_zpci_err`). */
export const VFIO_DEVICE_FEATURE_ZPCI_ERROR = 13;

// vfio_device_feature_migration.flags
export const VFIO_MIGRATION_STOP_COPY = 1 << 0;
export const VFIO_MIGRATION_P2P = 1 << 1;
export const VFIO_MIGRATION_PRE_COPY = 1 << 2;

// enum vfio_device_mig_state (vfio_device_feature_mig_state.device_state)
export const VFIO_DEVICE_STATE_ERROR = 0;
export const VFIO_DEVICE_STATE_STOP = 1;
export const VFIO_DEVICE_STATE_RUNNING = 2;
export const VFIO_DEVICE_STATE_STOP_COPY = 3;
export const VFIO_DEVICE_STATE_RESUMING = 4;
export const VFIO_DEVICE_STATE_RUNNING_P2P = 5;
export const VFIO_DEVICE_STATE_PRE_COPY = 6;
export const VFIO_DEVICE_STATE_PRE_COPY_P2P = 7;

// vfio_device_feature_bus_master.op
export const VFIO_DEVICE_FEATURE_CLEAR_MASTER = 0;
export const VFIO_DEVICE_FEATURE_SET_MASTER = 1;

export const vfio_device_feature_migration = cStruct('vfio_device_feature_migration', {
  flags: 'uint64_t',
});

export const vfio_device_feature_mig_state = cStruct('vfio_device_feature_mig_state', {
  device_state: 'uint32_t',
  data_fd: 'int32_t',
});

export const vfio_device_low_power_entry_with_wakeup = cStruct('vfio_device_low_power_entry_with_wakeup', {
  wakeup_eventfd: 'int32_t',
  reserved: 'uint32_t',
});

export const vfio_device_feature_dma_logging_control = cStruct('vfio_device_feature_dma_logging_control', {
  page_size: 'uint64_t',
  num_ranges: 'uint32_t',
  __reserved: 'uint32_t',
  ranges: 'uint64_t', // user pointer to vfio_device_feature_dma_logging_range[num_ranges]
});

export const vfio_device_feature_dma_logging_range = cStruct('vfio_device_feature_dma_logging_range', {
  iova: 'uint64_t',
  length: 'uint64_t',
});

export const vfio_device_feature_dma_logging_report = cStruct('vfio_device_feature_dma_logging_report', {
  iova: 'uint64_t',
  length: 'uint64_t',
  page_size: 'uint64_t',
  bitmap: 'uint64_t', // user pointer to the u64 bitmap
});

export const vfio_device_feature_mig_data_size = cStruct('vfio_device_feature_mig_data_size', {
  stop_copy_length: 'uint64_t',
});

export const vfio_device_feature_bus_master = cStruct('vfio_device_feature_bus_master', {
  op: 'uint32_t',
});

export const vfio_region_dma_range = cStruct('vfio_region_dma_range', {
  offset: 'uint64_t',
  length: 'uint64_t',
});

export const vfio_device_feature_dma_buf = cStruct('vfio_device_feature_dma_buf', {
  // The u64 items of the flexible array give the C struct 8-byte alignment.
  region_index: [8, 'uint32_t'],
  open_flags: 'uint32_t',
  flags: 'uint32_t',
  nr_ranges: 'uint32_t',
  // dma_ranges[]: vfio_region_dma_range
});

export const vfio_device_feature_zpci_err = cStruct('vfio_device_feature_zpci_err', {
  data: 'uint64_t',
});

/**
 * What `VFIO_MIG_GET_PRECOPY_INFO` answers on a migration data fd in a PRE_COPY state: the
 * bytes of initial and of dirty state still to read.
 */
export const vfio_precopy_info = cStruct('vfio_precopy_info', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  initial_bytes: 'uint64_t',
  dirty_bytes: 'uint64_t',
});
// vfio_precopy_info.flags (an output once MIG_PRECOPY_INFOv2 is set)
export const VFIO_PRECOPY_INFO_REINIT = 1 << 0;

/** On a migration data fd (not the device's): `vfio_precopy_info`. */
export const VFIO_MIG_GET_PRECOPY_INFO = _IO(VFIO_TYPE, VFIO_BASE + 21);

/** The ioctls of migration data fds, by C macro name (after 6.1: checked against the built kernel). */
export const DEVICE_FEATURE_IOCTLS = {
  VFIO_MIG_GET_PRECOPY_INFO,
} as const satisfies Readonly<Record<string, number>>;

/** Every feature index above, by C name: `featureName()` and the conformance test read it. */
export const VFIO_DEVICE_FEATURES = {
  VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
  VFIO_DEVICE_FEATURE_MIGRATION,
  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
  VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
  VFIO_DEVICE_FEATURE_BUS_MASTER,
  VFIO_DEVICE_FEATURE_DMA_BUF,
  VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
  VFIO_DEVICE_FEATURE_ZPCI_ERROR,
} as const satisfies Readonly<Record<string, number>>;

/** The C name of feature `index` without its prefix (`PCI_VF_TOKEN`), or `feature N` for one not listed. */
export function featureName(index: number): string {
  for (const [name, value] of Object.entries(VFIO_DEVICE_FEATURES))
    if (value === index) return name.slice('VFIO_DEVICE_FEATURE_'.length);
  return `feature ${index}`;
}

/** Every constant above that the C headers define, by name (the feature indexes included). */
export const DEVICE_FEATURE_CONSTANTS: Readonly<Record<string, number>> = {
  VFIO_DEVICE_FEATURE_MASK,
  VFIO_DEVICE_FEATURE_GET,
  VFIO_DEVICE_FEATURE_SET,
  VFIO_DEVICE_FEATURE_PROBE,
  ...VFIO_DEVICE_FEATURES,
  VFIO_MIGRATION_STOP_COPY,
  VFIO_MIGRATION_P2P,
  VFIO_MIGRATION_PRE_COPY,
  VFIO_DEVICE_STATE_ERROR,
  VFIO_DEVICE_STATE_STOP,
  VFIO_DEVICE_STATE_RUNNING,
  VFIO_DEVICE_STATE_STOP_COPY,
  VFIO_DEVICE_STATE_RESUMING,
  VFIO_DEVICE_STATE_RUNNING_P2P,
  VFIO_DEVICE_STATE_PRE_COPY,
  VFIO_DEVICE_STATE_PRE_COPY_P2P,
  VFIO_DEVICE_FEATURE_CLEAR_MASTER,
  VFIO_DEVICE_FEATURE_SET_MASTER,
  VFIO_PRECOPY_INFO_REINIT,
};

/** Every layout above, by C name (checked against the kernel's headers). */
export const DEVICE_FEATURE_STRUCTS: Readonly<Record<string, TypeObject>> = {
  vfio_device_feature,
  vfio_device_feature_migration,
  vfio_device_feature_mig_state,
  vfio_device_low_power_entry_with_wakeup,
  vfio_device_feature_dma_logging_control,
  vfio_device_feature_dma_logging_range,
  vfio_device_feature_dma_logging_report,
  vfio_device_feature_mig_data_size,
  vfio_device_feature_bus_master,
  vfio_region_dma_range,
  vfio_device_feature_dma_buf,
  vfio_device_feature_zpci_err,
  vfio_precopy_info,
};

/** The flexible array members of the layouts above (as `FLEXIBLE_ARRAYS` in vfio-structs.ts). */
export const DEVICE_FEATURE_FLEXIBLE_ARRAYS = {
  vfio_device_feature: { field: 'data', element: 1 },
  vfio_device_feature_dma_buf: { field: 'dma_ranges', element: vfio_region_dma_range },
} as const;

/**
 * A `vfio_device_feature` argument: `argsz` and `flags` (the feature index and the GET, SET
 * or PROBE bits) followed by `payload`, which the kernel reads and, for a GET, writes.
 */
export function buildDeviceFeature(flags: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const arg = new Uint8Array(vfio_device_feature.size + payload.length);
  const view = new DataView(arg.buffer);
  view.setUint32(0, arg.length, true);
  view.setUint32(4, flags >>> 0, true);
  arg.set(payload, vfio_device_feature.size);
  return arg;
}
