// Mappings (src/sys/memory.ts) and the MMIO accessors over one (src/sys/mmio.ts).
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SysError } from '../../../structs/index.js';
import { Mapping, MmioWindow, pageSize } from '../../../src/sys/index.js';

describe('memory mappings and views', () => {
  it('maps anonymous memory, views it without copies, and unmaps', () => {
    const m = new Mapping({ length: 2 * pageSize(), prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    m.u32[0] = 0xdeadbeef;
    expect(m.u8[0]).toBe(0xef);
    expect(m.u64.length).toBe((2 * pageSize()) / 8);
    const w = new MmioWindow(m.buffer);
    w.write64(8, 0x0123456789abcdefn);
    expect(w.read32(8)).toBe(0x89abcdef);
    expect(w.read16(14)).toBe(0x0123);
    expect(w.read8(0)).toBe(0xef);
    m.close();
    m.close();
    expect(() => m.u8).toThrow(/is closed/);
  });

  it('a failing mmap throws a SysError naming the target', () => {
    expect(() => new Mapping({ length: 4096, prot: PROT_READ, flags: MAP_PRIVATE, fd: -1, target: 'nothing' })).toThrow(
      SysError,
    );
    expect(() => new Mapping({ length: 4096, prot: PROT_READ, flags: MAP_PRIVATE, fd: -1, target: 'nothing' })).toThrow(
      /mmap on nothing failed: EBADF/,
    );
  });
});
