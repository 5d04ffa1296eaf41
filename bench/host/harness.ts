/**
 * What the host benchmarks share: the run's size (--quick), the C helpers (compiled here with
 * cc -O2) and the Python scripts, shared-memory files, timing loops and statistics.
 */
import { execFileSync, spawn, type StdioOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** How long a run is: `--quick` shrinks every count (a check that all runs, not a measurement). */
export interface Size {
  quick: boolean;
  /** Rounds of C, TypeScript, Python in turn (see {@link interleave}). */
  rounds: number;
  /** Timed repetitions of a throughput loop per round (the statistics are over all of them). */
  reps: number;
  /** Scales loop lengths: 1 for a full run. */
  scale: number;
}

export function size(quick: boolean): Size {
  return quick ? { quick, rounds: 1, reps: 3, scale: 0.02 } : { quick, rounds: 3, reps: 4, scale: 1 };
}

/** `n` scaled for the run, at least `min`. */
export function scaled(s: Size, n: number, min = 1000): number {
  return Math.max(min, Math.round(n * s.scale));
}

/** Samples by series name (`read32`, `write32`), as one side's run returns them. */
export type Series = Record<string, number[]>;

/**
 * Runs the sides `rounds` times in turn (C, TypeScript, Python, C, ...), so that a change in
 * the machine's load (other processes, another VM) falls on all of them alike rather than on
 * one; returns each side's samples of every round, joined per series.
 */
export async function interleave<T extends Record<string, Series>>(
  rounds: number,
  sides: { [K in keyof T]: () => T[K] | Promise<T[K]> },
): Promise<T> {
  const out: Partial<Record<keyof T, Series>> = {};
  for (let r = 0; r < rounds; r++) {
    for (const k of Object.keys(sides) as Array<keyof T>) {
      const got = await sides[k]();
      const into = (out[k] ??= {});
      for (const [name, xs] of Object.entries(got)) (into[name] ??= []).push(...xs);
    }
  }
  return out as T;
}

/** min / median / p99 of samples (ns). */
export interface Stats {
  min: number;
  median: number;
  p99: number;
}

export function stats(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new Error('no samples');
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const median = s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { min: s[0], median, p99: at(0.99) };
}

/** One line of a row: the same operation in C, TypeScript and Python, ns each. */
export interface Line {
  name: string;
  c: Stats;
  ts: Stats;
  py: Stats;
  /** A debugging aid measured for its cost (tracing on), not held to the speed of the others. */
  aid?: boolean;
  /**
   * The same work with no library code (V8's own operation, a bare loop): what the engine costs,
   * beside which the library's lines are read. Not a line of the library, so not held to the targets.
   */
  reference?: boolean;
}

/**
 * A figure with no counterpart in the other languages (the time of `import('vfio-ts')`, a
 * reference program): one side's statistics, or none and a note saying why (not installed).
 */
export interface Single {
  name: string;
  side: 'c' | 'ts' | 'py';
  stats: Stats | null;
  note?: string;
}

/** One case of the benchmark: its main line (the JSON row's figures) and further variants. */
export interface CaseResult {
  case: string;
  main: Line;
  variants: Line[];
  /** Frames per second from ns per frame: the driver loop reports Mpps too. */
  perFrame?: boolean;
  /** Figures of one side alone, listed under the lines. */
  singles?: Single[];
}

let scratch: string | undefined;

/** A directory for this run's files, on tmpfs where there is one; removed by {@link cleanup}. */
export function scratchDir(): string {
  scratch ??= mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'vfio-bench-host-'));
  return scratch;
}

