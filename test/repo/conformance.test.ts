import { describe, expect, it } from 'vitest';
import {
  CMSG_ALIGN,
  CMSG_LEN,
  CMSG_SPACE,
  DEVICE_FEATURE_CONSTANTS,
  DEVICE_FEATURE_FLEXIBLE_ARRAYS,
  DEVICE_FEATURE_IOCTLS,
  DEVICE_FEATURE_STRUCTS,
  FLEXIBLE_ARRAYS,
  IOMMUFD_CONSTANTS,
  IOMMUFD_IOCTLS,
  IOMMUFD_STRUCTS,
  VFIO_USER_STRUCTS,
  HANDOFF_STRUCTS,
  LIBC_CONSTANTS,
  LIBC_STRUCTS,
  PCI_CONSTANTS,
  SOCKET_CONSTANTS,
  SOCKET_STRUCTS,
  SUN_PATH_SIZE,
  VFIO_CONSTANTS,
  VFIO_IOCTLS,
  VFIO_STRUCTS,
  koffi,
  vfio_info_cap_header,
} from '../../structs/index.js';
import * as structs from '../../structs/index.js';
import { HOST_IOCTLS } from '../../structs/host-ioctls.js';
import { builtKernelHeaders, cFacts, jsFacts, mismatches, type LayoutQuery } from './c-layout.js';

// C types these as long or int: the masks are ~0x0fUL, and (1 << 31) is a negative int.
// They apply to 32-bit registers and fields, where structs/ keeps the unsigned 32-bit value,
// so they are compared on their low 32 bits.
const COMPARED_AS_U32 = new Set([
  'PCI_BASE_ADDRESS_MEM_MASK',
  'PCI_BASE_ADDRESS_IO_MASK',
  'VFIO_REGION_TYPE_PCI_VENDOR_TYPE',
]);

// Device features and payloads that bookworm's 6.1 headers lack: checked against the built
// kernel's headers only.
const FEATURES_AFTER_6_1 = new Set([
  'VFIO_DEVICE_FEATURE_MIG_DATA_SIZE',
  'VFIO_DEVICE_FEATURE_BUS_MASTER',
  'VFIO_DEVICE_FEATURE_DMA_BUF',
  'VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2',
  'VFIO_DEVICE_FEATURE_ZPCI_ERROR',
  'VFIO_MIGRATION_PRE_COPY',
  'VFIO_DEVICE_STATE_PRE_COPY',
  'VFIO_DEVICE_STATE_PRE_COPY_P2P',
  'VFIO_DEVICE_FEATURE_CLEAR_MASTER',
  'VFIO_DEVICE_FEATURE_SET_MASTER',
  'vfio_device_feature_mig_data_size',
  'vfio_device_feature_bus_master',
  'vfio_region_dma_range',
  'vfio_device_feature_dma_buf',
  'vfio_device_feature_zpci_err',
  'vfio_precopy_info',
  'VFIO_PRECOPY_INFO_REINIT',
]);
const before61 = <T>(table: Readonly<Record<string, T>>): Record<string, T> =>
  Object.fromEntries(Object.entries(table).filter(([k]) => !FEATURES_AFTER_6_1.has(k)));
const flexibleFields = (table: Readonly<Record<string, { field: string }>>) =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v.field]));

// The control-message size macros, as C expressions (their keys) with what structs/ computes:
// descriptor counts from none to SCM_MAX_FD, and lengths on both sides of an alignment step.
const FD_COUNTS = [0, 1, 2, 3, 4, 7, 16, 253];
const CMSG_MACROS: Record<string, number> = {};
for (const n of FD_COUNTS) {
  CMSG_MACROS[`CMSG_SPACE(${n} * sizeof(int))`] = CMSG_SPACE(n * 4);
  CMSG_MACROS[`CMSG_LEN(${n} * sizeof(int))`] = CMSG_LEN(n * 4);
}
for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 1013]) CMSG_MACROS[`CMSG_ALIGN(${n})`] = CMSG_ALIGN(n);

