/**
 * vfio-user costs, from the client's side, against models served by another process
 * (test/support/serve-model.ts): a register read that is a message round trip (edu's ID), a
 * read of a BAR the model shares as memory (a load), an interrupt from the model to the client
 * (a write asks edu to raise MSI; `wait()` takes it), and DMA throughput (edu's engine copying
 * between the client's memory, shared by memfd, and its buffer, one message per transfer).
 * With `--local ADDRESS` (in the test VM, edu bound to vfio-pci) the same three are measured
 * on the real edu through VFIO, on the line beside each.
 *
 *   npm run bench:vfio-user [-- --quick]
 *   scripts/vm/run --devices edu -- node --import tsx bench/vfio-user.ts --local 00:03.0
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice, type Device } from '../src/index.js';
import { serveInChild } from '../test/support/serve-model.js';
import { arg } from './common.js';

const quick = process.argv.includes('--quick');
const local = arg('local');
const ID = 0x00;
const IRQ_RAISE = 0x60;
const IRQ_ACK = 0x64;
const DMA_BYTES = 4000; // edu's buffer is 4 KiB; QEMU 7.2's edu refuses exactly 4096
const EDU_BUFFER = 0x40000n;

/** Median ns per call of `fn`, over `rounds` rounds of `ops` calls. */
function timed(ops: number, rounds: number, fn: () => void): number {
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) fn();
    per.push(Number(process.hrtime.bigint() - t0) / ops);
  }
  return per.sort((a, b) => a - b)[Math.floor(per.length / 2)];
}

/** MB/s with the digits a small figure needs (QEMU's edu takes about 100 ms a transfer). */
const mbps = (x: number) => `${x < 1 ? x.toPrecision(2) : x.toFixed(1)} MB/s`;

const scale = quick ? 0.05 : 1;
const n = (x: number) => Math.max(2, Math.round(x * scale));

/** An MSI round trip on edu (model or real): ask for one, wait, acknowledge. */
function irqRoundTrip(dev: Device): number {
  const bar0 = dev.bar(0);
  dev.interrupts.enable('msi');
  try {
    return timed(n(200), 3, () => {
      bar0.write32(IRQ_RAISE, 1);
      if (dev.interrupts.wait(5000).length === 0) throw new Error('no MSI within 5 s');
      bar0.write32(IRQ_ACK, 1);
    });
  } finally {
    dev.interrupts.disable();
  }
}

/** MB/s of edu DMA: RAM to the device and back, DMA_BYTES each way, polled to completion. */
function dmaThroughput(dev: Device): number {
  const bar0 = dev.bar(0);
  using buf = dev.dma.alloc(8192);
  const transfer = (src: bigint, dst: bigint, toRam: boolean) => {
    bar0.write64(0x80, src);
    bar0.write64(0x88, dst);
    bar0.write64(0x90, BigInt(DMA_BYTES));
    bar0.write64(0x98, 1n | (toRam ? 2n : 0n));
    while (bar0.read64(0x98) & 1n);
  };
  const ns = timed(n(50), 3, () => {
    transfer(buf.iova, EDU_BUFFER, false);
    transfer(EDU_BUFFER, buf.iova + 4096n, true);
  });
  return (2 * DMA_BYTES * 1000) / ns; // bytes per ns * 1000 = MB/s
}

const dir = mkdtempSync(join(tmpdir(), 'bench-vfio-user-'));
const edu = await serveInChild('edu', join(dir, 'edu.sock'));
const mailbox = await serveInChild('mailbox', join(dir, 'mailbox.sock'));
const rows: Array<[string, string, string]> = [];
try {
  {
    using dev = openDevice(`vfio-user:${edu.socket}`);
    const bar0 = dev.bar(0);
    const message = timed(n(2000), 3, () => bar0.read32(ID));
    const irq = irqRoundTrip(dev);
    const dma = dmaThroughput(dev);
    let localRead = '-';
    let localIrq = '-';
    let localDma = '-';
    if (local) {
      using real = openDevice(local);
      localRead = `${timed(n(2000), 3, () => real.bar(0).read32(ID)).toFixed(0)} ns`;
      localIrq = `${(irqRoundTrip(real) / 1000).toFixed(1)} us`;
      localDma = mbps(dmaThroughput(real));
    }
    rows.push(['register read, a message round trip (edu ID)', `${message.toFixed(0)} ns`, localRead]);
    rows.push(['MSI from the model, write to wait() to ack', `${(irq / 1000).toFixed(1)} us`, localIrq]);
    rows.push([`DMA through edu's engine, ${DMA_BYTES} B each way`, mbps(dma), localDma]);
  }
  {
    using dev = openDevice(`vfio-user:${mailbox.socket}`);
    const shared = dev.bar(2);
    const load = timed(n(200_000), 3, () => shared.read32(0));
    rows.push(['register read of a shared BAR, a load', `${load.toFixed(1)} ns`, '-']);
  }
} finally {
  await edu.stop();
  await mailbox.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`vfio-user from the client, models served by another process${quick ? ' (--quick)' : ''}`);
console.log(`| case | vfio-user | local VFIO${local ? ` (${local})` : ''} |`);
console.log('| --- | ---: | ---: |');
for (const [what, user, vfio] of rows) console.log(`| ${what} | ${user} | ${vfio} |`);
console.log(JSON.stringify({ rows: rows.map(([what, user, vfio]) => ({ case: what, vfioUser: user, local: vfio })) }));
