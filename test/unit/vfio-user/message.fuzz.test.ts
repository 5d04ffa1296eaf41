// Fuzz: the vfio-user parsers (src/vfio-user/message.ts, version.ts, payloads.ts) on what a
// hostile peer could send: random bytes, and valid messages mutated. Every input returns or
// throws a coded error within the time bound, and what is returned stays inside the bytes sent
// and the limits agreed.
// VFIO_TS_FUZZ_RUNS=100000 runs 100,000 inputs per property (test/support/fuzz.ts: replay).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD } from '../../../structs/index.js';
import { HEADER_SIZE, encodeMessage, parseHeader } from '../../../src/vfio-user/message.js';
import {
  encodeDmaAccess,
  encodeDmaMap,
  encodeIrqSet,
  encodeRegionAccess,
  parseDmaAccess,
  parseDmaMap,
  parseIrqSet,
  parseRegionAccess,
} from '../../../src/vfio-user/payloads.js';
import { DEFAULT_CAPABILITIES, encodeVersion, parseVersion } from '../../../src/vfio-user/version.js';
import { fuzzBytes, fuzzParams, outcome } from '../../support/fuzz.js';

const RUNS = 2000;
const PEER = 'fuzzed peer';
const MAX = 4096;

const header = fuzzBytes(
  [{ bytes: encodeMessage({ id: 3, command: 9, payload: new Uint8Array(16) }), hot: [4, 8, 12] }],
  40,
);

describe('fuzz: vfio-user parsers', () => {
  it('a header is accepted only with a size from 16 to the limit and a known type', () => {
    fc.assert(
      fc.property(header, (bytes) => {
        const h = outcome(() => parseHeader(bytes, PEER, MAX));
        if (!h) return;
        expect(h.size).toBeGreaterThanOrEqual(HEADER_SIZE);
        expect(h.size).toBeLessThanOrEqual(MAX);
        expect(h.reply && h.noReply).toBe(false);
      }),
      fuzzParams(RUNS),
    );
  });

  it('version data is read, or refused, never thrown at uncoded', () => {
    const seed = encodeVersion({ major: 0, minor: 1, capabilities: DEFAULT_CAPABILITIES });
    fc.assert(
      fc.property(fuzzBytes([{ bytes: seed, hot: [0, 2, 20, 40] }]), (bytes) => {
        const v = outcome(() => parseVersion(bytes, PEER));
        if (!v) return;
        expect(Number.isInteger(v.capabilities.maxMsgFds)).toBe(true);
        expect(v.capabilities.maxMsgFds).toBeLessThanOrEqual(253);
        expect(v.capabilities.maxDataXferSize).toBeGreaterThan(0);
      }),
      fuzzParams(RUNS),
    );
  });

  it('an access describes only bytes it carries, within the agreed transfer size', () => {
    const region = encodeRegionAccess({ region: 1, offset: 8n, count: 4, data: new Uint8Array(4) });
    const dma = encodeDmaAccess({ offset: 0x1000n, count: 4, data: new Uint8Array(4) });
    fc.assert(
      fc.property(
        fuzzBytes(
          [
            { bytes: region, hot: [8, 12] },
            { bytes: dma, hot: [8, 12] },
          ],
          40,
        ),
        fc.boolean(),
        fc.boolean(),
        (bytes, withData, isDma) => {
          const a = outcome(() => (isDma ? parseDmaAccess : parseRegionAccess)(bytes, PEER, withData, 64));
          if (!a) return;
          expect(a.count).toBeLessThanOrEqual(64);
          expect(a.data?.length ?? 0).toBe(withData ? a.count : 0);
          expect(bytes.length).toBe(16 + (withData ? a.count : 0));
        },
      ),
      fuzzParams(RUNS),
    );
  });

  it('a DMA map is of some bytes and does not wrap; set irqs match their descriptors', () => {
    const map = encodeDmaMap({ flags: 3, offset: 0n, addr: 0x10000n, size: 0x1000n });
    const irqs = encodeIrqSet({
      flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
      index: 2,
      start: 0,
      count: 2,
    });
    fc.assert(
      fc.property(
        fuzzBytes(
          [
            { bytes: map, hot: [0, 8, 16, 24] },
            { bytes: irqs, hot: [4, 12, 16] },
          ],
          48,
        ),
        fc.array(fc.nat({ max: 100 }), { maxLength: 4 }),
        (bytes, fds) => {
          const m = outcome(() => parseDmaMap(bytes, PEER));
          if (m) {
            expect(m.size).toBeGreaterThan(0n);
            expect(m.addr + m.size).toBeLessThanOrEqual(2n ** 64n);
          }
          const s = outcome(() => parseIrqSet(bytes, fds, PEER));
          if (s) {
            expect(fds.length === 0 || fds.length === s.count || s.flags & VFIO_IRQ_SET_DATA_EVENTFD).toBeTruthy();
            expect(s.bools?.length ?? s.count).toBe(s.count);
          }
        },
      ),
      fuzzParams(RUNS),
    );
  });
});
