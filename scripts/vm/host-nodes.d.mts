// Types of host-nodes.mjs, for the tests that read what it leaves out (test/rig/run.test.ts).
export const MACHINE_NODE_ONLY: string[];
export function main(argv: string[]): Promise<void>;
