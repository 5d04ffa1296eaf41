// The command line's argument parsing (src/cli/args.ts): options and operands, numbers, widths.
import { describe, expect, it } from 'vitest';
import {
  parseCommandArgs,
  parseDeviceAddress,
  parseInteger,
  parseSmallInteger,
  parseValue,
  parseWidth,
  requireOperands,
} from '../../../src/cli/args.js';
import { UsageError } from '../../../structs/index.js';

describe('argument parsing', () => {
  it('takes a device as a PCI address, an mdev UUID (bare or mdev:) or vfio-user:PATH', () => {
    expect(parseDeviceAddress('00:03.0')).toBe('0000:00:03.0');
    const uuid = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';
    expect(parseDeviceAddress(uuid)).toBe(uuid);
    expect(parseDeviceAddress(`mdev:${uuid}`)).toBe(`mdev:${uuid}`);
    expect(parseDeviceAddress('vfio-user:/tmp/x.sock')).toBe('vfio-user:/tmp/x.sock');
    expect(() => parseDeviceAddress('not-a-device')).toThrow(/is not a PCI address/);
  });

  it('parses options and positionals, with short forms', () => {
    const opts = {
      width: { type: 'string' as const, short: 'w', description: '' },
      json: { type: 'boolean' as const, description: '' },
    };
    expect(parseCommandArgs('read', ['00:03.0', '0', '0x10', '-w', '64', '--json'], opts)).toEqual({
      positionals: ['00:03.0', '0', '0x10'],
      values: { width: '64', json: true },
    });
    expect(parseCommandArgs('read', ['--width=8', 'a'], opts).values.width).toBe('8');
    expect(parseCommandArgs('read', ['-h'], opts).values.help).toBe(true);
  });

  it('rejects unknown options and values given to flags, naming the command', () => {
    const opts = { json: { type: 'boolean' as const, description: '' } };
    expect(() => parseCommandArgs('list', ['--jsn'], opts)).toThrow(UsageError);
    expect(() => parseCommandArgs('list', ['--jsn'], opts)).toThrow(/Unknown option '--jsn'/);
    expect(() => parseCommandArgs('list', ['--json=yes'], opts)).toThrow(/--json/);
    try {
      parseCommandArgs('list', ['-x'], opts);
    } catch (e) {
      expect((e as UsageError).command).toBe('list');
    }
  });

  it('reads numbers in hex and decimal, 64-bit exact, and refuses the rest', () => {
    expect(parseInteger('0x10', 'OFFSET')).toBe(16n);
    expect(parseInteger('0XfF', 'OFFSET')).toBe(255n);
    expect(parseInteger('4096', 'OFFSET')).toBe(4096n);
    expect(parseInteger('0xffff_ffff_ffff_ffff', 'VALUE')).toBe(0xffff_ffff_ffff_ffffn);
    for (const bad of ['', '-1', '0x', '1.5', '12abc', 'ten', '0b101']) {
      expect(() => parseInteger(bad, 'OFFSET')).toThrow(
        /OFFSET must be a non-negative integer in hex \(0x10\) or decimal \(16\)/,
      );
    }
    expect(parseSmallInteger('5', 'BAR', 5)).toBe(5);
    expect(() => parseSmallInteger('6', 'BAR', 5)).toThrow(/BAR must be at most 5/);
  });

  it('checks widths and that values fit them', () => {
    expect(parseWidth(undefined)).toBe(32);
    expect(parseWidth('8')).toBe(8);
    expect(parseWidth('64')).toBe(64);
    expect(() => parseWidth('12')).toThrow(/--width must be 8, 16, 32, 64, got '12'/);
    expect(() => parseWidth('64', 32, [8, 16, 32])).toThrow(/--width must be 8, 16, 32/);
    expect(parseValue('0xff', 8)).toBe(0xffn);
    expect(() => parseValue('0x100', 8)).toThrow(/VALUE 0x100 does not fit in 8 bits \(largest 0xff\)/);
    expect(parseValue('0xffffffffffffffff', 64)).toBe(2n ** 64n - 1n);
  });

  it('counts operands', () => {
    expect(() => requireOperands('read', ['a'], ['ADDRESS', 'BAR', 'OFFSET'])).toThrow(/missing BAR and OFFSET/);
    expect(() => requireOperands('info', ['a', 'b'], ['ADDRESS'])).toThrow(/unexpected operand 'b'/);
    expect(() => requireOperands('config', ['a', '0', '1'], ['ADDRESS'], ['OFFSET', 'VALUE'])).not.toThrow();
  });
});
