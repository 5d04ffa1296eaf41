// Handing an opened device to another process (sendDevice, receiveDevice): a root process opens
// edu and sends it to an unprivileged one (uid 65534), which drives it with DMA through edu's
// engine and an MSI after the sender has closed; the receiver's own locked-memory limit is what
// the kernel charges. Malformed messages are refused with ERR_VFIO_HANDOFF and every descriptor
// that came closed.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { Container, IommufdContext, openDevice, receiveDevice, sendDevice, type Device } from '../../src/index.js';
import { encodeHandoff, type HandoffMessage } from '../../structs/index.js';
import { sysClose, UnixSocket } from '../../src/sys/index.js';
import { REPO } from '../support/markdown-blocks.js';
import { openFdCount, resourceFootprint } from '../support/fd-count.js';
import { dmaToDevice, dmaToRam } from './edu-dma.js';
import { testDevice } from './manifest.js';
import { backend, on, runsOn } from './backend.js';

const RECEIVER = join(REPO, 'test/vm/fixtures/receive-device.mjs');
const edu = testDevice('edu');
const nvme = testDevice('nvme');

/** The descriptors sendDevice sends for `dev`, in its order (the test's own, still open here). */
function fdsOf(dev: Device): number[] {
  const ctx = dev.iommu;
  if (ctx instanceof IommufdContext) return [ctx.fd, dev.fd];
  return [(ctx as Container).fd, dev.group!.fd, dev.fd];
}

/** The message sendDevice would send for `dev`. */
function messageOf(dev: Device): HandoffMessage {
  const ctx = dev.iommu;
  return {
    backend,
    address: dev.address,
    iommuGroup: dev.iommuGroup,
    iommuId: ctx instanceof IommufdContext ? ctx.ioasId : (ctx as Container).iommuType,
    dmaBits: 64,
    spans: [],
  };
}

/** Sends `bytes` with `fds` on a socket pair and receives on the other end: the error, and fds left over. */
function refusal(bytes: Uint8Array, fds: number[]): { error: { code?: string; message: string }; leaked: number } {
  const [a, b] = UnixSocket.pair();
  try {
    a.sendAll(bytes, fds);
    a.close(); // a short message then ends the stream
    const before = openFdCount();
    let error: { code?: string; message: string } = { message: 'received' };
    try {
      receiveDevice(b, { timeoutMs: 5000 }).close();
    } catch (e) {
      error = e as { code?: string; message: string };
    }
    return { error, leaked: openFdCount() - before };
  } finally {
    a.close();
    b.close();
  }
}

