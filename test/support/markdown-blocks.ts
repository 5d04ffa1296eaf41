/**
 * The code blocks of the project's Markdown documents, for the test that runs them. A block's
 * info string is its language (`ts` or `js`), optionally followed by `fragment: REASON` for a
 * block that is part of a larger program and cannot run alone, by `node>=N` for a block that
 * needs Node N or later (plain JavaScript with `using`: Node 24), or by `server` for a program
 * that serves until stopped (a vfio-user device model): it runs in the background, from its
 * first line of output on, while the blocks after it run, until the next server block or the end.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CodeBlock {
  /** The document, relative to the repository (`README.md`). */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** Why the block does not run alone; undefined for a runnable block. */
  fragment?: string;
  /** The oldest Node major that runs the block (`node>=24`); undefined for every Node. */
  minNode?: number;
  /** A program that serves until stopped: run in the background for the blocks after it. */
  server?: boolean;
  code: string;
}

export const REPO = join(import.meta.dirname, '..', '..');

/** Every Markdown page under docs/ (the API reference that `npm run docs` builds left out), sorted. */
function docsPages(): string[] {
  return readdirSync(join(REPO, 'docs'), { recursive: true, encoding: 'utf8' })
    .map((p) => `docs/${p}`)
    .filter((p) => p.endsWith('.md') && !p.startsWith('docs/api/'))
    .sort();
}

/**
 * The documents whose JavaScript and TypeScript blocks must run: the README, every page under
 * docs/ (found on disk, so a new page is never left out) and the examples' README.
 */
export const DOCUMENTS = ['README.md', ...docsPages(), 'examples/README.md'];

/** Every fenced block of `file` (relative to the repository). */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(join(REPO, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    const fragment = /^fragment:\s*(.*)$/.exec(open[2]);
    const minNode = /^node>=(\d+)$/.exec(open[2].trim());
    blocks.push({
      file,
      line: start + 1,
      lang: open[1],
      ...(fragment ? { fragment: fragment[1].trim() } : {}),
      ...(minNode ? { minNode: Number(minNode[1]) } : {}),
      ...(open[2].trim() === 'server' ? { server: true } : {}),
      code: `${body.join('\n')}\n`,
    });
  }
  return blocks;
}

/** The JavaScript and TypeScript blocks of every document. */
export function programBlocks(): CodeBlock[] {
  return DOCUMENTS.flatMap(codeBlocks).filter((b) => b.lang === 'ts' || b.lang === 'js');
}

/** The major version of the Node running this. */
export const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** `README.md:13 (ts)`: how a test names a block. */
export const blockName = (b: CodeBlock): string => `${b.file}:${b.line} (${b.lang})`;
