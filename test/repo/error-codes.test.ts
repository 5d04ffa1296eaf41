// The error codes are API: this pins the list (a rename or a removal must change this test, and
// is a breaking change), checks that the README lists each, and that no code in src/ or structs/
// throws an error without one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';

const PINNED = [
  'ERR_VFIO_ABORTED',
  'ERR_VFIO_CLOSED',
  'ERR_VFIO_DEVICE_BUSY',
  'ERR_VFIO_DEVICE_REMOVED',
  'ERR_VFIO_DISCONNECTED',
  'ERR_VFIO_DMA_LIMIT',
  'ERR_VFIO_GROUP_BUSY',
  'ERR_VFIO_GROUP_NOT_VIABLE',
  'ERR_VFIO_HANDOFF',
  'ERR_VFIO_INTERNAL',
  'ERR_VFIO_INVALID_ADDRESS',
  'ERR_VFIO_INVALID_ARGUMENT',
  'ERR_VFIO_INVALID_STATE',
  'ERR_VFIO_IOVA_EXHAUSTED',
  'ERR_VFIO_IOVA_UNAVAILABLE',
  'ERR_VFIO_MALFORMED',
  'ERR_VFIO_MEMLOCK',
  'ERR_VFIO_MISALIGNED',
  'ERR_VFIO_NOT_CONTIGUOUS',
  'ERR_VFIO_NOT_VFIO_BOUND',
  'ERR_VFIO_NO_DEVICE',
  'ERR_VFIO_NO_INSTANCES',
  'ERR_VFIO_NO_IOMMU',
  'ERR_VFIO_NO_MEMORY',
  'ERR_VFIO_OUT_OF_RANGE',
  'ERR_VFIO_PERMISSION',
  'ERR_VFIO_PROTOCOL',
  'ERR_VFIO_READ_ONLY',
  'ERR_VFIO_REGISTER_MAP',
  'ERR_VFIO_REPLAY_MISMATCH',
  'ERR_VFIO_SYSCALL',
  'ERR_VFIO_UNAVAILABLE',
  'ERR_VFIO_UNSUPPORTED',
  'ERR_VFIO_USAGE',
  'ERR_VFIO_WRITE_ONLY',
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('error codes', () => {
  it('are the pinned list, each under its own name without the prefix', () => {
    expect(Object.values(lib.VfioErrorCode).sort()).toEqual(PINNED);
    for (const [key, code] of Object.entries(lib.VfioErrorCode)) expect(code).toBe(`ERR_VFIO_${key}`);
  });

  it('are each listed in the README with what it means', () => {
    const readme = readFileSync('docs/errors.md', 'utf8');
    for (const code of PINNED) expect(readme, code).toMatch(new RegExp(`^\\| \`${code}\` \\| \\S.+\\|$`, 'm'));
  });

  it('are carried by every error src/ and structs/ throw: no bare Error, RangeError or TypeError', () => {
    const bare: string[] = [];
    for (const file of [...sources('src'), ...sources('structs')]) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/new (Error|RangeError|TypeError)\(/.test(line)) bare.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(bare).toEqual([]);
  });

  it('keep instanceof RangeError/TypeError and the class name in String(e)', () => {
    const e = new lib.VfioRangeError(lib.VfioErrorCode.OUT_OF_RANGE, 'x');
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toBeInstanceOf(lib.VfioError);
    expect(String(e)).toBe('VfioRangeError: x');
    expect(lib.isVfioError(e)).toBe(true);
    expect(lib.isVfioError(Object.assign(new Error('y'), { code: 'ENOENT' }))).toBe(false);
    let parsed: unknown;
    try {
      lib.parsePciAddress('nonsense');
    } catch (err) {
      parsed = err;
    }
    expect((parsed as { code: string }).code).toBe('ERR_VFIO_INVALID_ADDRESS');
  });
});
