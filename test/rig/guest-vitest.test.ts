// scripts/vm/guest-vitest.mjs, on the host with a small suite of its own: when the vitest process
// dies of SIGSEGV (under TCG node rarely does), the files that had not ended run once more; a
// second crash, or a file that failed before the crash, still fails.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const WRAPPER = join(import.meta.dirname, '..', '..', 'scripts', 'vm', 'guest-vitest.mjs');

// Files run in name order, in one worker, as the vm project's do.
const CONFIG = `
class ByName {
  async shard(files) { return files; }
  async sort(files) { return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId)); }
}
export default {
  test: { include: ['*.test.mjs'], globals: true, isolate: false, maxWorkers: 1, fileParallelism: false,
          sequence: { sequencer: ByName } },
};
`;

/** A test file that notes each run of it in runs.log, then does `body`. */
const testFile = (name: string, body: string) => `
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
it('${name}', () => {
  appendFileSync(${JSON.stringify('RUNS')}, '${name}\\n');
  ${body}
});
`;

// Kills the vitest process (the worker's parent) as the emulator's crash does, on every run or
// only the first.
const crash = (once: boolean) => `
  if (!${once} || !existsSync('MARK')) {
    writeFileSync('MARK', '');
    process.kill(process.ppid, 'SIGSEGV');
    return new Promise((resolve) => setTimeout(resolve, 10_000));
  }
`;

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function suite(files: Record<string, string>, args: string[] = []) {
  dir = mkdtempSync(join(tmpdir(), 'vfiots-guest-vitest-'));
  writeFileSync(join(dir, 'vitest.config.mjs'), CONFIG);
  for (const [name, body] of Object.entries(files))
    writeFileSync(
      join(dir, `${name}.test.mjs`),
      testFile(name, body).replaceAll('RUNS', join(dir, 'runs.log')).replaceAll('MARK', join(dir, 'crashed')),
    );
  const r = spawnSync(process.execPath, [WRAPPER, '--config', join(dir, 'vitest.config.mjs'), '--root', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const runs = readFileSync(join(dir, 'runs.log'), 'utf8').split('\n').filter(Boolean);
  return { code: r.status, out: r.stdout + r.stderr, runs };
}

describe('scripts/vm/guest-vitest.mjs', () => {
  it('runs the files that had not ended once more after vitest dies of SIGSEGV, and passes', () => {
    const r = suite({ a: 'expect(1).toBe(1);', b: crash(true), c: 'expect(3).toBe(3);' });
    expect(r.out).toContain('vitest died of SIGSEGV under the emulator after 1 of 3 test files');
    expect(r.out).toContain('running the 2 that had not ended once more');
    // a ended before the crash and is not run again; b crashed and runs again; c runs once.
    expect(r.runs).toEqual(['a', 'b', 'b', 'c']);
    expect(r.code, r.out).toBe(0);
  });

  it('keeps to the files named on the command line, minus those that ended', () => {
    const files = { a: 'expect(1).toBe(1);', b: crash(true), c: 'expect(3).toBe(3);', d: 'expect(4).toBe(4);' };
    const r = suite(files, ['a.test.mjs', 'b.test.mjs', 'c.test.mjs']);
    expect(r.out).toContain('after 1 of 3 test files');
    expect(r.runs).toEqual(['a', 'b', 'b', 'c']);
    expect(r.code, r.out).toBe(0);
  });

  it('fails with 139 when vitest dies again', () => {
    const r = suite({ a: 'expect(1).toBe(1);', b: crash(false) });
    expect(r.runs).toEqual(['a', 'b', 'b']);
    expect(r.code, r.out).toBe(139);
  });

  it('fails when a file failed before the crash, though the second run passes', () => {
    const r = suite({ a: 'expect(1).toBe(2);', b: crash(true), c: 'expect(3).toBe(3);' });
    expect(r.runs).toEqual(['a', 'b', 'b', 'c']);
    expect(r.out).toMatch(/Tests +2 passed/);
    expect(r.code, r.out).toBe(1);
  });

  it('passes on the exit code of a run with no crash, a failing one too', () => {
    expect(suite({ a: 'expect(1).toBe(1);' }).code).toBe(0);
    const failing = suite({ a: 'expect(1).toBe(2);' });
    expect(failing.out).not.toContain('SIGSEGV');
    expect(failing.code).toBe(1);
  });
});
