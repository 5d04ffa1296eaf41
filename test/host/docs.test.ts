// The documentation as shipped: the errors page is what scripts/gen-errors-doc.ts writes from the
// code, the README stays an entry page, and every relative link leads somewhere.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ERRORS_PAGE,
  readErrorCodes,
  renderErrorsDoc,
  renderTable,
  type ErrorCodes,
} from '../../scripts/gen-errors-doc.js';
import { DOCUMENTS, REPO } from '../support/markdown-blocks.js';

/**
 * The Markdown that ships: the documents with code blocks and the pages beside them
 * (scripts/vm/README.md is read with the rest of scripts/).
 */
const PAGES = [...DOCUMENTS, 'bench/README.md', 'CHANGELOG.md'];

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

describe('the README', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

  it('is an entry page of at most 250 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('keeps the quick start', () => {
    for (const command of ['npm install && scripts/vm/setup', 'npm test', 'npm run demo'])
      expect(readme).toContain(command);
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings, numbered as GitHub numbers repeats. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(join(REPO, file), 'utf8').split('\n')) {
    if (/^```/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = anchor(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('links between the pages', () => {
  it('lead to files that exist, and to headings that exist', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(join(REPO, page), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const [path, hash] = target.split('#');
        const file = path === '' ? page : relative(REPO, join(REPO, dirname(page), path));
        // The API reference is built by npm run docs, not committed.
        if (file.startsWith('docs/api/')) continue;
        if (!existsSync(join(REPO, file))) {
          broken.push(`${page}: ${target} (no ${file})`);
          continue;
        }
        if (hash && file.endsWith('.md') && statSync(join(REPO, file)).isFile() && !anchors(file).has(hash))
          broken.push(`${page}: ${target} (no heading #${hash} in ${file})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('point to the API reference where npm run docs builds it', () => {
    const config = JSON.parse(readFileSync(join(REPO, 'typedoc.json'), 'utf8')) as { out: string };
    expect(config.out).toBe('docs/api');
    for (const page of ['README.md', 'docs/README.md'])
      expect(readFileSync(join(REPO, page), 'utf8'), page).toMatch(/\]\((?:docs\/)?api\/index\.html\)/);
  });
});
