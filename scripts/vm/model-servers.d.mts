// Types of model-servers.mjs, for the tests that start a row's servers (test/rig/model-servers.test.ts).
export interface ModelServers {
  /** `--vfio-user SOCKET` for each model, for scripts/vm/run. */
  args: string[];
  /** Ends the servers; resolves to what went wrong on their side, or ''. */
  stop(): Promise<string>;
}
export function startModelServers(models: string[]): Promise<ModelServers>;
