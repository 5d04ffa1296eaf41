// Fuzz: vfio-user peers that send what they must not, both ways. A server session (with the
// edu model) fed random and mutated commands, and a client fed random and mutated replies,
// each answer or refuse with a coded error within the time bound, and leave no descriptor open.
// VFIO_TS_FUZZ_RUNS=100000 runs 100,000 inputs per property (test/support/fuzz.ts: replay).
import { closeSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_USER_DEVICE_GET_INFO,
  VFIO_USER_DEVICE_SET_IRQS,
  VFIO_USER_DMA_MAP,
  VFIO_USER_REGION_READ,
  VFIO_USER_REGION_WRITE,
  VFIO_USER_VERSION,
} from '../../../structs/index.js';
import { UnixSocket } from '../../../src/sys/index.js';
import { ClientConnection } from '../../../src/vfio-user/index.js';
import { encodeMessage } from '../../../src/vfio-user/message.js';
import { MessageReader } from '../../../src/vfio-user/message-reader.js';
import { encodeDeviceInfo, encodeDmaMap, encodeIrqSet, encodeRegionAccess } from '../../../src/vfio-user/payloads.js';
import { ServedModel } from '../../../src/vfio-user/server/served-device.js';
import { ServerSession } from '../../../src/vfio-user/server/session.js';
import { DEFAULT_CAPABILITIES, encodeVersion } from '../../../src/vfio-user/version.js';
import { eduModel } from '../../../examples/models/edu.js';
import { openFdCount } from '../../support/fd-count.js';
import { fuzzBytes, fuzzParams, outcome } from '../../support/fuzz.js';

const RUNS = 1000;
const version = encodeMessage({
  id: 0,
  command: VFIO_USER_VERSION,
  payload: encodeVersion({ major: 0, minor: 1, capabilities: DEFAULT_CAPABILITIES }),
});
const COMMANDS = [
  encodeMessage({ id: 1, command: VFIO_USER_DEVICE_GET_INFO, payload: encodeDeviceInfo(undefined) }),
  encodeMessage({
    id: 2,
    command: VFIO_USER_REGION_READ,
    payload: encodeRegionAccess({ region: 0, offset: 0n, count: 4 }),
  }),
  encodeMessage({
    id: 3,
    command: VFIO_USER_REGION_WRITE,
    payload: encodeRegionAccess({ region: 7, offset: 4n, count: 2, data: Uint8Array.of(6, 0) }),
  }),
  encodeMessage({
    id: 4,
    command: VFIO_USER_DMA_MAP,
    payload: encodeDmaMap({ flags: 3, offset: 0n, addr: 0x10000n, size: 0x1000n }),
  }),
  encodeMessage({
    id: 5,
    command: VFIO_USER_DEVICE_SET_IRQS,
    payload: encodeIrqSet({
      flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
      index: 1,
      start: 0,
      count: 1,
    }),
  }),
];
const HOT = [0, 2, 4, 8, 12, 16, 20, 24, 28, 32, 40];

/** /dev/null descriptors to send along: a hostile client may attach any. */
function nullFds(n: number): number[] {
  const [a, b] = UnixSocket.pair();
  try {
    for (let i = 0; i < n; i++) a.send(Uint8Array.of(0), [0]);
    return Array.from({ length: n }, () => b.receive(1, 1).fds[0]);
  } finally {
    a.close();
    b.close();
  }
}

describe('fuzz: hostile vfio-user peers', () => {
  it('a server session answers or refuses any command, and keeps or closes every descriptor', () => {
    const before = openFdCount();
    const device = new ServedModel(eduModel(), 16, () => {});
    fc.assert(
      fc.property(
        fuzzBytes(
          COMMANDS.map((bytes) => ({ bytes, hot: HOT })),
          96,
        ),
        fc.integer({ min: 0, max: 2 }),
        (bytes, fdCount) => {
          const session = new ServerSession(device, 'fuzzed client');
          session.handle({ ...new MessageReader('v', 4096, 8).feed(version, [])[0] });
          const fds = nullFds(fdCount);
          const reader = new MessageReader('fuzzed client', 4096, 8);
          const messages = outcome(() => reader.feed(bytes, fds)) ?? [];
          reader.close();
          for (const m of messages) outcome(() => session.handle(m));
        },
      ),
      fuzzParams(RUNS),
    );
    device.clientGone();
    expect(openFdCount()).toBe(before);
  });

  it('a client refuses any malformed reply with a coded error and closes what came with it', () => {
    const before = openFdCount();
    const reply = encodeMessage({
      id: 0,
      command: VFIO_USER_VERSION,
      reply: true,
      payload: encodeVersion({ major: 0, minor: 1, capabilities: DEFAULT_CAPABILITIES }),
    });
    const info = encodeMessage({
      id: 1,
      command: VFIO_USER_DEVICE_GET_INFO,
      reply: true,
      payload: encodeDeviceInfo({ flags: 3, numRegions: 9, numIrqs: 5 }),
    });
    fc.assert(
      fc.property(
        fc.boolean(),
        fuzzBytes(
          [
            { bytes: reply, hot: HOT },
            { bytes: info, hot: HOT },
          ],
          96,
        ),
        fc.integer({ min: 0, max: 2 }),
        (inVersion, bytes, fdCount) => {
          const [client, server] = UnixSocket.pair();
          try {
            // The server's answers wait in the socket before the client asks: one thread plays both.
            const sent = nullFds(bytes.length ? fdCount : 0); // descriptors need a byte to ride on
            if (!inVersion) server.send(reply);
            server.send(bytes, sent);
            for (const fd of sent) closeSync(fd); // the client has its own copies now
            server.close(); // whatever is missing, the client meets the end of the stream
            const c = outcome(() => ClientConnection.over(client, 'fuzzed server', { timeoutMs: 1000 }));
            if (c) {
              outcome(() => c.request(VFIO_USER_DEVICE_GET_INFO, encodeDeviceInfo(undefined)));
              c.close();
            }
          } finally {
            client.close();
            server.close();
          }
        },
      ),
      fuzzParams(RUNS),
    );
    expect(openFdCount()).toBe(before);
  });
});
