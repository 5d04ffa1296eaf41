/** Runs the `vfio` command in-process (runCli) and captures what it prints: quick, no child process. */
import { runCli } from '../../src/cli/main.js';

export async function runCliCaptured(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
