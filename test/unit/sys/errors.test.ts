import { describe, expect, it } from 'vitest';
import { O_RDWR, structBuffer, vfio_group_status, SysError } from '../../../structs/index.js';
import { sysClose, sysIoctl, sysOpen } from '../../../src/sys/index.js';
import { openFdCount } from '../../support/fd-count.js';

describe('SysError from real failing system calls', () => {
  it('open of a missing path: ENOENT with the path and a hint', () => {
    const path = '/nonexistent/vfio-ts/really-not-here';
    const err = (() => {
      try {
        sysOpen(path, O_RDWR);
      } catch (e) {
        return e;
      }
    })() as SysError;
    expect(err).toBeInstanceOf(SysError);
    expect(err.code).toBe('ERR_VFIO_SYSCALL');
    expect(err.errnoName).toBe('ENOENT');
    expect(err.errno).toBe(2);
    expect(err.syscall).toBe('open');
    expect(err.target).toBe(path);
    expect(err.message).toContain(path);
    expect(err.message).toContain('ENOENT');
    expect(err.hint).toMatch(/does not exist/);
  });

  it('a hint given as a function is written only for the errno that happened', () => {
    const asked: string[] = [];
    const hint = {
      ENOENT: () => (asked.push('ENOENT'), 'written on failure'),
      EBUSY: () => (asked.push('EBUSY'), 'never'),
    };
    expect(() => sysOpen('/nonexistent/vfio-ts-hint', O_RDWR, 0, hint)).toThrow(/ENOENT .*\. written on failure$/);
    expect(asked).toEqual(['ENOENT']);
  });

  it('a missing /dev/vfio group says how to bind the device', () => {
    expect(() => sysOpen('/dev/vfio/987654', O_RDWR)).toThrow(
      /ENOENT.*does not exist: load VFIO \(modprobe vfio-pci\).*vfio list shows/,
    );
  });

  it('ioctl on /dev/null: ENOTTY naming the request, the file and a hint', () => {
    const before = openFdCount();
    const fd = sysOpen('/dev/null', O_RDWR);
    try {
      const buf = structBuffer(vfio_group_status, { argsz: vfio_group_status.size });
      let err: SysError | undefined;
      try {
        sysIoctl(fd, 'VFIO_GROUP_GET_STATUS', buf, '/dev/null');
      } catch (e) {
        err = e as SysError;
      }
      expect(err).toBeInstanceOf(SysError);
      expect(err!.code).toBe('ERR_VFIO_SYSCALL');
      expect(err!.errnoName).toBe('ENOTTY');
      expect(err!.errno).toBe(25);
      expect(err!.syscall).toBe('ioctl(VFIO_GROUP_GET_STATUS)');
      expect(err!.message).toContain('/dev/null');
      expect(err!.message).toMatch(/ENOTTY \(errno 25, Inappropriate ioctl for device\)/);
      expect(err!.hint).toBe(
        '/dev/null does not support ioctl(VFIO_GROUP_GET_STATUS): it is not the kind of file this request is for',
      );
      // Integer-argument form fails the same way.
      expect(() => sysIoctl(fd, 'VFIO_GET_API_VERSION', 0, '/dev/null')).toThrow(/ENOTTY/);
    } finally {
      sysClose(fd);
    }
    expect(openFdCount()).toBe(before);
  });

  it('close of a bad fd: EBADF', () => {
    expect(() => sysClose(1 << 20)).toThrow(/close on fd 1048576 failed: EBADF/);
  });
});
