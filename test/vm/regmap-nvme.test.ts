// Runs in the test VM: the NVMe register map on the manifest's controller. CAP decodes to what
// the identify example computes by hand; CC composed from fields is the value that example
// writes (0x00460001); ASQ and ACQ, 64-bit, are each written as two 32-bit accesses, low first;
// the controller comes up with them.
import { afterEach, describe, expect, it } from 'vitest';
import { nvmeDoorbells, nvmeMap, openDevice, type Device } from '../../src/index.js';
import { recordingRegion } from './fixtures/recording-region.js';
import { testDevice } from './manifest.js';

const nvme = testDevice('nvme');
let dev: Device | undefined;
afterEach(() => dev?.close());

/** What examples/nvme-identify.ts writes to CC by hand: EN, 4 KiB pages, NVM, IOSQES 6, IOCQES 4. */
const CC_ENABLE = 0x00460001;

/** Polls `ready` for up to `ms` milliseconds. */
function waitFor(ready: () => boolean, ms: number, what: string): void {
  const end = Date.now() + ms;
  while (!ready()) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

describe('NVMe register map', () => {
  it('CAP: two 32-bit reads, decoded to the MQES, TO and DSTRD the example computes by hand', () => {
    const log: string[] = [];
    dev = openDevice(nvme.bdf);
    const bar0 = dev.bar(0);
    const regs = nvmeMap.bind(recordingRegion(bar0, log));
    const cap = regs.CAP.read();
    expect(log).toEqual(['read32 0x0', 'read32 0x4']);
    const [lo, hi] = [bar0.read32(0), bar0.read32(4)];
    expect(cap.raw).toBe((BigInt(hi) << 32n) | BigInt(lo));
    expect({ MQES: cap.MQES, TO: cap.TO, DSTRD: cap.DSTRD }).toEqual({
      MQES: lo & 0xffff,
      TO: (lo >>> 24) & 0xff,
      DSTRD: hi & 0xf,
    });
  });

  it('CC from fields is 0x00460001; ASQ and ACQ go as two 32-bit writes each; the controller gets ready', () => {
    const log: string[] = [];
    dev = openDevice(nvme.bdf);
    const probe = nvmeMap.bind(dev.bar(0));
    const regs = nvmeMap.bind(recordingRegion(dev.bar(0), log), nvmeDoorbells(probe.CAP.read().DSTRD));
    const cc = { EN: 1, CSS: 'nvm', MPS: 0, AMS: 'roundRobin', SHN: 'none', IOSQES: 6, IOCQES: 4 } as const;
    expect(regs.CC.encode(cc)).toBe(CC_ENABLE);

    const timeout = Math.max(1, probe.CAP.read().TO) * 500;
    regs.CC.write(0);
    waitFor(() => regs.CSTS.read().RDY === 0, timeout, 'CSTS.RDY = 0');
    const queues = dev.dma.alloc(8192);
    queues.bytes.fill(0);
    log.length = 0;
    regs.AQA.write({ ASQS: 15, ACQS: 15 });
    regs.ASQ.write(queues.iova);
    regs.ACQ.write(queues.iova + 4096n);
    regs.CC.write(cc);
    const lo = (v: bigint) => `0x${(v & 0xffff_ffffn).toString(16)}`;
    const hi = (v: bigint) => `0x${(v >> 32n).toString(16)}`;
    expect(log).toEqual([
      'write32 0x24 0xf000f',
      `write32 0x28 ${lo(queues.iova)}`,
      `write32 0x2c ${hi(queues.iova)}`,
      `write32 0x30 ${lo(queues.iova + 4096n)}`,
      `write32 0x34 ${hi(queues.iova + 4096n)}`,
      'write32 0x14 0x460001',
    ]);
    expect(regs.ASQ.read().raw).toBe(queues.iova);
    expect(regs.ACQ.read().ACQB).toBe((queues.iova + 4096n) >> 12n);
    waitFor(
      () => {
        const csts = regs.CSTS.read();
        if (csts.CFS) throw new Error(`controller fatal status: ${String(csts)}`);
        return csts.RDY === 1;
      },
      timeout,
      'CSTS.RDY = 1',
    );
    expect(String(regs.CC.read())).toBe(
      "CC = 0x00460001 { EN: 1, CSS: 'nvm', MPS: 0, AMS: 'roundRobin', SHN: 'none', IOSQES: 6, IOCQES: 4 }",
    );
    regs.CC.modify({ EN: 0 });
    waitFor(() => regs.CSTS.read().RDY === 0, timeout, 'CSTS.RDY = 0 at the end');
  });
});
