// The documents' JavaScript and TypeScript blocks: each runs (test/vm/readme-blocks.test.ts
// runs them in the VM) or says why it cannot; each TypeScript example has a plain JavaScript
// twin that Node 20 parses as it is.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blockName, codeBlocks, DOCUMENTS, programBlocks } from '../support/markdown-blocks.js';

const dir = mkdtempSync(join(tmpdir(), 'vfio-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README code blocks', () => {
  const blocks = programBlocks();

  it('finds the examples', () => {
    expect(blocks.filter((b) => !b.fragment).length).toBeGreaterThanOrEqual(6);
  });

  it('marks a block that cannot run alone with its reason', () => {
    for (const b of blocks) if (b.fragment !== undefined) expect(b.fragment, blockName(b)).toMatch(/\w{4,}/);
  });

  it('gives every runnable TypeScript example a plain JavaScript twin right after it', () => {
    for (const file of DOCUMENTS) {
      const all = codeBlocks(file);
      all.forEach((b, i) => {
        if (b.lang !== 'ts' || b.fragment) return;
        const next = all[i + 1];
        expect(next?.lang, `${blockName(b)} has no js block after it`).toBe('js');
        expect(next.fragment, blockName(next)).toBeUndefined();
      });
    }
  });

  it('writes the JavaScript twins for Node 20 as they are: no using, devices closed in finally', () => {
    for (const b of blocks.filter((x) => x.lang === 'js')) {
      const file = join(dir, `block-${b.line}.mjs`);
      writeFileSync(file, b.code);
      // node --check parses with the running Node (20 on CI), without running anything.
      expect(() => execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' }), blockName(b)).not.toThrow();
      expect(b.code, blockName(b)).not.toMatch(/^\s*(await\s+)?using\s/m);
      if (/openDevice\(/.test(b.code)) expect(b.code, blockName(b)).toMatch(/finally\s*{[^}]*\.close\(\)/);
    }
  });
});
