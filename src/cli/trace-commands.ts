/**
 * `vfio trace -- COMMAND`: runs a program with every device it opens traced (through
 * `VFIO_TS_TRACE`, so the program needs no change); `vfio replay TRACE [ADDRESS]`: replays a
 * JSON-lines recording against a device, stopping at the first read that differs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { parseAddress, requireOperands } from './args.js';
import { IOMMU, SYSFS, withDevice, type Command } from './command.js';
import { UsageError, VfioError, VfioErrorCode } from '../../structs/index.js';

const FORMATS = ['text', 'jsonl', 'chrome'];

export const TRACE: Command = {
  name: 'trace',
  operands: '-- COMMAND [ARG...]',
  summary: 'run COMMAND with every device access it makes traced and decoded',
  details: [
    'Each BAR and config access (width, offset, value, decoded through the register map bound to the',
    'region), DMA mapping, interrupt wait and reset of every device COMMAND opens with vfio-ts.',
    'Formats: text (a line each, default), jsonl (JSON lines; what vfio replay reads), chrome (the Chrome',
    'trace event format: open it in ui.perfetto.dev). Without --output, text and jsonl go to stderr.',
    'Options go before --. The same from inside a program: VFIO_TS_TRACE=FORMAT[:FILE], or trace(dev) in',
    'the API and the REPL.',
  ].join('\n'),
  options: {
    format: { type: 'string', short: 'f', value: 'FORMAT', description: 'text, jsonl or chrome (default text)' },
    output: { type: 'string', short: 'o', value: 'FILE', description: 'write the trace to FILE' },
    device: { type: 'string', value: 'ADDRESS[,...]', description: 'trace only these devices' },
  },
  async run({ positionals, values }) {
    if (!positionals.length) throw new UsageError('missing COMMAND (after --)', 'trace');
    const format = (values.format as string | undefined) ?? 'text';
    if (!FORMATS.includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got '${format}'`, 'trace');
    const output = values.output as string | undefined;
    if (format === 'chrome' && !output)
      throw new UsageError('--format chrome needs --output FILE (a JSON file for Perfetto)', 'trace');
    const devices = (values.device as string | undefined)?.split(',').map((a) => parseAddress(a));
    const env: NodeJS.ProcessEnv = { ...process.env, VFIO_TS_TRACE: output ? `${format}:${output}` : format };
    if (devices) env.VFIO_TS_TRACE_DEVICES = devices.join(',');
    const [cmd, ...args] = positionals;
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: 'inherit', env });
      child.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          new VfioError(
            VfioErrorCode.INVALID_ARGUMENT,
            `vfio trace: cannot run '${cmd}' (${e.code ?? e.message}); give a program on the PATH or its path`,
          ),
        ),
      );
      child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  },
};

export const REPLAY: Command = {
  name: 'replay',
  operands: 'TRACE [ADDRESS]',
  summary: 'replay a recorded trace against a device, stopping at the first read that differs',
  details: [
    'TRACE is a JSON-lines trace (vfio trace --format jsonl). Writes are made again, reads compared;',
    'a run of reads of one register (a poll) waits for its last recorded value. ADDRESS defaults to the',
    'recorded device. The exit status is 1 at the first difference, printed with both values decoded.',
  ].join('\n'),
  options: {
    device: { type: 'string', value: 'ADDRESS', description: 'the recorded device to replay (default: the first)' },
    volatile: {
      type: 'string',
      value: 'REG[,...]',
      description: 'registers (or REGION@OFFSET) whose reads are not compared',
    },
    'poll-timeout': { type: 'string', value: 'MS', description: 'how long a poll may take (default 5000)' },
    iommu: IOMMU,
    sysfs: SYSFS,
  },
  async run({ positionals, values }, io) {
    requireOperands('replay', positionals, ['TRACE'], ['ADDRESS']);
    const { parseTrace, replay } = await import('../index.js');
    let text: string;
    try {
      text = readFileSync(positionals[0], 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${positionals[0]} (${(e as NodeJS.ErrnoException).code})`, 'replay');
    }
    const events = parseTrace(text);
    const recorded = (values.device as string | undefined) ?? events.find((e) => e.kind !== 'open')?.device;
    if (!recorded) throw new UsageError(`${positionals[0]} has no device events`, 'replay');
    const address = parseAddress(positionals[1] ?? recorded);
    const timeout = values['poll-timeout'] === undefined ? undefined : Number(values['poll-timeout']);
    if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 0))
      throw new UsageError(
        `--poll-timeout must be a whole number of ms, got '${values['poll-timeout'] as string}'`,
        'replay',
      );
    const volatile = Object.fromEntries(
      ((values.volatile as string | undefined)?.split(',') ?? []).filter(Boolean).map((r) => [r, 'any' as const]),
    );
    // Bus mastering stays off (withDevice): the recording turns it on where the program did.
    const done = await withDevice(address, values, (dev) =>
      replay(dev, events, { device: parseAddress(recorded), volatile, pollTimeoutMs: timeout }),
    );
    io.out(
      `replayed ${done.steps} steps (${done.accesses} accesses) of ${done.recordedDevice} on ${address}: no difference`,
    );
  },
};
