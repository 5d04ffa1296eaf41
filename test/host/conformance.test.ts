import { describe, expect, it } from 'vitest';
import {
  FLEXIBLE_ARRAYS, LIBC_CONSTANTS, LIBC_STRUCTS, PCI_CONSTANTS, VFIO_CONSTANTS, VFIO_IOCTLS, VFIO_STRUCTS,
  koffi, vfio_info_cap_header,
} from '../../structs/index.js';
import * as structs from '../../structs/index.js';
import { cFacts, jsFacts, mismatches, type LayoutQuery } from './c-layout.js';

// C types these as long or int: the masks are ~0x0fUL, and (1 << 31) is a negative int.
// They apply to 32-bit registers and fields, where structs/ keeps the unsigned 32-bit value,
// so they are compared on their low 32 bits.
const COMPARED_AS_U32 = new Set(['PCI_BASE_ADDRESS_MEM_MASK', 'PCI_BASE_ADDRESS_IO_MASK', 'VFIO_REGION_TYPE_PCI_VENDOR_TYPE']);

const query: LayoutQuery = {
  structs: { ...VFIO_STRUCTS, ...LIBC_STRUCTS },
  flexible: Object.fromEntries(Object.entries(FLEXIBLE_ARRAYS).map(([k, v]) => [k, v.field])),
  macros: { ...VFIO_IOCTLS, ...VFIO_CONSTANTS, ...PCI_CONSTANTS, ...LIBC_CONSTANTS },
  headers: ['linux/vfio.h', 'linux/pci_regs.h', 'sys/epoll.h', 'sys/mman.h', 'linux/mman.h', 'sys/eventfd.h', 'sys/resource.h', 'fcntl.h'],
};

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
    const keys = Object.keys(VFIO_IOCTLS);
    expect(keys).toHaveLength(17);
    expect(mismatches(c, new Map(keys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('every flag, index and PCI constant matches the C macro', () => {
    const keys = [...Object.keys(VFIO_CONSTANTS), ...Object.keys(PCI_CONSTANTS), ...Object.keys(LIBC_CONSTANTS)];
    expect(mismatches(c, new Map(keys.map((k) => [k, js.get(k)!])))).toEqual([]);
  });

  it('covers every struct and every ioctl code that structs/ exports', () => {
    const exported = Object.entries(structs);
    const TypeObject = (koffi as unknown as { TypeObject: abstract new () => object }).TypeObject;
    const types = exported.filter(([, v]) => v instanceof TypeObject).map(([k]) => k);
    expect(types.sort()).toEqual(Object.keys(query.structs).sort());
    const codes = exported.filter(([k, v]) => /^VFIO_[A-Z_0-9]+$/.test(k) && typeof v === 'number' && k in VFIO_IOCTLS);
    expect(codes.length).toBe(Object.keys(VFIO_IOCTLS).length);
    // Request codes are the VFIO_* numbers at or above _IO(';', 100); none may be missing from the table.
    const looksLikeIoctl = exported.filter(([k, v]) => k.startsWith('VFIO_') && typeof v === 'number' && v >= 0x3b64 && v < 0x3c00);
    expect(looksLikeIoctl.map(([k]) => k).sort()).toEqual(Object.keys(VFIO_IOCTLS).sort());
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
