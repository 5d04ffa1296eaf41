// What the command line prints (src/cli/format.ts): hex dumps, sizes, JSON with bigints.
import { describe, expect, it } from 'vitest';
import { formatSize, hexDump, toJson } from '../../../src/cli/format.js';

describe('output formatting', () => {
  it('dumps bytes like lspci -xxx', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(hexDump(bytes)).toBe(
      '00: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n10: 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f',
    );
    expect(hexDump(new Uint8Array(4096)).split('\n')[255]).toMatch(/^ff0: 00/);
  });

  it('formats sizes and bigints', () => {
    expect(formatSize(1n << 20n)).toBe('1 MiB');
    expect(formatSize(16384)).toBe('16 KiB');
    expect(formatSize(256)).toBe('256 B');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(toJson({ iova: 0xfef00000n })).toBe('{\n  "iova": "0xfef00000"\n}');
  });
});