const query: LayoutQuery = {
  structs: { ...VFIO_STRUCTS, ...LIBC_STRUCTS, ...SOCKET_STRUCTS, ...before61(DEVICE_FEATURE_STRUCTS) },
  // glibc's cmsghdr ends in the flexible __cmsg_data that CMSG_DATA points at.
  flexible: {
    ...flexibleFields(FLEXIBLE_ARRAYS),
    ...flexibleFields(before61(DEVICE_FEATURE_FLEXIBLE_ARRAYS)),
    cmsghdr: '__cmsg_data',
  },
  macros: {
    ...VFIO_IOCTLS,
    ...before61(DEVICE_FEATURE_CONSTANTS),
    ...HOST_IOCTLS,
    ...VFIO_CONSTANTS,
    ...PCI_CONSTANTS,
    ...LIBC_CONSTANTS,
    ...SOCKET_CONSTANTS,
    ...CMSG_MACROS,
  },
  headers: [
    'linux/vfio.h',
    'sys/ioctl.h',
    'linux/pci_regs.h',
    'sys/epoll.h',
    'sys/mman.h',
    'linux/mman.h',
    'sys/eventfd.h',
    'linux/memfd.h',
    'sys/resource.h',
    'fcntl.h',
    'errno.h',
    'sys/socket.h',
    'sys/un.h',
    'sys/time.h',
    'poll.h',
  ],
};

