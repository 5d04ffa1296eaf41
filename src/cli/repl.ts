/**
 * `vfio repl [ADDRESS]`: Node's REPL with vfio-ts in scope and, given an address, the device
 * opened as `dev` (its implemented BARs as `bar0`, `bar1`, ..., each `dev.bar(n)` on first use).
 *
 * Every line is evaluated only after the previous one settled, typed or piped. On a terminal
 * Node's REPL does that itself: while an awaited line is pending it holds the keys typed or
 * pasted meanwhile. Lines that do not come from a terminal it evaluates as soon as readline
 * hands them over, so the next line of a piped script would run while an awaited promise of the
 * one before is still pending. Here such input is read line by line and handed to the REPL one
 * line at a time (`feedLines`), the next only once the REPL is done with the previous one
 * (printed its result or error, or buffered an incomplete line): multi-line input, `.help` and
 * `.exit` behave as typed, and the end of the input closes the REPL only after the last line.
 * No prompts are printed then, so the output of a piped script is its results alone, and the
 * exit status is 1 when a line threw.
 *
 * `.exit`, Ctrl-D or the end of piped input close the device (and the IOMMU context it opened)
 * before the process ends.
 */
import repl, { type REPLEval, type REPLServer } from 'node:repl';
import { createInterface } from 'node:readline';
import { constants, homedir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as structs from '../../structs/index.js';
import * as vfio from '../index.js';
import { parseDeviceAddress } from './args.js';
import { formatSize } from './format.js';
import { HELPER_DOCS, replHelpers } from './repl-helpers.js';
import { closeOnSignals } from './repl-signals.js';

export interface ReplOptions {
  /** The device to open as `dev`; none: the library only. */
  address?: string;
  /** The way into VFIO (`vfio repl --iommu`). */
  iommu?: vfio.IommuChoice;
  /** Default `process.stdin`; lines are fed one at a time unless it and `output` are a terminal. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Called once the REPL closed and the device is closed (default `process.exit`, as Node's own REPL). */
  exit?: (code: number) => void;
  /**
   * Close the device and exit on SIGTERM, SIGHUP (and SIGINT without a terminal): default true
   * when `exit` is the default, as for the `vfio repl` command.
   */
  handleSignals?: boolean;
}

/** The implemented BARs of `dev` (0-5 with a non-zero size). */
function implementedBars(dev: vfio.Device): number[] {
  const bars: number[] = [];
  for (let n = structs.VFIO_PCI_BAR0_REGION_INDEX; n <= structs.VFIO_PCI_BAR5_REGION_INDEX; n++)
    if (n < dev.info.numRegions && dev.regionInfo(n).size > 0n) bars.push(n);
  return bars;
}

/** Defines `name` in the REPL's scope (the global object: the REPL runs with `useGlobal`), replaceable by the user. */
function define(name: string, value: unknown): void {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

/** `barN` as `dev.bar(N)` on first use (mapping a BAR only when it is touched); assigning replaces it. */
function defineBar(dev: vfio.Device, n: number): void {
  Object.defineProperty(globalThis, `bar${n}`, {
    get: () => dev.bar(n),
    set: (v: unknown) => define(`bar${n}`, v),
    configurable: true,
    enumerable: false,
  });
}

/** The library's runtime exports, in scope by name unless a global of that name exists (all are under `vfio.`). */
const LIBRARY_NAMES = Object.keys(vfio).filter((name) => !(name in globalThis));

/** `words` joined with `, ` into indented lines of at most `width` characters. */
function wrapList(words: string[], indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line}, ${w}` : w;
    if (line && indent.length + next.length + 1 > width) {
      lines.push(`${indent}${line},`);
      line = w;
    } else line = next;
  }
  if (line) lines.push(`${indent}${line}`);
  return lines;
}

/** The text of `.help`. */
export function replHelpText(server: REPLServer, dev: vfio.Device | undefined): string {
  const lines = ['In scope:'];
  if (dev) {
    lines.push(`  dev            ${String(dev.name)}: closed with its IOMMU context on .exit or Ctrl-D`);
    for (const n of implementedBars(dev))
      lines.push(`  bar${n}           dev.bar(${n}), ${formatSize(dev.regionInfo(n).size)} (mapped on first use)`);
  } else lines.push('  (no device: vfio repl ADDRESS opens one as dev; or dev = openDevice("00:03.0"))');
  lines.push(
    ...wrapList(LIBRARY_NAMES, '  '),
    '  vfio           the vfio-ts module, all of it',
    '  structs        vfio-ts/structs: layouts, ioctl codes, PCI_* and VFIO_* constants',
    '',
    'Helpers:',
    ...HELPER_DOCS.map((h) => `  ${h.usage.padEnd(30)} ${h.what}`),
    '',
    'Top-level await works; each line runs after the previous one settled, typed or piped.',
    '',
    'Commands:',
    ...Object.entries(server.commands)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, c]) => `  .${name.padEnd(13)} ${c?.help ?? ''}`),
  );
  return lines.join('\n');
}

/**
 * Reads `source` line by line and writes each into `sink` (the REPL's input) once the REPL is
 * done with the one before, then closes the REPL. Done means the REPL showed its prompt again:
 * it does after a result, after an error (Node's eval hands a thrown error to the REPL's domain,
 * which prints it, without calling back), after buffering an incomplete line, and after a
 * keyword such as `.help`. (An error thrown later by a callback of an earlier line is printed
 * with a prompt too, and so ends a pending line early: a rare case, where the next line then
 * starts too soon.) `threw()` counts the lines that threw: their evaluation called back with
 * an error, or never called back.
 */
function feedLines(source: NodeJS.ReadableStream, sink: PassThrough, server: REPLServer): { threw(): number } {
  let lineDone: (() => void) | undefined;
  let evaluation: { calledBack: boolean; error: unknown } | undefined;
  let threw = 0;
  let closed = false;
  const done = (): void => {
    if (
      evaluation &&
      (evaluation.calledBack ? evaluation.error && !(evaluation.error instanceof repl.Recoverable) : true)
    )
      threw++;
    evaluation = undefined;
    const release = lineDone;
    lineDone = undefined;
    release?.();
  };
  server.on('exit', () => {
    closed = true;
    done();
  });
  const evaluate = server.eval; // Node's eval, bound to the server's domain
  const tracked: REPLEval = (code, context, file, callback) => {
    const e = { calledBack: false, error: undefined as unknown };
    evaluation = e;
    evaluate.call(server, code, context, file, (error, result) => {
      e.calledBack = true;
      e.error = error;
      callback(error, result);
    });
  };
  // `eval` is read-only in the types only: the REPL calls `this.eval` for every line.
  (server as unknown as { eval: REPLEval }).eval = tracked;
  const displayPrompt = server.displayPrompt.bind(server);
  server.displayPrompt = (preserveCursor) => {
    displayPrompt(preserveCursor);
    done();
  };
  const lines = createInterface({ input: source, crlfDelay: Infinity, terminal: false });
  void (async () => {
    for await (const line of lines) {
      if (closed) break;
      const shown = new Promise<void>((resolve) => (lineDone = resolve));
      sink.write(`${line}\n`);
      await shown;
      if (closed) break;
    }
    lines.close();
    if (!closed) server.close();
  })();
  return { threw: () => threw };
}

/**
 * Whether the member chain that `line` ends with, the expression tab completion would evaluate,
 * holds a call (or a parenthesised expression): `regs.ICR.read().` does, `foo(regs.ICR.` and
 * `regs.DB[1].` do not.
 */
export function completesCallResult(line: string): boolean {
  let depth = 0;
  for (let i = line.length - 1; i >= 0; i--) {
    const c = line[i];
    if (c === ')' || c === ']') depth++;
    else if (c === '(' || c === '[') {
      if (depth === 0) return false; // an open bracket: the chain starts after it
      if (c === '(') return true;
      depth--;
    } else if (depth === 0 && !/[\w$.?]/.test(c)) return false;
  }
  return false;
}

/** The line a terminal REPL starts with. */
function banner(dev: vfio.Device | undefined): string {
  const bars = dev ? implementedBars(dev).map((n) => `bar${n}`) : [];
  const device = dev ? ` dev: ${String(dev.name)}, ${bars.join(', ') || 'no BARs'}.` : '';
  return `vfio-ts REPL (Node ${process.version}).${device} .help lists what is in scope; Ctrl-D ${dev ? 'closes the device and ' : ''}exits.`;
}

/**
 * Starts the REPL. Opening the device happens first and throws (bad address, not on vfio-pci,
 * ...) before anything else starts; the caller prints the error.
 */
export function startRepl(options: ReplOptions = {}): REPLServer {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  // A terminal at both ends, as Node's own REPL decides; otherwise lines are fed one at a time.
  const interactive = input.isTTY === true && (output as { isTTY?: boolean }).isTTY === true;
  const dev =
    options.address === undefined
      ? undefined
      : vfio.openDevice(parseDeviceAddress(options.address), options.iommu ? { iommu: options.iommu } : {});

  // Without a terminal the REPL reads from `feed`, which `feedLines` fills a line at a time.
  const feed = interactive ? undefined : new PassThrough();
  let server: REPLServer;
  try {
    for (const name of LIBRARY_NAMES) define(name, (vfio as Record<string, unknown>)[name]);
    define('vfio', vfio);
    define('structs', structs);
    for (const [name, value] of Object.entries(replHelpers(dev))) define(name, value);
    if (dev) {
      define('dev', dev);
      for (const n of implementedBars(dev)) defineBar(dev, n);
    }
    if (interactive) output.write(`${banner(dev)}\n`);
    server = repl.start({
      prompt: interactive ? 'vfio> ' : '',
      input: feed ?? input,
      output,
      terminal: interactive,
      useGlobal: true,
      ignoreUndefined: true,
    });
  } catch (e) {
    dev?.close();
    throw e;
  }

  // Tab completion evaluates the expression before the last dot for real (the preview's
  // evaluation is side-effect-free; this one is not), on TAB and, for the completion preview, on
  // the '.' keystroke itself. Node means to leave calls out, but its pattern lets
  // `regs.ICR.read().` through (Node 20), and a call may read a register that clears when read:
  // no call's result is completed.
  const complete = server.completer as (line: string, done: (e: Error | null, r?: [string[], string]) => void) => void;
  (server as unknown as { completer: typeof complete }).completer = (line, done) =>
    completesCallResult(line) ? done(null, [[], line]) : complete.call(server, line, done);

  server.defineCommand('help', {
    help: 'Print what is in scope, the helpers and these commands',
    action() {
      output.write(`${replHelpText(server, dev)}\n`);
      this.displayPrompt();
    },
  });

  let lines: { threw(): number } | undefined;
  if (feed) {
    lines = feedLines(input, feed, server);
    // No prompts in a piped script (not even `... ` for a continued line): its output is its results.
    const prompt = server.prompt.bind(server);
    server.prompt = (preserveCursor) => {
      server.setPrompt('');
      prompt(preserveCursor);
    };
  } else {
    // A terminal needs nothing more: while an awaited line is pending, Node's REPL holds the
    // keys typed or pasted meanwhile, and Ctrl-D, until it settled.
    // History as Node keeps its own: VFIO_TS_REPL_HISTORY names the file, empty turns it off.
    const history = process.env.VFIO_TS_REPL_HISTORY ?? join(homedir(), '.vfio_ts_repl_history');
    if (history) server.setupHistory(history, () => {});
  }

  const signals = closeOnSignals(server, interactive, options.handleSignals ?? options.exit === undefined);
  server.on('exit', () => {
    const signalled = signals.stop();
    let code = 0;
    try {
      dev?.close();
    } catch (e) {
      process.stderr.write(`error: closing ${dev?.name}: ${e instanceof Error ? e.message : String(e)}\n`);
      code = 1;
    }
    if (signalled) {
      process.stderr.write(`vfio repl: ${signalled}: ${dev ? `closed ${dev.name}` : 'closed'}\n`);
      exit(128 + constants.signals[signalled]);
      return;
    }
    // feedLines has counted the last line by now: its 'exit' listener came first.
    exit(lines && lines.threw() > 0 ? 1 : code);
  });
  return server;
}
