/** One finding of `vfio doctor`: what was checked, what was found, and the fix when it is wrong. */

/**
 * `ok`: as VFIO needs it. `note`: worth knowing, nothing to do. `warn`: works, with a risk or a
 * limit named. `fail`: VFIO (or the device) cannot be used until the fix is made.
 */
export type CheckStatus = 'ok' | 'note' | 'warn' | 'fail';

export interface DoctorCheck {
  /** Stable name for scripts: `iommu`, `vfio`, `ways-in`, `driver`, ... */
  id: string;
  /** What was checked, for people: `IOMMU`, `VFIO modules`, ... */
  title: string;
  status: CheckStatus;
  /** What was found, in a sentence. */
  found: string;
  /** What to do, when the status is `warn` or `fail`. */
  fix?: string;
}

export const check = (id: string, title: string, status: CheckStatus, found: string, fix?: string): DoctorCheck => ({
  id,
  title,
  status,
  found,
  ...(fix ? { fix } : {}),
});
