// Types of matrix-rows.mjs, for the tests that read the rows (test/rig/run.test.ts).
export interface MatrixRow {
  name: string;
  arch: 'x86_64' | 'arm64';
  kernel: 'debian' | 'vfio';
  backend: 'type1' | 'iommufd' | 'noiommu';
  /** The Node version the row runs on. */
  node: string;
  /** scripts/vm/run's options. */
  rig: string[];
  /** Only these test files, or all but `exclude`. */
  files?: string[];
  exclude?: string[];
  /** Models test-matrix serves on the host for the row's boot (serve-model.ts), attached with --vfio-user. */
  serve?: string[];
  /** VFIO_TS_* variables for the guest's tests (scripts/vm/run passes them in). */
  env?: Record<string, string>;
  seconds: number;
}
export const NODE_CORE: string[];
export function matrixRows(machineNode?: string): MatrixRow[];
