// The lint configuration catches what it is there for: an unused import and a line over the
// limit fail `npm run lint`. Whether the tree itself is clean is `npm run lint`'s own job (.ci/run
// runs it once, before the tests), not this file's.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const eslintBin = 'node_modules/eslint/bin/eslint.js';

function lintSource(source: string, filename: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [eslintBin, '--stdin', '--stdin-filename', filename], {
    input: source,
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('npm run lint', () => {
  it('fails on an unused import', () => {
    const r = lintSource("import { spawn } from 'node:child_process';\nexport const x = 1;\n", 'lint-probe.mjs');
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/'spawn' is defined but never used.*no-unused-vars/);
  });

  it('fails on a line over 120 columns', () => {
    const r = lintSource(`// ${'x'.repeat(130)}\nexport const x = 1;\n`, 'lint-probe.mjs');
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/This line has a length of 133\. Maximum allowed is 120.*max-len/);
  });
});
