/**
 * Interrupt latency: from edu's raise-register write to the JavaScript code that sees the
 * interrupt, with `interrupts.wait()` (epoll on the main thread) and `interrupts.waitAsync()`
 * (an epoll fd watched by Node's event loop), against a C program
 * doing the same with poll() on the eventfd (bench/irq-latency.c, compiled here with cc).
 *
 * Runs inside the test VM:  npm run bench:irq  [-- --count 2000]
 * (or: scripts/vm/run --devices edu -- node --import tsx bench/irq-latency.ts --count 2000)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevice } from '../src/index.js';
import { arg, manifestDevices, type BenchDevice } from './common.js';

const RAISE = 0x60;
const ACK = 0x64;

function findEdu(): BenchDevice {
  const bdf = arg('bdf');
  const group = arg('group');
  if (bdf && group) return { name: 'edu', bdf, group: Number(group) };
  return manifestDevices(['edu'], 'npm run bench:irq, or pass --bdf BDF --group N')[0];
}

function stats(ns: number[]): { median: number; p99: number; min: number } {
  const s = [...ns].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p99: q(0.99), min: s[0] };
}

const count = Number(arg('count', '2000'));
const warmup = Math.min(200, count);
const edu = findEdu();

function sync(): number[] {
  using dev = openDevice(edu.bdf);
  const bar = dev.bar(0);
  const irqs = dev.interrupts;
  irqs.enable('msi');
  const out: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const t0 = process.hrtime.bigint();
    bar.write32(RAISE, 1);
    const fired = irqs.wait(5000);
    const t1 = process.hrtime.bigint();
    if (fired.length !== 1) throw new Error(`sync: expected one vector, got ${JSON.stringify(fired)}`);
    bar.write32(ACK, 1);
    if (i >= warmup) out.push(Number(t1 - t0));
  }
  return out;
}

async function async(): Promise<number[]> {
  using dev = openDevice(edu.bdf);
  const bar = dev.bar(0);
  const irqs = dev.interrupts;
  irqs.enable('msi');
  const out: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const pending = irqs.waitAsync(5000); // armed before the interrupt, as a driver's loop is
    const t0 = process.hrtime.bigint();
    bar.write32(RAISE, 1);
    const fired = await pending;
    const t1 = process.hrtime.bigint();
    if (fired.length !== 1) throw new Error(`async: expected one vector, got ${JSON.stringify(fired)}`);
    bar.write32(ACK, 1);
    if (i >= warmup) out.push(Number(t1 - t0));
  }
  return out;
}

function c(): number[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const exe = join(mkdtempSync(join(tmpdir(), 'irq-latency-')), 'irq-latency');
  execFileSync('cc', ['-O2', '-o', exe, join(here, 'irq-latency.c')], { stdio: 'inherit' });
  const out = execFileSync(exe, [String(edu.group), edu.bdf, String(warmup + count)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return out.trim().split('\n').map(Number).slice(warmup);
}

const us = (ns: number) => (ns / 1000).toFixed(1);
const results: Array<[string, number[]]> = [
  ['C poll()', c()],
  ['TS wait()', sync()],
  ['TS waitAsync()', await async()],
];
const base = stats(results[0][1]);
console.log(
  `edu MSI, raise write -> handler, ${count} interrupts after ${warmup} warm-up (node ${process.version}, ${process.arch})`,
);
console.log('| variant | min us | median us | p99 us | median / C | p99 / C |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [name, ns] of results) {
  const s = stats(ns);
  console.log(
    `| ${name} | ${us(s.min)} | ${us(s.median)} | ${us(s.p99)} | ${(s.median / base.median).toFixed(2)} | ${(s.p99 / base.p99).toFixed(2)} |`,
  );
}
