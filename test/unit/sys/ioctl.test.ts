// sysIoctl (src/sys/calls.ts) passes a small struct through one buffer at a fixed address,
// copied in and back (koffi's fast call), and a large one by pointer: both ways the kernel's
// answer lands in the caller's buffer, around what the caller put there.
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sysIoctl } from '../../../src/sys/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vfio-ioctl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sysIoctl with a buffer', () => {
  it.each([
    ['copied through the fixed buffer', 16],
    ['at the limit of the fixed buffer', 256],
    ['by pointer', 300],
  ])('FIONREAD into a buffer %s (%i bytes)', (_, size) => {
    const file = join(dir, `f${size}`);
    writeFileSync(file, Buffer.alloc(1234));
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size, 0xab);
      expect(sysIoctl(fd, 'FIONREAD', buf)).toBe(0);
      expect(buf.readInt32LE(0)).toBe(1234);
      expect(buf.subarray(4).every((b) => b === 0xab)).toBe(true); // the rest comes back as it was
      const view = new Uint8Array(new ArrayBuffer(size + 8), 8, size); // a view at an offset
      sysIoctl(fd, 'FIONREAD', view);
      expect(new DataView(view.buffer).getInt32(8, true)).toBe(1234);
    } finally {
      closeSync(fd);
    }
  });
});
