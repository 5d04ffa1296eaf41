// The JavaScript and TypeScript blocks of the README, the pages under docs/ and the examples'
// README (DOCUMENTS): each runs (test/vm/readme-blocks.test.ts runs them in the VM) or says why it
// cannot; each TypeScript example has a plain JavaScript twin that every supported Node parses as
// it is, and a block marked `node>=N` parses on Node N and later and nowhere before.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  blockName,
  codeBlocks,
  DOCUMENTS,
  NODE_MAJOR,
  programBlocks,
  type CodeBlock,
} from '../support/markdown-blocks.js';

const dir = mkdtempSync(join(tmpdir(), 'vfio-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `node --check` of a block as an .mjs file: parsed by the running Node, nothing run. */
function check(b: CodeBlock, i: number): void {
  const file = join(dir, `block-${i}.mjs`);
  writeFileSync(file, b.code);
  execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' });
}

describe('documentation code blocks', () => {
  const blocks = programBlocks();

  it('reads the README, every page under docs/ and the examples README', () => {
    expect(DOCUMENTS).toContain('README.md');
    expect(DOCUMENTS).toContain('examples/README.md');
    expect(DOCUMENTS).toContain('docs/errors.md');
    expect(DOCUMENTS.filter((f) => f.startsWith('docs/guide/')).length).toBeGreaterThan(0);
  });

  it('finds the examples', () => {
    expect(blocks.filter((b) => !b.fragment).length).toBeGreaterThanOrEqual(6);
    expect(blocks.some((b) => b.file.startsWith('docs/') && !b.fragment)).toBe(true);
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
        expect(next.minNode, `${blockName(next)}: the twin right after runs on every Node`).toBeUndefined();
        expect(next.server, `${blockName(next)}: the twin of a server block serves too`).toBe(b.server);
      });
    }
  });

  it('writes the JavaScript twins for every Node as they are: no using, devices closed in finally', () => {
    for (const [i, b] of blocks.entries()) {
      if (b.lang !== 'js' || b.minNode !== undefined) continue;
      expect(() => check(b, i), blockName(b)).not.toThrow();
      expect(b.code, blockName(b)).not.toMatch(/^\s*(await\s+)?using\s/m);
      if (/openDevice\(/.test(b.code)) expect(b.code, blockName(b)).toMatch(/finally\s*{[^}]*\.close\(\)/);
    }
  });

  it(`parses a block marked node>=N on Node N and later only (this is Node ${NODE_MAJOR})`, () => {
    const marked = blocks.filter((b) => b.minNode !== undefined);
    expect(marked.length, 'the README shows plain JavaScript with using').toBeGreaterThan(0);
    for (const [i, b] of blocks.entries()) {
      if (b.minNode === undefined) continue;
      expect(b.lang, blockName(b)).toBe('js');
      expect(b.code, `${blockName(b)}: what needs a newer Node`).toMatch(/^\s*(await\s+)?using\s/m);
      if (NODE_MAJOR >= b.minNode) expect(() => check(b, i), blockName(b)).not.toThrow();
      else
        expect(() => check(b, i), `${blockName(b)} parses on Node ${NODE_MAJOR}: no need to mark it`).toThrow(
          /SyntaxError/,
        );
    }
  });
});
