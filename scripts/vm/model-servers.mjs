// The host side of a matrix row that drives served devices (`serve` in matrix-rows.mjs): before
// the row's boot each model is served by test/support/serve-model.ts (serveDevice) on a socket in
// a fresh directory, which scripts/vm/run attaches to the guest (--vfio-user); when the row ends
// the servers get SIGTERM and the directory goes. A server that printed anything on stderr saw
// something wrong (serveDevice warns of each protocol error and each model handler that threw)
// and fails the row, since the guest's tests cannot see it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from './kernels.mjs';
import { REPO } from './paths.mjs';

const SERVE_MODEL = join(REPO, 'test', 'support', 'serve-model.ts');
const LISTEN_TIMEOUT_MS = 60_000; // node and tsx starting on a busy machine

/** Starts one server; resolves once it prints "listening". */
function serveOne(model, socket) {
  // setpriv --pdeathsig: a server dies with test-matrix even if that is SIGKILLed (as QEMU does).
  const setpriv = which('setpriv');
  const cmd = [process.execPath, '--import', 'tsx', SERVE_MODEL, model, socket];
  const [bin, ...args] = setpriv ? [setpriv, '--pdeathsig', 'SIGKILL', '--', ...cmd] : cmd;
  const child = spawn(bin, args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { model, socket, child, stderr: '', exited: new Promise((done) => child.once('close', done)) };
  child.stderr.setEncoding('utf8').on('data', (d) => (server.stderr += d));
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the ${model} model server did not listen within ${LISTEN_TIMEOUT_MS / 1000} s`));
    }, LISTEN_TIMEOUT_MS);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (!out.includes('listening\n')) return;
      clearTimeout(timer);
      ready(server);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      fail(new Error(`the ${model} model server exited (${sig ?? code}) before listening: ${server.stderr}`));
    });
  });
}

/**
 * Serves `models` (names serve-model.ts knows, e.g. `edu`). Resolves to the arguments for
 * scripts/vm/run and `stop()`, which ends the servers and resolves to what went wrong on their
 * side (an empty string when nothing did).
 */
export async function startModelServers(models) {
  const dir = mkdtempSync(join(tmpdir(), 'vfiots-serve-'));
  const servers = [];
  const stop = async () => {
    const problems = [];
    for (const s of servers) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
      await s.exited;
      if (s.child.exitCode !== 0 && s.child.signalCode !== 'SIGTERM')
        problems.push(
          `the ${s.model} model server ended with ${s.child.signalCode ?? `exit code ${s.child.exitCode}`}`,
        );
      if (s.stderr.trim()) problems.push(`the ${s.model} model server reported:\n${s.stderr.trimEnd()}`);
    }
    rmSync(dir, { recursive: true, force: true });
    return problems.join('\n');
  };
  try {
    for (const [i, model] of models.entries()) servers.push(await serveOne(model, join(dir, `${model}-${i}.sock`)));
  } catch (e) {
    await stop();
    throw e;
  }
  return { args: servers.flatMap((s) => ['--vfio-user', s.socket]), stop };
}
