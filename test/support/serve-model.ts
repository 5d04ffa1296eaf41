/**
 * A device model served in a process of its own, as a model's author runs one: the tests that
 * drive a vfio-user device start it, wait for its "listening" line, and stop it with SIGTERM
 * (or SIGKILL, to see a server die mid-call).
 *
 *   node --import tsx test/support/serve-model.ts MODEL SOCKET
 *
 * MODEL: `edu` (examples/models/edu.ts), `pci-idio-16` (examples/models/pci-idio-16.ts, with its
 * line window), `mailbox` (a shared BAR: ./models.ts) or `vectors` (24 MSI-X vectors:
 * ./vectors-model.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { serveDevice, type DeviceModel } from '../../src/index.js';
import { eduModel } from '../../examples/models/edu.js';
import { pciIdio16Model } from '../../examples/models/pci-idio-16.js';
import { mailboxModel } from './models.js';
import { vectorsModel } from './vectors-model.js';

const MODELS: Record<string, () => DeviceModel> = {
  edu: eduModel,
  'pci-idio-16': () => pciIdio16Model({ lineWindow: true }).model,
  mailbox: mailboxModel,
  vectors: vectorsModel,
};

/** A model served by a child process, for tests: `stop()` ends it. */
export interface ServedChild {
  socket: string;
  child: ChildProcess;
  /** What the server printed on stderr (model errors, warnings). */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `model` served on `socket` in a child process; resolves once it listens. */
export function serveInChild(model: string, socket: string): Promise<ServedChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), model, socket], {
    cwd: resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((ready, fail) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening\n'))
        ready({
          socket,
          child,
          stderr: () => err,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        });
    });
    child.once('exit', (code) => fail(new Error(`the model server exited (${code}) before listening: ${err}`)));
  });
}

/**
 * For a test file: `model` served in a child process from before its first test to after its
 * last, on a socket in a scratch directory. Read `server` and `address` inside tests.
 */
export function servedForTests(model: string): { readonly server: ServedChild; readonly address: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), `vfio-user-${model}-`));
  let server: ServedChild | undefined;
  beforeAll(async () => {
    server = await serveInChild(model, join(dir, `${model}.sock`));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    get server() {
      if (!server) throw new Error(`the ${model} model is not served yet: use it inside a test`);
      return server;
    },
    get address() {
      return `vfio-user:${this.server.socket}`;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, socket] = process.argv.slice(2);
  const make = MODELS[name];
  if (!make || !socket) {
    process.stderr.write(`usage: serve-model.ts ${Object.keys(MODELS).join('|')} SOCKET\n`);
    process.exitCode = 2;
  } else {
    const server = serveDevice(make(), { socket });
    process.once('SIGTERM', () => server.close());
    process.stdout.write('listening\n');
  }
}
