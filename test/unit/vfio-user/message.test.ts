// The vfio-user codec (src/vfio-user/message.ts, version.ts, payloads.ts): what is built reads
// back the same, and what a peer must not send is refused with ERR_VFIO_PROTOCOL naming the
// peer and the field.
import { describe, expect, it } from 'vitest';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_USER_DEVICE_GET_INFO,
  VFIO_USER_REGION_READ,
  VfioErrorCode,
} from '../../../structs/index.js';
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
import { thrownBy } from '../../support/thrown.js';

const PEER = 'vfio-user server /run/test.sock';
function protocol(fn: () => unknown, message: RegExp): void {
  const error = thrownBy(fn);
  expect(error).toMatchObject({ code: VfioErrorCode.PROTOCOL });
  expect((error as Error).message).toMatch(message);
}

describe('vfio-user header', () => {
  it('reads back what was built: id, command, size, type and error', () => {
    const cmd = encodeMessage({ id: 7, command: VFIO_USER_REGION_READ, payload: new Uint8Array(16), noReply: true });
    expect(cmd.length).toBe(HEADER_SIZE + 16);
    expect(parseHeader(cmd, PEER, 4096)).toEqual({
      id: 7,
      command: VFIO_USER_REGION_READ,
      size: 32,
      reply: false,
      noReply: true,
      error: false,
      errno: 0,
    });
    const failed = encodeMessage({ id: 65535, command: 5, reply: true, errno: 22, payload: new Uint8Array(8) });
    expect(failed.length).toBe(HEADER_SIZE); // an error reply carries the header alone
    expect(parseHeader(failed, PEER, 4096)).toMatchObject({ id: 65535, reply: true, error: true, errno: 22 });
  });

  it('refuses sizes below the header or over the limit, unknown types and flags', () => {
    const ok = encodeMessage({ id: 1, command: VFIO_USER_DEVICE_GET_INFO });
    const with32 = (at: number, v: number) => {
      const b = Buffer.from(ok);
      b.writeUInt32LE(v, at);
      return b;
    };
    protocol(() => parseHeader(with32(4, 8), PEER, 4096), /server \/run\/test\.sock .* 8 bytes, less than its header/);
    protocol(() => parseHeader(with32(4, 5000), PEER, 4096), /5000 bytes, over the 4096 allowed/);
    protocol(() => parseHeader(with32(8, 2), PEER, 4096), /message type 2/);
    protocol(() => parseHeader(with32(8, 0x40), PEER, 4096), /undefined flags 0x40/);
    protocol(() => parseHeader(with32(8, 0x11), PEER, 4096), /reply .* no-reply/);
    protocol(() => parseHeader(with32(8, 0x20), PEER, 4096), /marked as an error/);
    protocol(() => parseHeader(ok.subarray(0, 10), PEER, 4096), /header of 10 bytes/);
  });
});

describe('vfio-user version', () => {
  it('reads back the capabilities it wrote, and gives the defaults for none', () => {
    const caps = { ...DEFAULT_CAPABILITIES, maxMsgFds: 16, maxDataXferSize: 65536, writeMultiple: true };
    expect(parseVersion(encodeVersion({ major: 0, minor: 1, capabilities: caps }), PEER)).toEqual({
      major: 0,
      minor: 1,
      capabilities: caps,
    });
    expect(parseVersion(Uint8Array.from([0, 0, 0, 0]), PEER).capabilities).toEqual(DEFAULT_CAPABILITIES);
  });

  it('refuses data without its NUL, JSON that is not an object, and capabilities out of range', () => {
    const version = (text: string) => Buffer.concat([Buffer.from([0, 0, 1, 0]), Buffer.from(text)]);
    protocol(() => parseVersion(version('{}'), PEER), /does not end in NUL/);
    protocol(() => parseVersion(version('[1]\0'), PEER), /not a JSON object/);
    protocol(() => parseVersion(version('{x\0'), PEER), /not JSON/);
    protocol(() => parseVersion(version('{"capabilities":{"max_msg_fds":1e9}}\0'), PEER), /max_msg_fds 1000000000/);
    protocol(() => parseVersion(version('{"capabilities":{"write_multiple":1}}\0'), PEER), /write_multiple 1/);
    expect(parseVersion(version('{"capabilities":{"future":[]},"other":1}\0'), PEER).capabilities).toEqual(
      DEFAULT_CAPABILITIES,
    );
  });
});

describe('vfio-user payloads', () => {
  it('region and DMA accesses carry exactly their count of bytes where data travels', () => {
    const data = Buffer.from([1, 2, 3, 4]);
    const write = encodeRegionAccess({ region: 2, offset: 0x10n, count: 4, data });
    expect(parseRegionAccess(write, PEER, true, 1024)).toEqual({ region: 2, offset: 0x10n, count: 4, data });
    const read = encodeRegionAccess({ region: 2, offset: 0x10n, count: 4 });
    expect(parseRegionAccess(read, PEER, false, 1024)).toEqual({ region: 2, offset: 0x10n, count: 4 });
    protocol(() => parseRegionAccess(read, PEER, true, 1024), /4 bytes in a payload of 16 bytes; 20 expected with/);
    protocol(() => parseRegionAccess(write, PEER, true, 2), /4 bytes, over the 2 agreed/);
    const dma = encodeDmaAccess({ offset: 0x1000n, count: 4, data });
    expect(parseDmaAccess(dma, PEER, true, 1024)).toEqual({ region: 0, offset: 0x1000n, count: 4, data });
    const huge = Buffer.from(encodeDmaAccess({ offset: 0n, count: 0 }));
    huge.writeBigUInt64LE(2n ** 63n, 8);
    protocol(() => parseDmaAccess(huge, PEER, false, 1024), /over the 1024 agreed/);
  });

  it('a DMA map of nothing or that wraps is refused', () => {
    expect(parseDmaMap(encodeDmaMap({ flags: 3, offset: 0n, addr: 0x10000n, size: 0x2000n }), PEER)).toEqual({
      flags: 3,
      offset: 0n,
      addr: 0x10000n,
      size: 0x2000n,
    });
    protocol(() => parseDmaMap(encodeDmaMap({ flags: 3, offset: 0n, addr: 0n, size: 0n }), PEER), /0 bytes/);
    protocol(
      () => parseDmaMap(encodeDmaMap({ flags: 3, offset: 0n, addr: 2n ** 64n - 0x1000n, size: 0x2000n }), PEER),
      /wraps/,
    );
    protocol(() => parseDmaMap(new Uint8Array(8), PEER), /DMA map of 8 bytes, shorter than its 32-byte structure/);
  });

  it('set irqs: the descriptors match the count (or are none), bools travel in the payload', () => {
    const trigger = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    const m = encodeIrqSet({ flags: trigger, index: 2, start: 0, count: 2 });
    expect(parseIrqSet(m, [10, 11], PEER)).toEqual({ flags: trigger, index: 2, start: 0, count: 2 });
    expect(parseIrqSet(m, [], PEER).count).toBe(2);
    protocol(() => parseIrqSet(m, [10], PEER), /came with 1 descriptors; 2 \(or none/);
    const bools = encodeIrqSet({
      flags: VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
      index: 1,
      start: 0,
      count: 3,
      bools: [true, false, true],
    });
    expect(parseIrqSet(bools, [], PEER).bools).toEqual([true, false, true]);
    protocol(() => parseIrqSet(bools, [5], PEER), /1 descriptors; none expected/);
    protocol(() => parseIrqSet(encodeIrqSet({ flags: 0x7, index: 0, start: 0, count: 0 }), [], PEER), /flags 0x7/);
  });
});
