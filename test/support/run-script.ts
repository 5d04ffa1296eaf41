/** Runs a TypeScript file with node and tsx as a child process, the way a user runs a script. */
import { execFile } from 'node:child_process';

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Resolves with the exit code and output; rejects only when the child cannot run or times out. */
export function runScript(script: string, args: readonly string[] = [], timeoutMs = 55_000): Promise<ScriptRun> {
  return runNode(['--import', 'tsx', script, ...args], timeoutMs);
}

/**
 * Runs compiled JavaScript (`dist/src/cli.js`, built by scripts/vm/test-matrix before the VM
 * boots): in the guest, tsx compiling the sources costs several seconds per process.
 */
export function runCompiled(script: string, args: readonly string[] = [], timeoutMs = 55_000): Promise<ScriptRun> {
  return runNode([script, ...args], timeoutMs);
}

function runNode(argv: readonly string[], timeoutMs: number): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      // A spawn failure or a timeout; otherwise the script ran and exited with a code.
      if (err && typeof err.code !== 'number') return reject(new Error(err.message, { cause: err }));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}
