// Runs in the test VM: the e1000e register map on the manifest's 82574. A cause raised through
// ICS survives a write-1-to-clear of another cause in ICR (clear() is one write: a hidden read
// of ICR would have cleared both); a statistics counter that clears on read reads its count
// once and zero the next time, and dump() does not touch it.
import { afterEach, describe, expect, it } from 'vitest';
import { e1000eMap, openDevice, RegisterMapError, type Device } from '../../src/index.js';
import { main as loopback } from '../../examples/e1000e-loopback.js';
import { recordingRegion } from './fixtures/recording-region.js';
import { testDevice } from './manifest.js';

const nic = testDevice('e1000e');
let dev: Device | undefined;
afterEach(() => dev?.close());

/** The NIC's registers through a recording region; `log` receives every access. */
function open(log: string[]) {
  dev = openDevice(nic.bdf);
  return e1000eMap.bind(recordingRegion(dev.bar(0), log));
}

describe('e1000e register map', () => {
  it('a cause set through ICS survives clear() of another cause: one write to ICR, no read', () => {
    const log: string[] = [];
    const regs = open(log);
    regs.IMC.write(0xffff_ffff); // every cause masked: nothing is signalled
    regs.ICR.read(); // reading ICR clears it (MSI-X is off): start from no causes
    regs.ICS.write({ TXDW: 1, RXT0: 1 });
    log.length = 0;
    regs.ICR.clear('RXT0');
    expect(log).toEqual(['write32 0xc0 0x80']);
    expect(() => regs.ICR.modify({ RXT0: 1 })).toThrow(RegisterMapError); // would read ICR: refused
    expect(log).toEqual(['write32 0xc0 0x80']);
    const causes = regs.ICR.read();
    expect([causes.TXDW, causes.RXT0]).toEqual([1, 0]);
    expect(regs.ICR.read().TXDW).toBe(0); // that read cleared it
    expect(log).toEqual(['write32 0xc0 0x80', 'read32 0xc0', 'read32 0xc0']);
  });

  it('a clear-on-read counter reads its count once and zero the next time; dump() leaves it alone', () => {
    {
      const regs = open([]);
      regs.GPTC.read(); // whatever earlier tests sent is cleared
      regs.GPRC.read();
      dev!.close();
    }
    const lines: string[] = [];
    loopback(nic.bdf, (l) => lines.push(l)); // one frame out through the TX ring and back in
    expect(lines.at(-1)).toBe('received 64 bytes back: identical');
    const log: string[] = [];
    const regs = open(log);
    const dump = regs.dump();
    expect(log.filter((l) => / 0x40(74|80)$/.test(l))).toEqual([]);
    expect(dump.skipped).toContainEqual({ name: 'GPTC', reason: 'reading clears it' });
    expect(String(dump)).toMatch(/^STATUS = 0x[0-9a-f]{8} \{ FD: [01], LU: [01], SPEED: '/m);
    expect([regs.GPTC.read().raw, regs.GPTC.read().raw]).toEqual([1, 0]);
    expect([regs.GPRC.read().raw, regs.GPRC.read().raw]).toEqual([1, 0]);
    expect(regs.GPTC.accesses).toBe(2);
  });
});