// The layouts 6.1 already had, against this machine's own headers (bookworm: 6.1).
describe('structs/ against the kernel headers, compiled with cc', () => {
  const js = jsFacts(query);
  const c = cFacts(query);
  for (const name of COMPARED_AS_U32) c.set(name, BigInt.asUintN(32, c.get(name)!));

  it('every struct size, alignment, field offset and field size matches C', () => {
    const structKeys = [...js.keys()].filter((k) => k.includes('struct '));
    expect(structKeys.length).toBeGreaterThan(100);
    expect(mismatches(c, new Map(structKeys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('every ioctl request code matches the C macro', () => {
    const keys = [...Object.keys(VFIO_IOCTLS), ...Object.keys(HOST_IOCTLS)];
    expect(keys).toHaveLength(19);
    expect(mismatches(c, new Map(keys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('every flag, index and PCI constant matches the C macro', () => {
    const keys = [
      ...Object.keys(VFIO_CONSTANTS),
      ...Object.keys(PCI_CONSTANTS),
      ...Object.keys(LIBC_CONSTANTS),
      ...Object.keys(SOCKET_CONSTANTS),
      ...Object.keys(before61(DEVICE_FEATURE_CONSTANTS)),
    ];
    expect(mismatches(c, new Map(keys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('the socket layouts (sockaddr_un, pollfd, timeval too), constants and CMSG_* macros match C, field by field', () => {
    const structKeys = [...js.keys()].filter((k) =>
      Object.keys(SOCKET_STRUCTS).some(
        (s) => k.includes(`struct ${s})`) || k.includes(`struct ${s},`) || k.includes(`struct ${s} *`),
      ),
    );
    // iovec 2 + msghdr 7 + cmsghdr 3 + sockaddr_un 2 + pollfd 3 + timeval 2 fields, each an offset and a
    // size; sizeof and alignof each; CMSG_DATA's offset.
    expect(structKeys).toHaveLength(2 * 19 + 2 * 6 + 1);
    expect(c.get('sizeof(struct msghdr)')).toBe(56n);
    expect(c.get('sizeof(((struct sockaddr_un *)0)->sun_path)')).toBe(BigInt(SUN_PATH_SIZE));
    const keys = [...structKeys, ...Object.keys(SOCKET_CONSTANTS), ...Object.keys(CMSG_MACROS)];
    expect(keys.filter((k) => !c.has(k))).toEqual([]);
    expect(mismatches(c, new Map(keys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('covers every struct and every ioctl code that structs/ exports', () => {
    const exported = Object.entries(structs);
    const TypeObject = (koffi as unknown as { TypeObject: abstract new () => object }).TypeObject;
    const types = exported.filter(([, v]) => v instanceof TypeObject).map(([k]) => k);
    // vfio-user's own layouts have no C header: test/unit/structs/vfio-user.test.ts pins them to the specification;
    // the handoff message is ours (test/unit/structs/handoff.test.ts).
    const compared = [
      ...Object.keys(query.structs),
      ...Object.keys(IOMMUFD_STRUCTS),
      ...Object.keys(VFIO_USER_STRUCTS),
      ...Object.keys(HANDOFF_STRUCTS),
      ...[...FEATURES_AFTER_6_1].filter((k) => k in DEVICE_FEATURE_STRUCTS),
    ];
    expect(types.sort()).toEqual(compared.sort());
    const allIoctls = { ...VFIO_IOCTLS, ...IOMMUFD_IOCTLS, ...DEVICE_FEATURE_IOCTLS };
    // Request codes are the VFIO_*/IOMMU_* numbers from _IO(';', 100) up; none may be missing from the tables.
    const looksLikeIoctl = exported.filter(
      ([k, v]) => /^(VFIO|IOMMU)_/.test(k) && typeof v === 'number' && v >= 0x3b64 && v < 0x3c00,
    );
    expect(looksLikeIoctl.map(([k]) => k).sort()).toEqual(Object.keys(allIoctls).sort());
  });

  it('catches a single changed field offset', () => {
    // A deliberately wrong copy (anonymous, so it does not touch the registry): `next` aligned to 8.
    const tampered = koffi.struct({ id: 'uint16_t', version: 'uint16_t', next: [8, 'uint32_t'] });
    const q: LayoutQuery = { ...query, structs: { vfio_info_cap_header: tampered }, flexible: {}, macros: {} };
    const bad = mismatches(cFacts(q), jsFacts(q));
    expect(bad).toContain('offsetof(struct vfio_info_cap_header, next): C says 4, structs/ says 8');
    expect(vfio_info_cap_header.size).toBe(8);
  });
});

// Everything, the iommufd and device-cdev layouts included, against the uapi headers of the
// guest kernel that scripts/vm/setup builds (bookworm's own headers predate iommufd).
describe("structs/ against the built guest kernel's headers (iommufd, device cdev)", () => {
  const include = builtKernelHeaders();
  // The kernel's uapi only: its <linux/mman.h> and glibc's <sys/mman.h> redefine each other.
  // VFIO_TYPE1_NESTING_IOMMU (6) left the uapi in 6.12: checked against 6.1 above only.
  const { VFIO_TYPE1_NESTING_IOMMU: _removed, ...vfioConstants } = VFIO_CONSTANTS;
  const all: LayoutQuery = {
    structs: { ...VFIO_STRUCTS, ...IOMMUFD_STRUCTS, ...DEVICE_FEATURE_STRUCTS },
    flexible: { ...query.flexible, ...flexibleFields(DEVICE_FEATURE_FLEXIBLE_ARRAYS) },
    macros: {
      ...VFIO_IOCTLS,
      ...IOMMUFD_IOCTLS,
      ...DEVICE_FEATURE_IOCTLS,
      ...vfioConstants,
      ...PCI_CONSTANTS,
      ...IOMMUFD_CONSTANTS,
      ...DEVICE_FEATURE_CONSTANTS,
    },
    headers: ['linux/vfio.h', 'linux/pci_regs.h', 'linux/iommufd.h'],
    include,
  };
  const js = jsFacts(all);
  const c = cFacts(all);
  for (const name of COMPARED_AS_U32) c.set(name, BigInt.asUintN(32, c.get(name)!));

  it('every iommufd and device-cdev layout matches C, field by field', () => {
    const keys = [...js.keys()].filter((k) =>
      Object.keys(IOMMUFD_STRUCTS).some(
        (s) => k.includes(`struct ${s})`) || k.includes(`struct ${s},`) || k.includes(`struct ${s} *`),
      ),
    );
    expect(keys.length).toBeGreaterThan(40);
    expect(mismatches(c, new Map(keys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('every iommufd and device-cdev ioctl code and constant matches the C macro', () => {
    const keys = [...Object.keys(IOMMUFD_IOCTLS), ...Object.keys(IOMMUFD_CONSTANTS)];
    expect(keys.length).toBe(16);
    expect(mismatches(c, new Map(keys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('every device feature index, flag and payload layout matches C, those newer than 6.1 included', () => {
    const structKeys = [...js.keys()].filter((k) =>
      Object.keys(DEVICE_FEATURE_STRUCTS).some((s) => k.includes(`struct ${s})`) || k.includes(`struct ${s},`)),
    );
    const keys = [...structKeys, ...Object.keys(DEVICE_FEATURE_CONSTANTS), ...Object.keys(DEVICE_FEATURE_IOCTLS)];
    expect(Object.keys(DEVICE_FEATURE_CONSTANTS)).toHaveLength(32);
    expect(keys.filter((k) => !c.has(k))).toEqual([]);
    expect(mismatches(c, new Map(keys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('the older layouts, codes and constants still match on the newer kernel', () => {
    // vfio_device_info gained a trailing `pad` (20 -> 24 bytes) after 6.1. structs/ keeps the
    // 6.1 size, which both kernels accept: argsz says how much the caller has.
    expect(c.get('sizeof(struct vfio_device_info)')).toBe(24n);
    expect(c.get('offsetof(struct vfio_device_info, cap_offset)')).toBe(16n);
    const grown = new Set(['sizeof(struct vfio_device_info)']);
    expect(mismatches(c, new Map([...js].filter(([k]) => !grown.has(k))))).toEqual([]);
  });
});
