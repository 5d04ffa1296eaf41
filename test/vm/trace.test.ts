// Runs in the test VM: the e1000e and NVMe example drivers traced, each access decoded through
// the shipped register maps, in all three outputs; `vfio trace` tracing a program it runs; an
// NVMe bring-up recorded, replayed clean against the controller, and a run with a different
// admin queue size stopped at the AQA write with both values decoded.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ReplayMismatchError,
  checkTrace,
  openDevice,
  parseTrace,
  replay,
  traceProcess,
  watchDeviceOpens,
  type TraceEvent,
  type TraceFormat,
} from '../../src/index.js';
import { main as e1000eLoopback } from '../../examples/e1000e-loopback.js';
import { main as nvmeIdentify } from '../../examples/nvme-identify.js';
import { runCompiled } from '../support/run-script.js';
import { testDevice } from './manifest.js';

const vfio = (...args: string[]) => runCompiled('dist/src/cli.js', args, 90_000);
const FORMATS: TraceFormat[] = ['text', 'jsonl', 'chrome'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfio-ts-trace-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `fn` with a process trace in each format, to files; returns their paths. */
function traceAll(name: string, address: string, fn: () => void): Record<TraceFormat, string> {
  const files = Object.fromEntries(FORMATS.map((f) => [f, join(dir, `${name}.${f}`)])) as Record<TraceFormat, string>;
  const traces = FORMATS.map((format) => traceProcess({ format, file: files[format], devices: [address] }));
  try {
    fn();
  } finally {
    for (const t of traces) t.stop();
  }
  return files;
}

interface ChromeFile {
  traceEvents: Array<{ name: string; ph: string; cat?: string; tid?: number; args?: Record<string, unknown> }>;
}

/** What every test of a traced example checks: the three files agree and each BAR0 access is decoded. */
function checkOutputs(files: Record<TraceFormat, string>, address: string, map: string): TraceEvent[] {
  const events = parseTrace(readFileSync(files.jsonl, 'utf8'));
  expect(events[0]).toMatchObject({ kind: 'open', device: address });
  const bar0 = events.filter((e) => e.region === 'BAR0' && (e.kind === 'read' || e.kind === 'write'));
  expect(bar0.length).toBeGreaterThan(10);
  expect(bar0.filter((e) => e.map !== map || !e.register)).toEqual([]); // every one named by the shipped map
  expect(events.filter((e) => e.region === 'config').length).toBeGreaterThan(0); // bus mastering, capabilities
  expect(events.at(-1)).toMatchObject({ kind: 'close', device: address });

  const text = readFileSync(files.text, 'utf8').trimEnd().split('\n');
  expect(text).toHaveLength(events.length);
  const chrome = JSON.parse(readFileSync(files.chrome, 'utf8')) as ChromeFile;
  const kinds = new Set(chrome.traceEvents.map((e) => `${e.ph} ${e.cat ?? ''}`));
  for (const k of ['M ', 'i mmio', 'i config', 'b dma', 'e dma', 'i device']) expect(kinds, k).toContain(k);
  expect(chrome.traceEvents.find((e) => e.name === 'thread_name')?.args).toEqual({ name: address });
  const accesses = chrome.traceEvents.filter((e) => e.cat === 'mmio');
  expect(accesses).toHaveLength(bar0.length);
  return events;
}

describe('tracing the examples', () => {
  it('e1000e-loopback: every BAR0 access decoded through the e1000e map, its DMA and interrupts, in three outputs', () => {
    const nic = testDevice('e1000e');
    const files = traceAll('e1000e', nic.bdf, () => void e1000eLoopback(nic.bdf, () => {}));
    const events = checkOutputs(files, nic.bdf, 'e1000e');
    const status = events.find((e) => e.register === 'STATUS' && e.fields?.LU === 1);
    expect(status?.decoded).toMatch(/^STATUS = 0x[0-9a-f]{8} \{ FD: 1, LU: 1,/);
    expect(events.filter((e) => e.kind === 'dma-map').length).toBeGreaterThanOrEqual(2); // rings and buffer pool
    expect(events.find((e) => e.kind === 'irq-enable')).toMatchObject({ irq: 'msix' });
    const wait = events.find((e) => e.kind === 'irq-wait');
    expect(wait?.fired?.[0]).toMatchObject({ vector: 0 });
    const text = readFileSync(files.text, 'utf8');
    expect(text).toMatch(/ 0000:00:\S+ BAR0 0x0008 read32 +0x[0-9a-f]{8} STATUS \{ FD: 1, LU: 1,/);
    expect(text).toMatch(/ irq-wait msix vector 0 x1 after /);
    const chrome = JSON.parse(readFileSync(files.chrome, 'utf8')) as ChromeFile;
    expect(chrome.traceEvents.some((e) => e.ph === 'X' && e.cat === 'irq')).toBe(true);
    expect(chrome.traceEvents.some((e) => e.ph === 'i' && e.name === 'msix vector 0')).toBe(true);
  });

  it('nvme-identify: every BAR0 access decoded through the NVMe map, CAP whole on its second half', () => {
    const nvme = testDevice('nvme');
    const files = traceAll('nvme', nvme.bdf, () => void nvmeIdentify(nvme.bdf, () => {}));
    const events = checkOutputs(files, nvme.bdf, 'nvme');
    const aqa = events.find((e) => e.register === 'AQA');
    expect(aqa).toMatchObject({ kind: 'write', value: 0x000f000f, fields: { ASQS: 15, ACQS: 15 } });
    const cap = events.find((e) => e.register === 'CAP (bits 63:32)');
    expect(cap?.decoded).toMatch(/^CAP = 0x[0-9a-f]{16} \{ MQES: \d+,/);
    expect(events.find((e) => e.register === 'SQTDBL[0]')).toMatchObject({ kind: 'write', fields: { SQT: 1 } });
    expect(readFileSync(files.text, 'utf8')).toMatch(/ BAR0 0x0024 write32 0x000f000f AQA \{ ASQS: 15, ACQS: 15 \}\n/);
  });
});

describe('vfio trace, record and replay', () => {
  let recording: string;

  it('vfio trace -- COMMAND traces the program it runs (JSON lines: the recording)', async () => {
    const nvme = testDevice('nvme');
    recording = join(dir, 'nvme-bring-up.jsonl');
    const r = await vfio(
      'trace',
      '--format',
      'jsonl',
      '--output',
      recording,
      '--device',
      nvme.bdf,
      '--',
      process.execPath,
      '--import',
      'tsx',
      'examples/nvme-identify.ts',
      nvme.bdf,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/identify controller: model "/);
    const events = parseTrace(readFileSync(recording, 'utf8'));
    expect(events.filter((e) => e.register === 'AQA')).toHaveLength(1);
  });

  it('the recorded bring-up replays clean against the controller', () => {
    const nvme = testDevice('nvme');
    const events = parseTrace(readFileSync(recording, 'utf8'));
    using dev = openDevice(nvme.bdf, { busMaster: false }); // the recording sets it
    const done = replay(dev, events);
    expect(done.recordedDevice).toBe(nvme.bdf);
    expect(done.accesses).toBeGreaterThan(20);
  });

  it('vfio replay says so too, and exits 1 at a read that differs, both values decoded', async () => {
    const nvme = testDevice('nvme');
    const clean = await vfio('replay', recording);
    expect(clean.stderr).toBe('');
    expect(clean.stdout).toMatch(
      new RegExp(`^replayed \\d+ steps \\(\\d+ accesses\\) of ${nvme.bdf} on ${nvme.bdf}: no difference$`, 'm'),
    );
    expect(clean.code).toBe(0);

    // The same recording with the controller's version changed: replay stops at that read.
    const edited = join(dir, 'nvme-edited.jsonl');
    const lines = readFileSync(recording, 'utf8').trimEnd().split('\n');
    const vs = lines.findIndex((l) => (JSON.parse(l) as TraceEvent).register === 'VS');
    expect(vs).toBeGreaterThan(0);
    lines[vs] = JSON.stringify({ ...(JSON.parse(lines[vs]) as object), value: '0x00090000' });
    writeFileSync(edited, `${lines.join('\n')}\n`);
    const differs = await vfio('replay', edited, nvme.bdf);
    expect(differs.code).toBe(1);
    expect(differs.stderr).toMatch(
      /ERR_VFIO_REPLAY_MISMATCH.*a different value read at event \d+ \(BAR0 0x8 VS read32\) of 0000:\S+: recorded VS = 0x00090000 \{ TER: 0, MNR: 0, MJR: 9 \}, got VS = 0x000[0-9a-f]{5} \{/,
    );
  });

  it('a run with a different admin queue size stops at the AQA write, both values decoded', () => {
    const nvme = testDevice('nvme');
    const recorded = parseTrace(readFileSync(recording, 'utf8'));
    const again = checkTrace(recorded);
    const stopWatching = watchDeviceOpens((dev) => void again.add(dev));
    let err: unknown;
    try {
      nvmeIdentify(nvme.bdf, () => {}, 8);
    } catch (e) {
      err = e;
    } finally {
      stopWatching();
    }
    expect(err).toBeInstanceOf(ReplayMismatchError);
    expect((err as Error).message).toMatch(
      /^a different value written at event \d+ \(BAR0 0x24 AQA write32\) of 0000:\S+: recorded AQA = 0x000f000f \{ ASQS: 15, ACQS: 15 \}, got AQA = 0x00070007 \{ ASQS: 7, ACQS: 7 \}\./,
    );
    expect(() => again.end()).toThrow(err);
    // The run that matches passes the same check.
    const same = checkTrace(recorded);
    const stop = watchDeviceOpens((dev) => void same.add(dev));
    try {
      nvmeIdentify(nvme.bdf, () => {});
    } finally {
      stop();
    }
    same.end();
  });
});
