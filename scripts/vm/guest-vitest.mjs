// Runs the vm project of vitest inside the guest for scripts/vm/test-matrix, with one recovery:
// when vitest itself dies of SIGSEGV, it runs the test files that had not ended once more.
// Under TCG (QEMU 7.2) node very rarely crashes so in the guest, in any process and with code
// that passes before and after (test/support/run-script.ts retries child scripts the same way);
// the vitest process dying would otherwise end a whole row of the matrix. A second crash, and any
// failing test, still fail the row. Arguments: those of `vitest run` (test-matrix: --project vm ...).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const VITEST = join(HERE, '..', '..', 'node_modules', 'vitest', 'vitest.mjs');
const REPORTER = join(HERE, 'finished-files.mjs');
const say = (msg) => process.stderr.write(`${msg}\n`);

/** The test files named on the command line (not those after --exclude): filters to replace. */
function withoutFileFilters(args) {
  return args.filter((a, i) => !(/\.test\.[cm]?[jt]s$/.test(a) && args[i - 1] !== '--exclude'));
}

/** Ours beside the caller's reporters, or beside vitest's default when the caller names none. */
const reporters = (args) => [
  ...(args.some((a) => a.startsWith('--reporter')) ? [] : ['--reporter=default']),
  `--reporter=${REPORTER}`,
];

function vitest(args, finished) {
  return spawnSync(process.execPath, [VITEST, 'run', ...reporters(args), ...args], {
    stdio: 'inherit',
    env: { ...process.env, VFIO_TS_FINISHED_FILES: finished },
  });
}

const exitCode = (r) => r.status ?? 128 + (constants.signals[r.signal] ?? 0);

/** The files that ended in the run that wrote `finished`, with whether any of them failed. */
function ended(finished) {
  let lines = [];
  try {
    lines = readFileSync(finished, 'utf8').split('\n').filter(Boolean);
  } catch {
    // no file had ended
  }
  const rows = lines.map((l) => l.split('\t'));
  return { files: rows.map(([, file]) => file), failed: rows.some(([state]) => state === 'failed') };
}

function plannedFiles(args) {
  const r = spawnSync(process.execPath, [VITEST, 'list', '--filesOnly', '--json', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout).map((f) => f.file);
}

const args = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'vfio-ts-vitest-'));
try {
  const finished = join(dir, 'finished');
  const first = vitest(args, finished);
  if (first.signal !== 'SIGSEGV') process.exitCode = exitCode(first);
  else {
    const done = ended(finished);
    const planned = plannedFiles(args);
    const rest = planned?.filter((f) => !done.files.includes(f));
    if (!rest?.length) {
      say('guest-vitest: vitest died of SIGSEGV and no test file is left to run again');
      process.exitCode = exitCode(first);
    } else {
      say(
        `guest-vitest: vitest died of SIGSEGV under the emulator after ${done.files.length} of ` +
          `${planned.length} test files; running the ${rest.length} that had not ended once more`,
      );
      const second = vitest([...withoutFileFilters(args), ...rest], join(dir, 'finished-again'));
      // A file that failed before the crash fails the row, whatever the second run does.
      process.exitCode = done.failed ? 1 : exitCode(second);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
