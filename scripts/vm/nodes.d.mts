// Types of nodes.mjs, for the tests that read the pins (test/rig/run.test.ts).
export interface PinnedNode {
  /** Exact: MAJOR.MINOR.PATCH. */
  version: string;
  /** The npm tarball's integrity, `sha512-...`. */
  integrity: string;
}
export const NODES: PinnedNode[];
export const NODE_PACKAGE: string;
export const NODE_CACHE: string;
export function major(version: string): number;
export function nodeBin(version: string, cache?: string): string;
export function findNode(name: string): PinnedNode | undefined;
export function otherNodes(version?: string): PinnedNode[];
export function fetchedNode(n: PinnedNode, cache?: string): string | null;
export function fetchNode(n: PinnedNode, options?: { cache?: string; log?: (msg: string) => void }): string;
