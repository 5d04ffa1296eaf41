/**
 * The subcommands of `vfio`, in the order the help lists them; here those that open a device
 * (machine-commands.ts has the others). Each `run` imports the modules of its command when it
 * runs (the library's entry, register maps, the REPL), so a command loads only what it uses.
 */
import type { IommuChoice } from '../index.js';
import { parseSmallInteger, parseValue, parseWidth, requireOperands, type OptionSpec } from './args.js';
import { IOMMU, JSON_OPT, SYSFS, VF_TOKEN, WIDTH, withDevice, type Command } from './command.js';
import { toJson } from './format.js';
import { BIND, DOCTOR, LIST, UNBIND } from './machine-commands.js';
import { REPLAY, TRACE } from './trace-commands.js';
import { UsageError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

export { processIo, type CliIo, type Command } from './command.js';

/** `--map NAME` of `vfio read` and `vfio write`. */
const MAP_OPTION: OptionSpec = {
  type: 'string',
  short: 'm',
  value: 'NAME',
  description: 'a register map (e1000e, nvme, or a .json, IP-XACT or SVD file): registers by name',
};

/** What `--help` says about `--map`. */
const MAP_HELP = {
  read: [
    'With --map: vfio read ADDRESS --map NAME [REGISTER[.FIELD]...] prints each register decoded',
    '(STATUS = 0x00080783 { FD: 1, LU: 1, ... }) or the field; without REGISTER, all it may read safely.',
  ].join('\n'),
  write: [
    'With --map: vfio write ADDRESS --map NAME REGISTER VALUE writes VALUE; REGISTER FIELD=VALUE...',
    'sets those fields (a label or a number each): one read and one write, refused where reading has',
    'side effects; a write-only register is written from its reset value.',
  ].join('\n'),
};

function parseBar(text: string): number {
  return parseSmallInteger(text, 'BAR', 5);
}

/** Every subcommand, in the order the help lists them. */
export const COMMANDS: Command[] = [
  LIST,
  DOCTOR,
  {
    name: 'info',
    operands: 'ADDRESS',
    summary: 'show regions, irqs, capabilities, BARs and the IOMMU of a device bound to vfio-pci',
    options: { json: JSON_OPT, iommu: IOMMU, sysfs: SYSFS, 'vf-token': VF_TOKEN },
    async run({ positionals, values }, io) {
      requireOperands('info', positionals, ['ADDRESS']);
      const { deviceReport, formatDeviceReport } = await import('./info.js');
      const report = await withDevice(positionals[0], values, deviceReport);
      io.out(values.json ? toJson(report) : formatDeviceReport(report));
    },
  },
  {
    name: 'read',
    operands: 'ADDRESS BAR OFFSET',
    summary: 'read registers of a BAR',
    details: `One value prints alone (0x010000ed); with --count, one "offset: value" line each.\n${MAP_HELP.read}`,
    options: {
      width: WIDTH,
      count: { type: 'string', short: 'n', value: 'N', description: 'read N consecutive registers (default 1)' },
      map: MAP_OPTION,
      iommu: IOMMU,
      sysfs: SYSFS,
    },
    async run({ positionals, values }, io) {
      const { readMapped, readRegisters } = await import('./access.js');
      if (typeof values.map === 'string') {
        requireOperands('read', positionals.slice(0, 1), ['ADDRESS']);
        return io.out(await withDevice(positionals[0], values, readMapped(values.map, positionals.slice(1))));
      }
      requireOperands('read', positionals, ['ADDRESS', 'BAR', 'OFFSET']);
      const bar = parseBar(positionals[1]);
      const offset = parseSmallInteger(positionals[2], 'OFFSET');
      const width = parseWidth(values.width);
      const count = values.count === undefined ? 1 : parseSmallInteger(values.count as string, '--count', 1 << 20);
      if (count < 1) throw new UsageError('--count must be at least 1', 'read');
      io.out(await withDevice(positionals[0], values, (dev) => readRegisters(dev.bar(bar), offset, width, count)));
    },
  },
  {
    name: 'write',
    operands: 'ADDRESS BAR OFFSET VALUE',
    summary: 'write a register of a BAR',
    details: MAP_HELP.write,
    options: { width: WIDTH, map: MAP_OPTION, iommu: IOMMU, sysfs: SYSFS },
    async run({ positionals, values }, io) {
      const { formatValue, writeMapped, writeRegister } = await import('./access.js');
      if (typeof values.map === 'string') {
        requireOperands('write', positionals.slice(0, 3), ['ADDRESS', 'REGISTER', 'VALUE']);
        return io.out(await withDevice(positionals[0], values, writeMapped(values.map, positionals.slice(1))));
      }
      requireOperands('write', positionals, ['ADDRESS', 'BAR', 'OFFSET', 'VALUE']);
      const bar = parseBar(positionals[1]);
      const offset = parseSmallInteger(positionals[2], 'OFFSET');
      const width = parseWidth(values.width);
      const value = parseValue(positionals[3], width);
      await withDevice(positionals[0], values, (dev) => writeRegister(dev.bar(bar), offset, width, value));
      io.out(`BAR${bar}+${hex(offset)} <- ${formatValue(value, width)}`);
    },
  },
  {
    name: 'config',
    operands: 'ADDRESS [OFFSET [VALUE]]',
    summary: 'dump config space, or read (write) one value',
    details: 'Without OFFSET: a hex dump of the first 256 bytes (--all: the whole config region) like lspci -xxx.',
    options: {
      width: { ...WIDTH, description: 'access width for OFFSET: 8, 16 or 32 (default 32)' },
      all: { type: 'boolean', description: 'dump the extended config space too (4 KiB on PCIe)' },
      iommu: IOMMU,
      sysfs: SYSFS,
    },
    async run({ positionals, values }, io) {
      requireOperands('config', positionals, ['ADDRESS'], ['OFFSET', 'VALUE']);
      const { dumpConfig, formatValue, readConfig, writeConfig } = await import('./access.js');
      const width = parseWidth(values.width, 32, [8, 16, 32]) as 8 | 16 | 32;
      const offset = positionals[1] === undefined ? undefined : parseSmallInteger(positionals[1], 'OFFSET', 0xfff);
      const value = positionals[2] === undefined ? undefined : parseValue(positionals[2], width);
      io.out(
        await withDevice(positionals[0], values, (dev) => {
          if (offset === undefined) return dumpConfig(dev.config, values.all ? dev.config.size : 256);
          if (value === undefined) return formatValue(BigInt(readConfig(dev.config, offset, width)), width);
          writeConfig(dev.config, offset, width, Number(value));
          return `config+${hex(offset)} <- ${formatValue(value, width)}`;
        }),
      );
    },
  },
  {
    name: 'repl',
    operands: '[ADDRESS]',
    summary: 'the Node REPL with vfio-ts in scope and, given ADDRESS, the device opened as dev',
    details: [
      'Its implemented BARs are bar0, bar1, ... (dev.bar(n)); bus mastering is on, for DMA and MSI.',
      'Helpers: hexdump(x, offset?, length?), decodeConfig(dev), hex(n), sleep(ms); .help lists them.',
      'Top-level await works. Piped input runs line by line, each after the previous one settled,',
      'without prompts; the exit status is then 1 if a line threw. .exit or Ctrl-D closes the device.',
    ].join('\n'),
    options: { iommu: IOMMU },
    async run({ positionals, values }) {
      requireOperands('repl', positionals, [], ['ADDRESS']);
      const { startRepl } = await import('./repl.js');
      const iommu = values.iommu as IommuChoice | undefined;
      startRepl({ ...(positionals[0] === undefined ? {} : { address: positionals[0] }), ...(iommu ? { iommu } : {}) });
    },
  },
  TRACE,
  REPLAY,
  BIND,
  UNBIND,
];
