// Types of paths.mjs, for the tests that find what the rig built (test/repo/c-layout.ts).
export const REPO: string;
export const VM_CACHE: string;
export const USER_CACHE: string;
export const KERNEL_FRAGMENT: string;
export function kernelFragmentHash(): string;
export function vfioKernelDir(): string | null;
