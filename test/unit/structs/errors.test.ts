// Every error class the library throws lives in structs/errors.ts and is listed in ERROR_CLASSES:
// each has its own name and a code from VfioErrorCode, is recognised by isVfioError() and caught
// by `instanceof VfioError`, and keeps Node's RangeError / TypeError where it is one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../../../src/index.js';

const ROOT = join(import.meta.dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** One instance of each class, made as the library makes it. */
const samples: Record<string, () => Error> = {
  VfioError: () => new lib.VfioError(lib.VfioErrorCode.INVALID_STATE, 'm'),
  VfioRangeError: () => new lib.VfioRangeError(lib.VfioErrorCode.OUT_OF_RANGE, 'm'),
  VfioTypeError: () => new lib.VfioTypeError(lib.VfioErrorCode.INVALID_ARGUMENT, 'm'),
  SysError: () => new lib.SysError({ syscall: 'open', errno: 16, target: '/dev/vfio/7' }),
  CapChainError: () => new lib.CapChainError('m'),
  IrqWaitAbortedError: () => new lib.IrqWaitAbortedError('closed', 'device 0000:00:03.0'),
  RegisterMapError: () => new lib.RegisterMapError('m'),
  ReplayMismatchError: () => new lib.ReplayMismatchError('m', 1, {}, undefined),
  UsageError: () => new lib.UsageError('m', 'read'),
};

describe('error classes', () => {
  it('are every class listed, each with its name and a code of the list', () => {
    expect(lib.ERROR_CLASSES.map((c) => c.name).sort()).toEqual(Object.keys(samples).sort());
    const codes = new Set<string>(Object.values(lib.VfioErrorCode));
    for (const cls of lib.ERROR_CLASSES) {
      const e = samples[cls.name]();
      expect(e, cls.name).toBeInstanceOf(cls);
      expect(e.name, cls.name).toBe(cls.name);
      expect(String(e), cls.name).toMatch(new RegExp(`^${cls.name}: `));
      expect(codes.has((e as Error & { code?: string }).code ?? ''), cls.name).toBe(true);
      expect(lib.isVfioError(e), cls.name).toBe(true);
      expect(e instanceof lib.VfioError, cls.name).toBe(true);
    }
  });

  it('keep Node’s own kinds: a wrong value is a RangeError, a wrong type a TypeError', () => {
    expect(samples.VfioRangeError()).toBeInstanceOf(RangeError);
    expect(samples.VfioTypeError()).toBeInstanceOf(TypeError);
    expect(samples.SysError()).toBeInstanceOf(lib.SysError);
    expect(samples.VfioRangeError()).not.toBeInstanceOf(lib.SysError);
  });

  it('tell the library’s errors from any other', () => {
    for (const other of [
      new Error('x'),
      new RangeError('x'),
      Object.assign(new Error('y'), { code: 'ENOENT' }),
      'text',
      null,
    ])
      expect(other instanceof lib.VfioError || lib.isVfioError(other)).toBe(false);
  });

  it('carry what a failed system call was', () => {
    const e = new lib.SysError({ syscall: 'open', errno: 16, target: '/dev/vfio/7' });
    expect(e.code).toBe(lib.VfioErrorCode.GROUP_BUSY);
    expect([e.errno, e.errnoName, e.target]).toEqual([16, 'EBUSY', '/dev/vfio/7']);
    const told = e.withHint('close it in the other process', { code: lib.VfioErrorCode.DEVICE_BUSY });
    expect(told).toBeInstanceOf(lib.SysError);
    expect(told.message).toMatch(
      /^open on \/dev\/vfio\/7 failed: EBUSY \(errno 16, .+\)\. close it in the other process$/,
    );
    expect(told.code).toBe(lib.VfioErrorCode.DEVICE_BUSY);
  });

  it('code ENOMEM from a DMA mapping as the locked-memory limit, with the container and with iommufd', () => {
    const code = (syscall: string) => new lib.SysError({ syscall, errno: 12 }).code;
    expect(code('ioctl(VFIO_IOMMU_MAP_DMA)')).toBe(lib.VfioErrorCode.MEMLOCK);
    expect(code('ioctl(IOMMU_IOAS_MAP)')).toBe(lib.VfioErrorCode.MEMLOCK);
    expect(code('mlock')).toBe(lib.VfioErrorCode.MEMLOCK);
    expect(code('mmap')).toBe(lib.VfioErrorCode.NO_MEMORY);
  });

  it('are declared in structs/errors.ts only', () => {
    const elsewhere: string[] = [];
    for (const file of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'structs'))]) {
      if (relative(ROOT, file) === 'structs/errors.ts') continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/class \w+ extends \w*Error\b/.test(line))
            elsewhere.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(elsewhere).toEqual([]);
  });
});
