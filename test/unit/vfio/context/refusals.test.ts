// The kernel's refusals to open a device, told only as far as they were checked
// (src/vfio/context/refusals.ts): a bind refused with EINVAL names a holder and says "busy"
// only when one was found; otherwise it lists the kernel's other reasons and where to look.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SysError, VfioErrorCode } from '../../../../structs/index.js';
import { explainBindFailure, explainGetDeviceFdFailure } from '../../../../src/vfio/context/refusals.js';

const dir = mkdtempSync(join(tmpdir(), 'vfio-refusals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const EINVAL = 22;
const refused = (syscall: string) =>
  new SysError({ syscall, errno: EINVAL, target: 'the device', description: 'Invalid argument' });

describe('a refused open, explained', () => {
  it('bind with EINVAL and a holder found: busy, naming the holder', () => {
    const cdev = join(dir, 'vfio0');
    writeFileSync(cdev, '');
    const fd = openSync(cdev, 'r'); // this process holds it, as a second Device would
    try {
      const e = explainBindFailure(refused('ioctl(VFIO_DEVICE_BIND_IOMMUFD)'), '0000:00:04.0', cdev, 5) as SysError;
      expect(e.code).toBe(VfioErrorCode.DEVICE_BUSY);
      expect(e.message).toContain(
        `0000:00:04.0 is already open (bound to an iommufd), held by this process (pid ${process.pid})`,
      );
    } finally {
      closeSync(fd);
    }
  });

  it('bind with EINVAL and no holder: not called busy; the other reasons, vfio doctor and dmesg', () => {
    const cdev = join(dir, 'vfio1');
    const e = explainBindFailure(refused('ioctl(VFIO_DEVICE_BIND_IOMMUFD)'), '0000:00:04.0', cdev, 5) as SysError;
    expect(e.code).toBe(VfioErrorCode.SYSCALL);
    expect(e.message).not.toMatch(/already open|busy/);
    expect(e.message).toContain(`No process holds ${cdev}, so it is not open elsewhere`);
    expect(e.message).toContain("the device's driver failed to enable it");
    expect(e.message).toContain('vfio doctor 0000:00:04.0');
    expect(e.message).toContain('dmesg');
  });

  it('the group path with EINVAL: the same reasons, and the cdev elsewhere; other errors pass through', () => {
    const e = explainGetDeviceFdFailure(refused('ioctl(VFIO_GROUP_GET_DEVICE_FD)'), '0000:00:04.0') as SysError;
    expect(e.message).toContain('the kernel refused to open 0000:00:04.0 in its group');
    expect(e.message).toContain('open through its cdev (bound to an iommufd) elsewhere');
    const other = refused('ioctl(VFIO_DEVICE_GET_INFO)');
    expect(explainGetDeviceFdFailure(other, '0000:00:04.0')).toBe(other);
  });
});
