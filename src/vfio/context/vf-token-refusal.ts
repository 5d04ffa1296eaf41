/**
 * A device open that vfio-pci refused over its VF token, told in those terms. vfio-pci answers
 * EACCES when a VF (or a PF whose VFs are in use) is opened without the token its PF's user set,
 * or with another one, and EINVAL when a token is given for a device that takes none.
 */
import { SysError, VfioErrorCode } from '../../../structs/index.js';
import { physfnOf, type PciAddress, type PciSysfs } from '../../pci/index.js';
import type { VfToken } from '../device/vf-token.js';

const SET_IT =
  'the PF user sets it with pf.sriov.setVfToken(uuid); until then vfio-pci keeps a random one no one knows';

/** `e` explained when it is a token refusal of opening `addr`; otherwise `e` as it was. */
export function explainVfTokenRefusal(
  e: unknown,
  addr: PciAddress,
  token: VfToken | undefined,
  sysfs: PciSysfs,
): unknown {
  if (!(e instanceof SysError && /VFIO_GROUP_GET_DEVICE_FD|VFIO_DEVICE_BIND_IOMMUFD/.test(e.syscall))) return e;
  const pf = physfnOf(sysfs, addr);
  if (e.errnoName === 'EACCES') {
    const who = pf
      ? `${addr} is a VF of ${pf}, whose driver is vfio-pci, so it opens only for the holder of the PF's VF token`
      : `${addr} has VFs in use, so vfio-pci opens it only for the holder of their VF token`;
    const fix = token
      ? `the VF token ${token.text} is not that one: pass the token the PF's user set (${SET_IT})`
      : `no VF token was given: pass it, openDevice('${addr}', { vfToken }) (${SET_IT})`;
    return e.withHint(`${who}; ${fix}`, { code: VfioErrorCode.PERMISSION });
  }
  if (e.errnoName === 'EINVAL' && token && !pf)
    return e.withHint(
      `a VF token (${token.text}) was given for ${addr}, which is not a VF (and not a PF with VFs in use): open it without { vfToken }`,
      { code: VfioErrorCode.INVALID_ARGUMENT },
    );
  if (e.errnoName === 'EINVAL' && token && e.syscall.includes('BIND_IOMMUFD'))
    return e.withHint(
      `the kernel refused to bind VF ${addr} with a VF token: kernels before 6.17 take no token through the cdev (VFIO_DEVICE_BIND_FLAG_TOKEN); open it through the container instead ({ iommu: 'type1' })`,
    );
  return e;
}
