// Builds the package into dist/ (`npm run build`; `node scripts/build.mjs [--outdir DIR]`):
// TypeScript's declarations, one .d.ts per module, and the JavaScript as three bundled entries
// (dist/src/index.js, dist/structs/index.js, dist/src/cli.js) sharing chunks in dist/chunks/.
// Bundled because Node loads ES modules one by one: the library as some 90 modules took about
// twice as long to import as the same code in a few files. Chunks are shared, so the package's
// two entries see one copy of every module; the dependencies (koffi, fast-xml-parser) stay
// imports of their own. Not minified: a stack trace names the library's own functions.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The package's entry points, as `exports` and `bin` in package.json name them once built. */
export const ENTRIES = ['src/index.ts', 'structs/index.ts', 'src/cli.ts'];

/** Builds into `outdir` (emptied first). Throws with the compiler's output on an error. */
export async function buildPackage(outdir = join(ROOT, 'dist')) {
  rmSync(outdir, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const types = spawnSync(
    process.execPath,
    [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', outdir],
    { encoding: 'utf8' },
  );
  if (types.status !== 0) throw new Error(`tsc failed:\n${types.stdout}${types.stderr}`);
  await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outdir,
    outbase: '.',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // The oldest Node in `engines`: esbuild turns `using` into what 20.4 runs.
    target: 'node20.4',
    packages: 'external',
    tsconfig: join(ROOT, 'tsconfig.build.json'),
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } }, strict: true });
  try {
    await buildPackage(values.outdir && resolve(values.outdir));
  } catch (e) {
    process.stderr.write(`build: ${e.message}\n`);
    process.exitCode = 1;
  }
}
