// The documentation as shipped: the errors page is what scripts/gen-errors-doc.ts writes from the
// code, the README stays an entry page, every relative link leads somewhere, and nothing that
// ships speaks of how or when the work on it was done.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/** Trees whose comments and messages ship with the project. */
const SOURCE_TREES = ['src', 'structs', 'bench', 'examples', 'scripts'];

/**
 * Phrases that tell of the work rather than of the project: which session, run or issue a change
 * came from, who made it, what it replaced. Case-insensitive.
 */
const DIARY_PHRASES: RegExp[] = [
  /\b(?:this|last|previous|earlier|next|that) session\b/i,
  /\bthe session's/i,
  /\bthe issue's/i,
  /\bissue \d+/i,
  /\bhelper engineers?\b/i,
  /\bin this run we\b/i,
  /\bthe C seed\b/i,
  /\b(?:this|that|the last|the previous) round of work\b/i,
];

function files(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : files(path);
    return e.isFile() ? [path] : [];
  });
}

/** `text` is text, not a binary file: no NUL byte. */
const isText = (text: string): boolean => !text.includes('\0');

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

describe('what ships', () => {
  it('speaks of the project as it is, not of how or when the work was done', () => {
    const hits: string[] = [];
    const scanned = [...PAGES, ...SOURCE_TREES.flatMap(files)];
    for (const file of new Set(scanned)) {
      const text = readFileSync(join(REPO, file), 'utf8');
      if (!isText(text)) continue;
      text.split('\n').forEach((line, i) => {
        for (const phrase of DIARY_PHRASES) if (phrase.test(line)) hits.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });

  it('finds such phrases where they are', () => {
    const found = (line: string): boolean => DIARY_PHRASES.some((p) => p.test(line));
    expect(found("Before this session's changes the line gave 8.41 us")).toBe(true);
    expect(found("Of the issue's targets, the accessor is met")).toBe(true);
    expect(found('as the C seed did')).toBe(true);
    expect(found('This Session (issue 10)')).toBe(true);
    expect(found('a REPL session ends with Ctrl-D')).toBe(false);
    expect(found('the ioctl the library issues')).toBe(false);
  });
});
