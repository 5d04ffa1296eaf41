// Runs every runnable JavaScript and TypeScript block of the documents that
// test/support/markdown-blocks.ts lists (the README, the pages under docs/, examples/README.md) in
// the guest, as a user would paste it into a file: `import ... from 'vfio-ts'` resolves to this
// checkout's built package (scripts/vm/test-matrix builds dist/ first) through a
// node_modules/vfio-ts link in a scratch project. TypeScript runs through tsx, JavaScript with
// plain node. The TypeScript example and the JavaScript blocks after it must print the same. A
// block marked `node>=N` runs on Node N and later; an older Node must refuse it as a SyntaxError.
// VFIO_TS_DOC_BLOCKS (a comma-separated list of documents) narrows the run to those documents:
// the matrix's rows for other Nodes run the README's alone.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { blockName, NODE_MAJOR, programBlocks, REPO, type CodeBlock } from '../support/markdown-blocks.js';
import { retryOnSegfault, runOnce } from '../support/run-script.js';
import { backend } from './backend.js';

const project = mkdtempSync(join(tmpdir(), 'vfio-readme-'));
mkdirSync(join(project, 'node_modules'));
// ESM, as a project of the user's would be, so that top-level await works in .ts files too.
writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
symlinkSync(REPO, join(project, 'node_modules', 'vfio-ts'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const tsx = pathToFileURL(createRequire(join(REPO, 'package.json')).resolve('tsx')).href;

const only = process.env.VFIO_TS_DOC_BLOCKS?.split(',').filter(Boolean);
/** The documents' blocks this run takes, all of them unless VFIO_TS_DOC_BLOCKS names some. */
const blocks = programBlocks().filter((b) => !only || only.includes(b.file));

// Blocks are named by their place in programBlocks(): two documents may have a block on the same line.
function run(b: CodeBlock, index: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(project, `block-${index}.${b.lang === 'ts' ? 'ts' : 'mjs'}`);
  writeFileSync(file, b.code);
  const args = b.lang === 'ts' ? ['--import', tsx, file] : [file];
  return retryOnSegfault(() => runOnce(process.execPath, args, { cwd: project, timeout: 60_000 }));
}

// Every run with an IOMMU (the no-IOMMU run leaves this file out): openDevice takes the run's
// backend, so the examples are shown to work through the container and through iommufd.
describe(`README blocks (${backend}${only ? `, ${only.join(' ')} only` : ''})`, () => {
  it('has the built package to import', () => {
    expect(existsSync(join(REPO, 'dist/src/index.js'))).toBe(true);
  });

  it('has blocks to run in every document it was given', () => {
    for (const file of only ?? []) expect(blocks.filter((b) => b.file === file).length, file).toBeGreaterThan(0);
    expect(blocks.length).toBeGreaterThan(0);
  });

  const printed = new Map<string, string>();
  for (const [index, b] of blocks.filter((x) => !x.fragment).entries()) {
    if (b.minNode !== undefined && NODE_MAJOR < b.minNode) {
      it(`refuses ${blockName(b)} on Node ${NODE_MAJOR}, as its node>=${b.minNode} says`, async () => {
        const r = await run(b, index);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/SyntaxError/);
        expect(r.stdout).toBe('');
      }, 90_000);
      continue;
    }
    it(`runs ${blockName(b)}`, async () => {
      const r = await run(b, index);
      expect(r.stderr.replace(/^.*ExperimentalWarning.*\n?|^\(Use `node --trace-warnings.*\n?/gm, '')).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).not.toBe('');
      printed.set(blockName(b), r.stdout);
    }, 90_000);
  }

  it('prints the same from each TypeScript example and the JavaScript blocks after it', () => {
    const runnable = blocks.filter((x) => !x.fragment);
    let compared = 0;
    runnable.forEach((b, i) => {
      if (b.lang !== 'ts') return;
      for (let j = i + 1; runnable[j]?.lang === 'js' && runnable[j].file === b.file; j++) {
        const twin = runnable[j];
        if (twin.minNode !== undefined && NODE_MAJOR < twin.minNode) continue;
        expect(printed.get(blockName(twin)), blockName(twin)).toBe(printed.get(blockName(b)));
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(0);
  });
});
