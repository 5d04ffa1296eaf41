// Types of host-nodes.mjs, for the tests that read what it leaves out (test/host/vm-rig.test.ts).
export const MACHINE_NODE_ONLY: string[];
export function main(argv: string[]): Promise<void>;
