import { describe, expect, it } from 'vitest';
import { _IO, _IOR, _IOW, _IOWR, epoll_event, VFIO_GET_API_VERSION } from '../../../structs/index.js';

describe('ioctl encoders', () => {
  it('match known Linux request codes', () => {
    expect(_IO(';', 100)).toBe(0x3b64);
    expect(VFIO_GET_API_VERSION).toBe(0x3b64);
    // FIONREAD-style and well-known codes from <linux/fs.h> and <linux/random.h>
    expect(_IOR('R', 0x00, 4)).toBe(0x80045200); // RNDGETENTCNT
    expect(_IOW('R', 0x01, 4)).toBe(0x40045201); // RNDADDTOENTCNT
    expect(_IOWR('f', 1, 8)).toBe(0xc0086601 >>> 0);
    expect(_IOR('x', 1, epoll_event)).toBe((0x80000000 | (epoll_event.size << 16) | (0x78 << 8) | 1) >>> 0);
  });

  it('reject fields that do not fit', () => {
    expect(() => _IO('ab', 1)).toThrow(/one character/);
    expect(() => _IO(';', 256)).toThrow(/nr 256/);
    expect(() => _IOR(';', 1, 1 << 14)).toThrow(/14 bits/);
  });
});
