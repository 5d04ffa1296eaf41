// The arguments of the matrix scripts (test-matrix, host-nodes): their own options before `--`,
// the rest passed on to every vitest they start.
import { parseArgs } from 'node:util';

/**
 * `argv` split at `--` and its first part parsed against `options`. A mistake goes to
 * `usage(reason)` with parseArgs' first sentence ("Unknown option '--x'", "Option '--only
 * <value>' argument missing"); `--list` or `--help` to `usage(null, 0)`.
 */
export function parseScriptArgs(argv, options, usage) {
  const dash = argv.indexOf('--');
  const [ours, extra] = dash < 0 ? [argv, []] : [argv.slice(0, dash), argv.slice(dash + 1)];
  let values;
  try {
    ({ values } = parseArgs({ args: ours, options, strict: true }));
  } catch (e) {
    usage(e.message.split('. ')[0]);
  }
  if (values.list || values.help) usage(null, 0);
  return { values, extra };
}