describe(`handing edu to an unprivileged process (${backend})`, () => {
  // Without an IOMMU the receiver needs root: DMA takes physical addresses from /proc/self/pagemap.
  if (runsOn('type1', 'iommufd'))
    it(`uid 65534 drives edu with DMA and MSI from descriptors root sent, after root closed; nothing leaks${on('type1', 'iommufd')}`, async () => {
      const dir = mkdtempSync('/tmp/handoff-');
      chmodSync(dir, 0o777);
      const socketPath = join(dir, 'edu.sock');
      const script = `ulimit -l 4096 && exec ${process.execPath} ${RECEIVER} ${socketPath}`;
      const child = spawn('/bin/sh', ['-c', script], { uid: 65534, gid: 65534, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const next = async (): Promise<Record<string, unknown>> => {
        const r = await lines.next();
        if (r.done) throw new Error(`the receiver ended early (${await exited}): ${stderr}`);
        return JSON.parse(r.value) as Record<string, unknown>;
      };
      try {
        const before = resourceFootprint();
        for (let i = 0; !existsSync(socketPath); i++) {
          if (i > 600) throw new Error(`the receiver never listened: ${stderr}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const dev = openDevice(edu.bdf);
        let held: bigint;
        try {
          const buf = dev.dma.alloc(8192); // the receiver must allocate around it
          held = buf.iova;
          dev.bar(0).write32(0x04, 0x12345678); // edu's liveness register: ~value back
          sendDevice(dev, socketPath);
          expect(dev.bar(0).read32(0x04)).toBe(~0x12345678 >>> 0); // the sender keeps a working device
        } finally {
          dev.close();
        }
        expect(resourceFootprint()).toEqual(before);
        expect(await next()).toEqual({ step: 'received', uid: 65534, kind: backend, address: edu.bdf });
        child.stdin.write('go\n'); // only now: the sender has closed
        const driven = await next();
        expect(driven.copied).toBe(0); // the bytes went out through edu's DMA engine and came back
        expect(driven.iovas).not.toContain(held.toString(16));
        expect(driven.fired).toEqual([{ vector: 0, count: 1 }]);
        expect(driven.status).toBe(0x5);
        // The kernel charged the receiver: 16 MiB against its own 4 MiB limit, not root's.
        const kernel = driven.kernel as { errno?: string; message?: string };
        expect(kernel.errno).toBe('ENOMEM');
        expect(kernel.message).toMatch(/RLIMIT_MEMLOCK/);
        const closed = await next();
        expect(closed.fdsAfter).toBe(closed.fdsBefore);
        expect(await exited).toBe(0);
        // Everything is released in the kernel: root opens edu again at once.
        using again = openDevice(edu.bdf);
        expect(again.bar(0).read32(0)).toBe(0x010000ed);
      } finally {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);

  it('in one process: the received device shares the IOVA space and outlives the sender', () => {
    const before = resourceFootprint();
    const [a, b] = UnixSocket.pair();
    const sender = openDevice(edu.bdf);
    let received: Device | undefined;
    try {
      const held = sender.dma.alloc(4096);
      sendDevice(sender, a);
      received = receiveDevice(b, { timeoutMs: 5000 });
      expect(received).not.toBe(sender);
      expect(received.iommu.kind).toBe(backend);
      // Without an IOMMU there is no IOVA to step around: the device uses physical addresses.
      const spans = backend === 'noiommu' ? [] : [{ start: held.iova, end: held.iova + 4096n }];
      expect(received.dma.allocator().liveSpans).toEqual(spans);
      sender.close();
      const src = received.dma.alloc(4096);
      const dst = received.dma.alloc(4096);
      src.bytes.fill(0xa5, 0, 512);
      dmaToDevice(received.bar(0), src.iova, 0, 512);
      dmaToRam(received.bar(0), 0, dst.iova, 512);
      expect(dst.bytes.subarray(0, 512).every((x) => x === 0xa5)).toBe(true);
    } finally {
      sender.close();
      received?.close();
      a.close();
      b.close();
    }
    expect(resourceFootprint()).toEqual(before);
  });

  it('a sender with interrupts enabled, or closed, is refused before anything is sent', () => {
    const [a, b] = UnixSocket.pair();
    try {
      using dev = openDevice(edu.bdf);
      dev.interrupts.enable('msi');
      expect(() => sendDevice(dev, a)).toThrow(expect.objectContaining({ code: 'ERR_VFIO_INVALID_STATE' }));
      expect(() => sendDevice(dev, a)).toThrow(/msi interrupts enabled: .*interrupts\.disable\(\)/);
      dev.close();
      expect(() => sendDevice(dev, a)).toThrow(expect.objectContaining({ code: 'ERR_VFIO_CLOSED' }));
    } finally {
      a.close();
      b.close();
    }
  });
});

describe(`malformed handoff messages are refused, every descriptor closed (${backend})`, () => {
  const withEdu = (fn: (dev: Device, good: Uint8Array, fds: number[]) => void): void => {
    using dev = openDevice(edu.bdf);
    fn(dev, encodeHandoff(messageOf(dev)), fdsOf(dev));
  };
  const expectRefused = (bytes: Uint8Array, fds: number[], message: RegExp): void => {
    const { error, leaked } = refusal(bytes, fds);
    expect(error.message).toMatch(message);
    expect(error.code).toBe('ERR_VFIO_HANDOFF');
    expect(leaked).toBe(0);
  };

  it('wrong magic, version, size, reserved field and a cut message', () => {
    withEdu((dev, good, fds) => {
      const bad = (at: number, value: number): Uint8Array => {
        const b = good.slice();
        new DataView(b.buffer).setUint32(at, value, true);
        return b;
      };
      expectRefused(bad(0, 0x11111111), fds, /magic 0x11111111 is not 0x4f485456: this is not a device handoff/);
      const v2 = good.slice();
      v2[4] = 2;
      expectRefused(v2, fds, /version 2; this library reads version 1/);
      const long = new Uint8Array(good.length + 16);
      long.set(bad(8, good.length + 16));
      expectRefused(long, fds, /says 64 bytes and 0 spans \(48 bytes\)/);
      expectRefused(bad(28, 7), fds, /reserved field is 7, not 0/);
      expectRefused(good.subarray(0, 20), fds, /end of stream\) after 20 of the 48 bytes/);
      expect(dev.bar(0).read32(0)).toBe(0x010000ed); // the sender's device is untouched
    });
  });

  it('descriptors missing, extra, of the wrong kind or in the wrong order', () => {
    withEdu((_dev, good, fds) => {
      const nul = openSync('/dev/null', 'r');
      try {
        const n = fds.length;
        expectRefused(
          good,
          fds.slice(0, -1),
          new RegExp(`${n - 1} descriptors arrived; a ${backend} handoff carries ${n}`),
        );
        expectRefused(good, [...fds, nul], new RegExp(`${n + 1} descriptors arrived`));
        const first = backend === 'iommufd' ? 'iommufd' : 'container';
        const node = backend === 'iommufd' ? '/dev/iommu' : '/dev/vfio/vfio';
        expectRefused(
          good,
          [nul, ...fds.slice(1)],
          new RegExp(`the ${first} descriptor, fd \\d+ \\(/dev/null\\), is not ${node}`),
        );
        expectRefused(
          good,
          [...fds].reverse(),
          new RegExp(`the ${first} descriptor, fd \\d+ \\(.*\\), is not ${node}`),
        );
      } finally {
        sysClose(nul);
      }
    });
  });

  it("another device's descriptor, or a header naming another device, is refused", () => {
    withEdu((dev, good, fds) => {
      using other = openDevice(nvme.bdf);
      const swapped = [...fds.slice(0, -1), other.fd];
      expectRefused(
        good,
        swapped,
        /device descriptor.*(is not the VFIO device|is a [0-9a-f]{4}:[0-9a-f]{4}, and .* is a 1234:11e8)/,
      );
      const named = encodeHandoff({ ...messageOf(dev), address: other.address });
      expectRefused(
        named,
        fds,
        new RegExp(
          `${other.address} is in (no-IOMMU )?group ${other.iommuGroup} here, and the message says ${backend} group ${dev.iommuGroup}`,
        ),
      );
    });
  });
});
