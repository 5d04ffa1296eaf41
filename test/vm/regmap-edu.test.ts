// Runs in the test VM: an IP-XACT description of a small made-up device (facto, laid out as
// QEMU's edu) loads and drives edu's registers: id, liveness, factorial, status, interrupt
// raise and acknowledge, 64-bit DMA registers; every access the width edu answers.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRegisterMap, openDevice, type Device } from '../../src/index.js';
import { recordingRegion } from './fixtures/recording-region.js';
import { testDevice } from './manifest.js';

const edu = testDevice('edu');
let dev: Device | undefined;
afterEach(() => dev?.close());

describe('an IP-XACT map on edu', () => {
  it('reads the id, checks liveness, computes 5!, raises and acknowledges an interrupt, dumps', () => {
    const map = loadRegisterMap(join(import.meta.dirname, 'fixtures/facto.ipxact.xml'));
    const log: string[] = [];
    dev = openDevice(edu.bdf);
    const regs = map.bind(recordingRegion(dev.bar(0), log));

    expect(String(regs.get('ID').read())).toBe("ID = 0x010000ed { MAGIC: 'edu', MINOR: 0, MAJOR: 1 }");
    regs.get('LIVENESS').write(0x12345678);
    expect(regs.get('LIVENESS').read().raw).toBe(0xedcba987);

    regs.get('FACTORIAL').write(5);
    const deadline = Date.now() + 5000;
    while (regs.get('STATUS').read().COMPUTING === 1) if (Date.now() > deadline) throw new Error('factorial timed out');
    expect(regs.get('FACTORIAL').read().raw).toBe(120);

    regs.get('INT_ACK').clear('BITS'); // nothing pending
    regs.get('INT_RAISE').write({ BITS: 0x24 });
    expect(regs.get('INT_STATUS').read().raw).toBe(0x24);
    regs.get('INT_ACK').clear({ BITS: 0x20 });
    expect(regs.get('INT_STATUS').read().raw).toBe(0x04);
    regs.get('INT_ACK').clear('BITS');
    expect(regs.get('INT_STATUS').read().raw).toBe(0);

    regs.get('DMA_SRC').write(0x1234_5000n);
    expect(regs.get('DMA_SRC').read().raw).toBe(0x1234_5000n);
    const dump = String(regs.dump());
    expect(dump).toMatch(/^DMA_SRC = 0x0000000012345000$/m);
    expect(dump).toMatch(/^not read: INT_RAISE \(write-only\), INT_ACK \(write-only\)$/m);

    // edu answers 4-byte accesses below 0x80 and 8-byte ones from there: nothing else went out.
    const widths = log.map((l) => /^(read|write)(\d+) 0x([0-9a-f]+)/.exec(l)!).map((m) => [m[2], parseInt(m[3], 16)]);
    expect(widths.filter(([w, at]) => (Number(at) < 0x80 ? w !== '32' : w !== '64'))).toEqual([]);
    expect(log.slice(0, 3)).toEqual(['read32 0x0', 'write32 0x4 0x12345678', 'read32 0x4']);
    expect(log).toContain('write32 0x60 0x24');
    expect(log).toContain('write32 0x64 0x20');
  });
});
