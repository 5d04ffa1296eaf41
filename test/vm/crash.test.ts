// Processes that die, race and fork while holding devices: after a SIGKILL the next process opens
// the same device at once and it works (DMA bytes and interrupts counted); two processes racing
// for one device get one winner and one ERR_VFIO_*_BUSY naming the winner; a child process
// inherits no VFIO fd and cannot take the parent's device; `vfio repl` closes on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openDevice, PciSysfs, parsePciAddress, type Device } from '../../src/index.js';
import { REPO } from '../support/markdown-blocks.js';
import { dmaToDevice, dmaToRam } from './edu-dma.js';
import { testDevice } from './manifest.js';
import { backend } from './backend.js';

const HOLD = join(REPO, 'test/vm/fixtures/hold-device.mjs');
const EDU_RAISE = 0x60;
const EDU_ACK = 0x64;

interface Held {
  child: ChildProcess;
  /** The first line the child printed. */
  line: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function start(args: string[]): Held {
  const child = spawn(process.execPath, [HOLD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const line = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(({ code, signal }) =>
      reject(new Error(`child exited (${code ?? signal}) before a line: ${stderr}`)),
    );
  });
  return { child, line, exited, stderr: () => stderr };
}

async function killHard(h: Held): Promise<void> {
  h.child.kill('SIGKILL');
  const { signal } = await h.exited;
  expect(signal).toBe('SIGKILL');
}

/** edu works: a DMA round trip moves the bytes, and one raised MSI arrives exactly once. */
function eduWorks(dev: Device): void {
  const bar0 = dev.bar(0);
  expect(bar0.read32(0)).toBe(0x010000ed);
  const src = dev.dma.alloc(4096);
  const dst = dev.dma.alloc(4096);
  try {
    for (let i = 0; i < 1000; i++) src.bytes[i] = (i * 7 + 3) & 0xff;
    dmaToDevice(bar0, src.iova, 0, 1000);
    dmaToRam(bar0, 0, dst.iova, 1000);
    expect(Buffer.compare(dst.bytes.subarray(0, 1000), src.bytes.subarray(0, 1000))).toBe(0);
  } finally {
    src.close();
    dst.close();
  }
  dev.interrupts.enable('msi');
  try {
    bar0.write32(EDU_RAISE, 0x1);
    expect(dev.interrupts.wait(3000)).toEqual([{ vector: 0, count: 1 }]);
    bar0.write32(EDU_ACK, 0x1);
    expect(dev.interrupts.wait(100)).toEqual([]);
  } finally {
    dev.interrupts.disable();
  }
}

describe(`SIGKILL while holding devices (${backend})`, () => {
  const edu = testDevice('edu');
  const nvme = testDevice('nvme');

  it('with DMA mappings, a pool, MSI and MSI-X enabled: the next process opens both devices at once and they work', async () => {
    const h = start(['hold', edu.bdf, nvme.bdf]);
    expect(await h.line).toBe('ready msi msix');
    await killHard(h);
    {
      using dev = openDevice(edu.bdf);
      eduWorks(dev);
    }
    using ssd = openDevice(nvme.bdf);
    ssd.interrupts.enable('msix', { count: 4 });
    for (const v of [0, 1, 2, 3]) ssd.interrupts.trigger(v);
    const fired = new Map<number, number>();
    for (const f of ssd.interrupts.wait(3000)) fired.set(f.vector, f.count);
    expect(fired).toEqual(
      new Map([
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 1],
      ]),
    );
  });

  it('during an interrupt wait: the device opens at once and works', async () => {
    const h = start(['wait', edu.bdf]);
    expect(await h.line).toBe('ready');
    await killHard(h);
    using dev = openDevice(edu.bdf);
    eduWorks(dev);
  });

  it('during hotReset(): the device behind the bridge opens at once and works', async () => {
    const behind = testDevice('edu-nonviable');
    const rng = parsePciAddress(testDevice('rng-host').bdf);
    const sysfs = new PciSysfs();
    sysfs.bind(rng, 'vfio-pci'); // the group becomes viable, so its edu can be opened and reset
    try {
      const h = start(['hotreset', behind.bdf]);
      expect(await h.line).toBe('ready');
      await new Promise((r) => setTimeout(r, 200)); // inside the reset loop
      await killHard(h);
      using dev = openDevice(behind.bdf);
      eduWorks(dev);
    } finally {
      sysfs.bind(rng, 'virtio-pci');
    }
    expect(sysfs.driver(rng)).toBe('virtio-pci');
  });
});

describe(`two processes, one device (${backend})`, () => {
  const edu = testDevice('edu');

  it('opened at the same moment: exactly one wins, the other gets the busy code naming the winner', async () => {
    const a = start(['open', edu.bdf]);
    const b = start(['open', edu.bdf]);
    try {
      const lines = await Promise.all([a.line, b.line]);
      const winners = lines.filter((l) => l.startsWith('opened '));
      expect(winners.length, lines.join('\n')).toBe(1);
      const winner = Number(winners[0].split(' ')[1]);
      const loser = JSON.parse(lines.find((l) => !l.startsWith('opened '))!) as { code: string; message: string };
      expect(loser.code).toBe(backend === 'iommufd' ? 'ERR_VFIO_DEVICE_BUSY' : 'ERR_VFIO_GROUP_BUSY');
      expect(loser.message).toContain(`held by pid ${winner} (node)`);
    } finally {
      a.child.stdin!.end();
      b.child.stdin!.end();
      await Promise.all([a.exited, b.exited]);
    }
    using dev = openDevice(edu.bdf); // released by the winner's close
    expect(dev.bar(0).read32(0)).toBe(0x010000ed);
  });
});

