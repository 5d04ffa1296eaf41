// The errors page is what scripts/gen-errors-doc.ts writes from the code.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ERRORS_PAGE,
  readErrorCodes,
  renderErrorsDoc,
  renderTable,
  type ErrorCodes,
} from '../../scripts/gen-errors-doc.js';
import { REPO } from '../support/markdown-blocks.js';

describe('the errors page', () => {
  // The compiler reads the package's sources once for the whole block.
  let read: ErrorCodes;
  beforeAll(() => {
    read = readErrorCodes();
  }, 60_000);

  it('is what scripts/gen-errors-doc.ts writes from the code (npm run docs rewrites it)', () => {
    expect(readFileSync(join(REPO, ERRORS_PAGE), 'utf8')).toBe(renderErrorsDoc(read));
  });

  it('lists every code of VfioErrorCode with what it means', () => {
    const { codes, source } = read;
    expect(existsSync(join(REPO, source))).toBe(true);
    expect(codes.length).toBeGreaterThan(20);
    for (const c of codes) {
      expect(c.code, c.key).toBe(`ERR_VFIO_${c.key}`);
      expect(c.meaning, c.code).not.toBe('');
    }
  });

  it('adds a column for what to do once a code has a @fix block, and keeps cells on one line', () => {
    const table = renderTable([
      { key: 'A', code: 'ERR_VFIO_A', meaning: 'a | b' },
      { key: 'B', code: 'ERR_VFIO_B', meaning: 'c', fix: 'do this' },
    ]);
    expect(table.split('\n')).toEqual([
      '| code | meaning | what to do |',
      '| --- | --- | --- |',
      '| `ERR_VFIO_A` | a \\| b |  |',
      '| `ERR_VFIO_B` | c | do this |',
    ]);
  });
});
