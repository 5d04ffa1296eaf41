// Runs every runnable JavaScript and TypeScript block of README.md and examples/README.md in
// the guest, as a user would paste it into a file: `import ... from 'vfio-ts'` resolves to this
// checkout's built package (scripts/vm/test-matrix builds dist/ first) through a
// node_modules/vfio-ts link in a scratch project. TypeScript runs through tsx, JavaScript with
// plain node. The TypeScript example and its JavaScript twin must print the same.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { blockName, programBlocks, REPO, type CodeBlock } from '../support/markdown-blocks.js';
import { retryOnSegfault, runOnce } from '../support/run-script.js';
import { backend } from './backend.js';

const project = mkdtempSync(join(tmpdir(), 'vfio-readme-'));
mkdirSync(join(project, 'node_modules'));
// ESM, as a project of the user's would be, so that top-level await works in .ts files too.
writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
symlinkSync(REPO, join(project, 'node_modules', 'vfio-ts'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const tsx = pathToFileURL(createRequire(join(REPO, 'package.json')).resolve('tsx')).href;

function run(b: CodeBlock): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(project, `block-${b.line}.${b.lang === 'ts' ? 'ts' : 'mjs'}`);
  writeFileSync(file, b.code);
  const args = b.lang === 'ts' ? ['--import', tsx, file] : [file];
  return retryOnSegfault(() => runOnce(process.execPath, args, { cwd: project, timeout: 60_000 }));
}

// Every run with an IOMMU (the no-IOMMU run leaves this file out): openDevice takes the run's
// backend, so the examples are shown to work through the container and through iommufd.
describe(`README blocks (${backend})`, () => {
  it('has the built package to import', () => {
    expect(existsSync(join(REPO, 'dist/src/index.js'))).toBe(true);
  });

  const printed = new Map<number, string>();
  for (const b of programBlocks().filter((x) => !x.fragment)) {
    it(`runs ${blockName(b)}`, async () => {
      const r = await run(b);
      expect(r.stderr.replace(/^.*ExperimentalWarning.*\n?|^\(Use `node --trace-warnings.*\n?/gm, '')).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).not.toBe('');
      printed.set(b.line, r.stdout);
    }, 90_000);
  }

  it('prints the same from each TypeScript example and its JavaScript twin', () => {
    const blocks = programBlocks().filter((x) => !x.fragment);
    blocks.forEach((b, i) => {
      const twin = blocks[i + 1];
      if (b.lang !== 'ts' || twin?.lang !== 'js' || twin.file !== b.file) return;
      expect(printed.get(twin.line), blockName(twin)).toBe(printed.get(b.line));
    });
  });
});
