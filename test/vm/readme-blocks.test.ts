// Runs every runnable JavaScript and TypeScript block of the documents that
// test/support/markdown-blocks.ts lists (the README, the pages under docs/, examples/README.md) in
// the guest, as a user would paste it into a file: `import ... from 'vfio-ts'` resolves to this
// checkout's built package (scripts/vm/test-matrix builds dist/ first) through a
// node_modules/vfio-ts link in a scratch project. TypeScript runs through tsx, JavaScript with
// plain node. The TypeScript example and the JavaScript blocks after it must print the same. A
// block marked `node>=N` runs on Node N and later; an older Node must refuse it as a SyntaxError.
// A block marked `server` (a vfio-user device model) is started and left serving, once it has
// printed its first line, while the blocks after it run; the next server block or the end of
// the file stops it. VFIO_TS_DOC_BLOCKS (a comma-separated list of documents) narrows the run
// to those documents: the matrix's rows for other Nodes run the README's alone.
import { spawn, type ChildProcess } from 'node:child_process';
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
function argsFor(b: CodeBlock, index: number): string[] {
  const file = join(project, `block-${index}.${b.lang === 'ts' ? 'ts' : 'mjs'}`);
  writeFileSync(file, b.code);
  return b.lang === 'ts' ? ['--import', tsx, file] : [file];
}

function run(b: CodeBlock, index: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = argsFor(b, index);
  return retryOnSegfault(() => runOnce(process.execPath, args, { cwd: project, timeout: 60_000 }));
}

/** The server block running now, if any. */
let serving: { child: ChildProcess; stderr: () => string } | undefined;

/** Stops the server block running now, if any; rejects if it had written to stderr. */
async function stopServing(): Promise<void> {
  const s = serving;
  serving = undefined;
  if (!s) return;
  const exited = new Promise((done) => s.child.once('exit', done));
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await exited;
  expect(s.stderr()).toBe('');
}

/** Starts a server block; resolves with its first line of output, once it is serving. */
function startServing(b: CodeBlock, index: number): Promise<string> {
  const child = spawn(process.execPath, argsFor(b, index), { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  serving = { child, stderr: () => err };
  return new Promise((ready, fail) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) ready(out);
    });
    child.once('exit', (code) => fail(new Error(`${blockName(b)} exited (${code}) before serving: ${err}`)));
  });
}
afterAll(stopServing);

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
    if (b.server) {
      it(`starts ${blockName(b)} and leaves it serving`, async () => {
        await stopServing();
        printed.set(blockName(b), await startServing(b, index));
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
