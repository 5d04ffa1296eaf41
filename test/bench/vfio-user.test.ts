// bench/vfio-user.ts runs as `npm run bench:vfio-user -- --quick` says: a table of the four
// cases against models served by another process, each a positive figure, then one JSON line.
// Nothing here asserts a timing.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm run bench:vfio-user -- --quick', () => {
  it('prints a figure for each case and ends with JSON', () => {
    const r = spawnSync('npm', ['run', '--silent', 'bench:vfio-user', '--', '--quick'], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      rows: Array<{ case: string; vfioUser: string; local: string }>;
    };
    expect(out.rows.map((row) => row.case)).toEqual([
      'register read, a message round trip (edu ID)',
      'MSI from the model, write to wait() to ack',
      "DMA through edu's engine, 4000 B each way",
      'register read of a shared BAR, a load',
    ]);
    for (const row of out.rows) {
      expect(Number.parseFloat(row.vfioUser), row.case).toBeGreaterThan(0);
      expect(row.local).toBe('-'); // no --local: no device of the machine's own
    }
  });
});
