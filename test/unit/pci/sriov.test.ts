// SR-IOV in sysfs, on a fake tree: a PF with two VFs (virtfnN links and physfn back), what
// writing sriov_numvfs checks before it writes, and a device that is neither.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SysError, VfioErrorCode } from '../../../structs/index.js';
import { explainVfTokenRefusal } from '../../../src/vfio/context/vf-token-refusal.js';
import { PciSysfs, parsePciAddress, physfnOf, sriovState, writeNumVfs } from '../../../src/pci/index.js';
import { parseVfToken } from '../../../src/vfio/device/vf-token.js';
import { thrownBy } from '../../support/thrown.js';

const root = mkdtempSync(join(tmpdir(), 'vfio-ts-sriov-'));
afterAll(() => rmSync(root, { recursive: true }));
const devices = join(root, 'bus/pci/devices');
mkdirSync(devices, { recursive: true });
const PF = parsePciAddress('0000:00:04.0');
const VFS = ['0000:00:04.1', '0000:00:04.2'];
const OTHER = parsePciAddress('0000:00:03.0');
mkdirSync(join(devices, PF));
mkdirSync(join(devices, OTHER));
writeFileSync(join(devices, PF, 'sriov_totalvfs'), '2\n');
writeFileSync(join(devices, PF, 'sriov_numvfs'), '0\n');
const sysfs = new PciSysfs(root);
const [EINVAL, EACCES, EBUSY] = [22, 13, 16];
const code = (call: () => unknown) => (thrownBy(call) as { code?: string }).code;

describe('SR-IOV in sysfs', () => {
  it('a PF without VFs, and a device that is no PF', () => {
    expect(sriovState(sysfs, PF)).toEqual({ totalVfs: 2, numVfs: 0, vfs: [] });
    expect(sriovState(sysfs, OTHER)).toBeNull();
    expect(physfnOf(sysfs, PF)).toBeNull();
  });

  it('writes sriov_numvfs after checking the count and the state', () => {
    expect(code(() => writeNumVfs(sysfs, PF, 3))).toBe(VfioErrorCode.OUT_OF_RANGE);
    expect(code(() => writeNumVfs(sysfs, OTHER, 1))).toBe(VfioErrorCode.UNSUPPORTED);
    writeNumVfs(sysfs, PF, 2);
    expect(readFileSync(join(devices, PF, 'sriov_numvfs'), 'utf8')).toBe('2');
  });

  it('lists the VFs in order and finds a VF its PF; enabling another count needs a disable first', () => {
    for (const [i, vf] of VFS.entries()) {
      mkdirSync(join(devices, vf));
      symlinkSync(join('..', vf), join(devices, PF, `virtfn${i}`));
      symlinkSync(join('..', PF), join(devices, vf, 'physfn'));
    }
    expect(sriovState(sysfs, PF)).toEqual({ totalVfs: 2, numVfs: 2, vfs: VFS });
    expect(physfnOf(sysfs, parsePciAddress(VFS[1]))).toBe(PF);
    expect(code(() => writeNumVfs(sysfs, PF, 1))).toBe(VfioErrorCode.INVALID_STATE);
    writeNumVfs(sysfs, PF, 0);
    expect(readFileSync(join(devices, PF, 'sriov_numvfs'), 'utf8')).toBe('0');
  });

  it('VF tokens are UUIDs, kept as lower-case text and their 16 bytes in text order', () => {
    const t = parseVfToken('BD8D9D2B-5A5F-4F5A-A211-F591514BA1F3', 'here');
    expect(t.text).toBe('bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3');
    expect(Buffer.from(t.bytes).toString('hex')).toBe('bd8d9d2b5a5f4f5aa211f591514ba1f3');
    expect(code(() => parseVfToken('bd8d9d2b', 'here'))).toBe(VfioErrorCode.INVALID_ARGUMENT);
    expect(code(() => parseVfToken(42, 'here'))).toBe(VfioErrorCode.INVALID_ARGUMENT);
  });
});

describe("vfio-pci's token refusals, explained", () => {
  const refusal = (errno: number, syscall = 'ioctl(VFIO_GROUP_GET_DEVICE_FD)') =>
    new SysError({ syscall, errno, target: 'x' });
  const token = parseVfToken(randomUUID(), 'here');

  it('EACCES on a VF: without a token, or with another one; on a PF: its VFs are open', () => {
    const vf = parsePciAddress(VFS[0]);
    const missing = explainVfTokenRefusal(refusal(EACCES), vf, undefined, sysfs) as SysError;
    expect(missing.code).toBe(VfioErrorCode.PERMISSION);
    expect(missing.message).toContain(`${vf} is a VF of ${PF}`);
    expect(missing.message).toContain(`no VF token was given: pass it, openDevice('${vf}', { vfToken })`);
    const wrong = explainVfTokenRefusal(refusal(EACCES), vf, token, sysfs) as SysError;
    expect(wrong.message).toContain(`the VF token ${token.text} is not that one`);
    const pf = explainVfTokenRefusal(refusal(EACCES, 'ioctl(VFIO_DEVICE_BIND_IOMMUFD)'), PF, undefined, sysfs);
    expect((pf as SysError).message).toContain(`${PF} has VFs in use`);
  });

  it('EINVAL with a token: a device that takes none, or a cdev bind that takes none', () => {
    const none = explainVfTokenRefusal(refusal(EINVAL), OTHER, token, sysfs) as SysError;
    expect(none.code).toBe(VfioErrorCode.INVALID_ARGUMENT);
    expect(none.message).toContain('open it without { vfToken }');
    const vf = parsePciAddress(VFS[0]);
    const bind = explainVfTokenRefusal(refusal(EINVAL, 'ioctl(VFIO_DEVICE_BIND_IOMMUFD)'), vf, token, sysfs);
    expect((bind as SysError).message).toContain('VFIO_DEVICE_BIND_FLAG_TOKEN');
    const other = refusal(EBUSY);
    expect(explainVfTokenRefusal(other, vf, token, sysfs)).toBe(other);
  });
});
