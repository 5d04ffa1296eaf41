// Types of build.mjs, for the benchmark that builds the package to measure its start-up.
/** The package's entry points (sources), as `exports` and `bin` name them once built. */
export const ENTRIES: string[];
/** Builds the package into `outdir` (default dist/), emptied first. */
export function buildPackage(outdir?: string): Promise<void>;