describe(`two devices in two IOMMU contexts, one process (${backend})`, () => {
  it('interleaved DMA and interrupts do not disturb each other', () => {
    const rng = parsePciAddress(testDevice('rng-host').bdf);
    const sysfs = new PciSysfs();
    sysfs.bind(rng, 'vfio-pci');
    try {
      using one = openDevice(testDevice('edu').bdf);
      using two = openDevice(testDevice('edu-nonviable').bdf);
      expect(one.iommu).not.toBe(two.iommu);
      const devs = [one, two];
      const bufs = devs.map((d) => [d.dma.alloc(4096), d.dma.alloc(4096)]);
      for (const d of devs) d.interrupts.enable('msi');
      for (let round = 0; round < 20; round++) {
        devs.forEach((d, i) => {
          const [src] = bufs[i];
          src.bytes.fill((round * 2 + i + 1) & 0xff, 0, 512);
          dmaToDevice(d.bar(0), src.iova, 0, 512);
        });
        devs.forEach((d, i) => {
          const [, dst] = bufs[i];
          dmaToRam(d.bar(0), 0, dst.iova, 512);
          expect(dst.bytes.subarray(0, 512).every((x) => x === ((round * 2 + i + 1) & 0xff))).toBe(true);
        });
        // Raise on one only: the other must see nothing.
        const which = round % 2;
        devs[which].bar(0).write32(EDU_RAISE, 1);
        expect(devs[which].interrupts.wait(3000)).toEqual([{ vector: 0, count: 1 }]);
        devs[which].bar(0).write32(EDU_ACK, 1);
        expect(devs[1 - which].interrupts.wait(0)).toEqual([]);
      }
      for (const pair of bufs) for (const b of pair) b.close();
    } finally {
      sysfs.bind(rng, 'virtio-pci');
    }
  });
});

describe(`a child process of one that holds a device (${backend})`, () => {
  const edu = testDevice('edu');
  let dev: Device | undefined;
  afterAll(() => dev?.close());

  /** The fd links of a fresh node child process (node's own event loop has eventfds of its own). */
  function childFdLinks(): Promise<string[]> {
    const script = `const fs = require('node:fs');
      console.log(JSON.stringify(fs.readdirSync('/proc/self/fd').map((f) => { try { return fs.readlinkSync('/proc/self/fd/' + f); } catch { return ''; } })));`;
    return new Promise<string[]>((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', () => resolve(JSON.parse(out) as string[]));
      c.on('error', reject);
    });
  }
  const eventfds = (links: string[]): number => links.filter((l) => l === 'anon_inode:[eventfd]').length;

  it('inherits no VFIO fd, cannot take the device (busy, naming the parent), and the parent DMA still works', async () => {
    const baseline = await childFdLinks();
    dev = openDevice(edu.bdf);
    dev.interrupts.enable('msi'); // the parent holds eventfds too
    const buf = dev.dma.alloc(65536);
    // The buffer's mapping is not copied into a child between fork and exec (VmFlags dc).
    const smaps = readFileSync('/proc/self/smaps', 'utf8');
    const begin = buf.vaddr.toString(16);
    const entry = smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/).find((e) => e.startsWith(`${begin}-`));
    expect(entry, `no mapping at 0x${begin}`).toBeDefined();
    expect(/^VmFlags:.*\bdc\b/m.test(entry!)).toBe(true);

    const links = await childFdLinks();
    expect(links.filter((l) => /vfio|iommu/.test(l))).toEqual([]);
    expect(eventfds(links)).toBe(eventfds(baseline));

    const child = start(['open', edu.bdf]);
    const line = await child.line;
    await child.exited;
    const err = JSON.parse(line) as { code: string; message: string };
    expect(err.code).toBe(backend === 'iommufd' ? 'ERR_VFIO_DEVICE_BUSY' : 'ERR_VFIO_GROUP_BUSY');
    expect(err.message).toContain(`held by pid ${process.pid}`);

    const dst = dev.dma.alloc(4096);
    for (let i = 0; i < 2048; i++) buf.bytes[i] = (i * 13) & 0xff;
    dmaToDevice(dev.bar(0), buf.iova, 0, 2048);
    dmaToRam(dev.bar(0), 0, dst.iova, 2048);
    expect(Buffer.compare(dst.bytes.subarray(0, 2048), buf.bytes.subarray(0, 2048))).toBe(0);
    dst.close();
    buf.close();
  });
});

describe('the vfio command on signals', () => {
  const edu = testDevice('edu');
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`vfio repl closes the device on ${sig} and exits 128+n; the device opens at once`, async () => {
      const c = spawn(process.execPath, [join(REPO, 'dist/src/cli.js'), 'repl', edu.bdf], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
      const out = createInterface({ input: c.stdout });
      c.stdin.write('bar0.read32(0)\n');
      expect(await new Promise<string>((resolve) => out.once('line', resolve))).toBe('16777453');
      c.kill(sig);
      expect(await exited).toBe(sig === 'SIGTERM' ? 143 : 130);
      expect(stderr).toContain(`vfio repl: ${sig}: closed`);
      using dev = openDevice(edu.bdf);
      expect(dev.bar(0).read32(0)).toBe(0x010000ed);
    });
  }
});
