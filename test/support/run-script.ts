/** Runs a TypeScript file with node and tsx as a child process, the way a user runs a script. */
import { execFile } from 'node:child_process';

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Resolves with the exit code and output; rejects only when the child cannot run or times out. */
export function runScript(script: string, args: readonly string[] = [], timeoutMs = 55_000): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { encoding: 'utf8', timeout: timeoutMs },
      (err, stdout, stderr) => {
        // A spawn failure or a timeout; otherwise the script ran and exited with a code.
        if (err && typeof err.code !== 'number') return reject(new Error(err.message, { cause: err }));
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}
