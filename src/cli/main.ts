/**
 * The `vfio` command without the process around it: `runCli(argv, io)` parses the arguments,
 * runs one subcommand and resolves to the exit code. Output goes through `io`, so tests capture
 * it and nothing here calls `process.exit`. A subcommand loads what it needs when it runs, so
 * `vfio list` does not load the device, DMA and register-map code the others use.
 */
import { parseCommandArgs } from './args.js';
import { COMMANDS, processIo, type CliIo } from './commands.js';
import { isVfioError, UsageError } from '../../structs/index.js';

/** The usage text of one command. */
export function commandHelp(name: string): string {
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) throw new UsageError(`unknown command '${name}'`);
  const opts = Object.entries(c.options).map(([n, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${n}${o.value ? ` ${o.value}` : ''}`;
    return `  ${flag.padEnd(24)} ${o.description}`;
  });
  return [
    `usage: vfio ${c.name}${c.operands ? ` ${c.operands}` : ''} [options]`,
    '',
    `${c.summary[0].toUpperCase()}${c.summary.slice(1)}.`,
    ...(c.details ? [c.details] : []),
    ...(c.operands.includes('ADDRESS')
      ? ['ADDRESS is a PCI address, 0000:00:03.0 or 00:03.0. Numbers are hex (0x10) or decimal (16).']
      : []),
    '',
    'options:',
    ...opts,
    `  ${'-h, --help'.padEnd(24)} show this help`,
  ].join('\n');
}

/** The top-level usage text. */
export function mainHelp(): string {
  return [
    'usage: vfio COMMAND [ARGS] [options]',
    '',
    'Inspect and poke PCI devices through Linux VFIO (vfio-ts).',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.operands}`.padEnd(32)} ${c.summary}`),
    '',
    'vfio COMMAND --help shows the options of a command.',
  ].join('\n');
}

/** The message of any thrown value (SysError messages already name the call, errno and fix). */
function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * How the command prints what it caught: `error [ERR_VFIO_...]: message` for the library's errors,
 * so that a script can tell them apart and a user can look the code up in docs/errors.md;
 * a mistake on the command line (or anything without a code) as `error: message`.
 */
function errorLine(e: unknown): string {
  if (isVfioError(e) && !(e instanceof UsageError)) return `error [${e.code}]: ${errorMessage(e)}`;
  return `error: ${errorMessage(e)}`;
}

/**
 * Runs the `vfio` command line `argv` (without `node` and the script) and resolves to the exit
 * code: 0 on success (`vfio doctor`: 1 when a check failed), 1 on any error (printed on
 * `io.err` as `error [CODE]: <message>`, or as `error: <message>` for a mistake on the
 * command line).
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0]) {
      try {
        io.out(commandHelp(rest[0]));
      } catch (e) {
        io.err(`error: ${errorMessage(e)}\n${mainHelp()}`);
        return 1;
      }
      return 0;
    }
    if (name === undefined) io.err(mainHelp());
    else io.out(mainHelp());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`error: unknown command '${name}'\n\n${mainHelp()}`);
    return 1;
  }
  try {
    const args = parseCommandArgs(command.name, rest, command.options);
    if (args.values.help) {
      io.out(commandHelp(command.name));
      return 0;
    }
    return (await command.run(args, io)) ?? 0;
  } catch (e) {
    io.err(errorLine(e));
    if (e instanceof UsageError) io.err(`(vfio ${command.name} --help shows the usage)`);
    return 1;
  }
}
