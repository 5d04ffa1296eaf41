/** Runs a TypeScript file with node and tsx as a child process, the way a user runs a script. */
import { execFile } from 'node:child_process';

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * How long a script may take by default: node with tsx starts in 45-60 s in the arm64 guest
 * under TCG on a busy machine (seconds elsewhere), and the test's timeout (vitest.config.ts) is
 * above this.
 */
const SCRIPT_MS = 110_000;

/** Resolves with the exit code and output; rejects only when the child cannot run or times out. */
export function runScript(script: string, args: readonly string[] = [], timeoutMs = SCRIPT_MS): Promise<ScriptRun> {
  return runNode(['--import', 'tsx', script, ...args], timeoutMs);
}

/**
 * Runs compiled JavaScript (`dist/src/cli.js`, built by scripts/vm/test-matrix before the VM
 * boots): in the guest, tsx compiling the sources costs several seconds per process.
 */
export function runCompiled(script: string, args: readonly string[] = [], timeoutMs = SCRIPT_MS): Promise<ScriptRun> {
  return runNode([script, ...args], timeoutMs);
}

function runNode(argv: readonly string[], timeoutMs: number): Promise<ScriptRun> {
  return retryOnSegfault(() => runOnce(process.execPath, argv, { timeout: timeoutMs }));
}

/** Runs `file argv` once; resolves with its exit code and output, rejects if it did not exit. */
export function runOnce(
  file: string,
  argv: readonly string[],
  options: { timeout: number; cwd?: string },
): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    execFile(file, argv, { ...options, encoding: 'utf8' }, (err, stdout, stderr) => {
      // A spawn failure, a timeout or a signal; otherwise the script ran and exited with a code.
      if (err && typeof err.code !== 'number') return reject(new Error(err.message, { cause: err }));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/**
 * Runs `start` again, once, when node itself died of SIGSEGV. Under TCG (QEMU 7.2, -cpu max) a
 * node process in the guest very rarely crashes so (about one in several hundred, in any
 * script, with the same script passing before and after): that is the emulator, not the
 * script's result. A second crash, any exit code and any output still fail the test.
 */
export async function retryOnSegfault(start: () => Promise<ScriptRun>): Promise<ScriptRun> {
  try {
    return await start();
  } catch (e) {
    const signal = ((e as Error).cause as { signal?: string } | undefined)?.signal;
    if (signal !== 'SIGSEGV') throw e;
    process.stderr.write(`node died of SIGSEGV under the emulator; running it once more\n`);
    return start();
  }
}
