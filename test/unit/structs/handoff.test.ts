// The handoff message's format (structs/handoff.ts): its layout pinned, a message read back as
// written, and each field the format does not allow refused with ERR_VFIO_HANDOFF naming it.
import { describe, expect, it } from 'vitest';
import {
  decodeHandoff,
  encodeHandoff,
  handoff_header,
  handoff_span,
  HANDOFF_MAGIC,
  HANDOFF_MAX_SPANS,
  koffi,
  type HandoffMessage,
} from '../../../structs/index.js';

const message: HandoffMessage = {
  backend: 'type1',
  address: '0000:00:03.0',
  iommuGroup: 12,
  iommuId: 3,
  dmaBits: 40,
  spans: [{ iova: 0x1000n, size: 0x2000n }],
};

const refused = (bytes: Uint8Array, fds = 3): string => {
  try {
    decodeHandoff(bytes, fds, 'test');
  } catch (e) {
    expect((e as { code: string }).code).toBe('ERR_VFIO_HANDOFF');
    expect((e as Error).message).toMatch(
      /^device handoff from test: .*the \d+ descriptors that came with it are closed/,
    );
    return (e as Error).message;
  }
  throw new Error('accepted');
};

/** `bytes` with a 32-bit field at `at` set to `value`. */
const patched = (bytes: Uint8Array, at: number, value: number, width: 1 | 2 | 4 = 4): Uint8Array => {
  const b = bytes.slice();
  const v = new DataView(b.buffer);
  if (width === 4) v.setUint32(at, value, true);
  else if (width === 2) v.setUint16(at, value, true);
  else v.setUint8(at, value);
  return b;
};

describe('handoff message layout', () => {
  it('is pinned: a 48-byte header, 16-byte spans', () => {
    expect(handoff_header.size).toBe(48);
    const at = (f: string) => koffi.offsetof(handoff_header, f);
    expect([at('magic'), at('version'), at('backend'), at('fd_count'), at('size')]).toEqual([0, 4, 6, 7, 8]);
    expect([at('iommu_group'), at('iommu_id'), at('span_count'), at('dma_bits'), at('reserved')]).toEqual([
      12, 16, 20, 24, 28,
    ]);
    expect(at('address')).toBe(32);
    expect(handoff_span.size).toBe(16);
    expect(Buffer.from(encodeHandoff(message).subarray(0, 4)).toString('latin1')).toBe('VTHO');
    expect(HANDOFF_MAGIC).toBe(0x4f485456);
  });

  it('reads back what was written, for each backend', () => {
    for (const backend of ['type1', 'iommufd', 'noiommu'] as const) {
      const m = { ...message, backend };
      const bytes = encodeHandoff(m);
      expect(bytes.length).toBe(64);
      expect(decodeHandoff(bytes, backend === 'iommufd' ? 2 : 3, 'test')).toEqual(m);
    }
  });
});

describe('a handoff message the format does not allow', () => {
  const good = encodeHandoff(message);

  it('is refused field by field, naming what it held', () => {
    expect(refused(good.subarray(0, 47))).toMatch(/the message is 47 bytes, shorter than its 48-byte header/);
    expect(refused(patched(good, 0, 0x12345678))).toMatch(/magic 0x12345678 is not 0x4f485456/);
    expect(refused(patched(good, 4, 2, 2))).toMatch(/version 2; this library reads version 1/);
    expect(refused(patched(good, 6, 9, 1))).toMatch(/backend 9 is none of 1 \(type1\), 2 \(iommufd\), 3 \(noiommu\)/);
    expect(refused(patched(good, 7, 2, 1))).toMatch(
      /the header counts 2 descriptors; a type1 handoff has 3 \(container, group, device\)/,
    );
    expect(refused(good, 2)).toMatch(/2 descriptors arrived; a type1 handoff carries 3/);
    expect(refused(good, 4)).toMatch(/4 descriptors arrived/);
    expect(refused(patched(good, 8, 48))).toMatch(/the header says 48 bytes and 1 spans \(64 bytes\), and 64 arrived/);
    expect(refused(good.subarray(0, 60))).toMatch(/and 60 arrived/);
    expect(refused(patched(good, 20, HANDOFF_MAX_SPANS + 1))).toMatch(/4097 IOVA spans, more than 4096/);
    expect(refused(patched(good, 24, 11))).toMatch(/dma_bits 11 is outside 12-64/);
    expect(refused(patched(good, 24, 65))).toMatch(/dma_bits 65/);
    expect(refused(patched(good, 28, 1))).toMatch(/reserved field is 1, not 0/);
    expect(refused(patched(good, 56, 0))).toMatch(/IOVA span 0x1000\+0x0 is empty or passes 2\^64/);
  });

  it('refuses an address that is not printable ASCII ended by NUL bytes', () => {
    const text = /the address field is not printable ASCII ended and padded by NUL bytes/;
    expect(refused(patched(good, 32, 0, 1))).toMatch(text); // empty
    expect(refused(patched(good, 33, 0x0a, 1))).toMatch(text); // a control byte
    expect(refused(patched(good, 46, 0x41, 1))).toMatch(text); // a byte after the NUL
    const full = good.slice();
    full.fill(0x41, 32, 48); // no NUL at all
    expect(refused(full)).toMatch(text);
  });

  it('is never written: an address that does not fit is a bug here', () => {
    expect(() => encodeHandoff({ ...message, address: '0000:00:03.0-too-long' })).toThrow(
      expect.objectContaining({ code: 'ERR_VFIO_INTERNAL' }),
    );
  });
});