export function cleanup(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** A file of `bytes` zeros in the scratch directory: memory shared with the C and Python sides. */
export function sharedFile(name: string, bytes: number): string {
  const path = join(scratchDir(), `${name}.mem`);
  writeFileSync(path, Buffer.alloc(bytes));
  return path;
}

const compiled = new Map<string, string>();

/** The C helper `name` (bench/host/c/NAME.c), compiled with cc -O2 on first use. */
export function cProgram(name: string): string {
  let exe = compiled.get(name);
  if (!exe) {
    exe = join(scratchDir(), name);
    try {
      execFileSync('cc', ['-O2', '-o', exe, join(HERE, 'c', `${name}.c`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new Error(
        `cc -O2 bench/host/c/${name}.c failed (${(e as Error).message.split('\n')[0]}): the host benchmarks need a C compiler (apt-get install gcc)`,
        { cause: e },
      );
    }
    compiled.set(name, exe);
  }
  return exe;
}

/** The shared library `name` (bench/host/c/lib/NAME.c, `libNAME.so`), compiled with cc -O2 -shared on first use. */
export function cLibrary(name: string): string {
  let lib = compiled.get(`lib/${name}`);
  if (!lib) {
    lib = join(scratchDir(), `lib${name}.so`);
    const src = join(HERE, 'c', 'lib', `${name}.c`);
    try {
      execFileSync('cc', ['-O2', '-shared', '-fPIC', '-o', lib, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new Error(`cc -O2 -shared bench/host/c/lib/${name}.c failed (${(e as Error).message.split('\n')[0]})`, {
        cause: e,
      });
    }
    compiled.set(`lib/${name}`, lib);
  }
  return lib;
}

/** Every C helper, compiled up front (so no compile lands inside a measurement). */
export function compileAll(): void {
  for (const f of readdirSync(join(HERE, 'c'))) if (f.endsWith('.c')) cProgram(f.slice(0, -2));
  for (const f of readdirSync(join(HERE, 'c', 'lib'))) if (f.endsWith('.c')) cLibrary(f.slice(0, -2));
}

/** The Python interpreter; throws with the fix where there is none. */
export function python(): string {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('python3 was not found: the host benchmarks compare with Python 3 (apt-get install python3)');
  }
  return 'python3';
}

/** The Python script `name` (bench/host/py/NAME.py) with `args`, as a command line. */
export function pyScript(name: string, ...args: Array<string | number>): [string, string[]] {
  return [python(), [join(HERE, 'py', `${name}.py`), ...args.map(String)]];
}

/** A program (or a script with its interpreter) and its arguments, `args` last. */
function commandLine(command: [string, string[]] | string, args: Array<string | number>): [string, string[]] {
  const [exe, argv] = typeof command === 'string' ? [command, []] : command;
  return [exe, [...argv, ...args.map(String)]];
}

/** Runs a helper to its end and returns the JSON object it printed last. */
export function runJson<T>(command: [string, string[]] | string, args: Array<string | number> = []): T {
  const [exe, argv] = commandLine(command, args);
  const out = execFileSync(exe, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  return lastJson<T>(out, exe);
}

function lastJson<T>(out: string, what: string): T {
  const line = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what} printed no JSON result: ${JSON.stringify(out.slice(-300))}`);
  }
}

/** A helper started alongside the TypeScript side; `done` resolves with its JSON output. */
export interface Helper<T> {
  done: Promise<T>;
  kill(): void;
}

/**
 * Starts a helper with `fds` as its descriptors 3, 4, ... (eventfds shared with it); `done`
 * rejects when it exits with an error or outlives `timeoutMs`.
 */
export function startHelper<T>(
  command: [string, string[]] | string,
  args: Array<string | number>,
  fds: number[] = [],
  timeoutMs = 60_000,
): Helper<T> {
  const [exe, argv] = commandLine(command, args);
  const stdio: StdioOptions = ['ignore', 'pipe', 'inherit', ...fds];
  const child = spawn(exe, argv, { stdio });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${exe} ${argv.join(' ')} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        try {
          resolve(lastJson<T>(out, exe));
        } catch (e) {
          reject(e);
        }
      } else reject(new Error(`${exe} ${argv.join(' ')} ended with ${signal ?? `exit code ${code}`}`));
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}

/** Where loop results go, so that the JIT cannot drop a loop. */
const sink = { value: 0 };

/** Warm-up (three runs of a tenth: TurboFan optimises the loop), then `reps` runs of `n` ops: ns per op. */
export function timeLoop<T>(target: T, n: number, reps: number, body: (t: T, n: number) => number): number[] {
  for (let w = 0; w < 3; w++) sink.value ^= body(target, Math.max(1000, Math.floor(n / 10)));
  const ns: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    sink.value ^= body(target, n);
    ns.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return ns;
}
