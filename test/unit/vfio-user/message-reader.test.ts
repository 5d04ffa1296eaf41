// Whole messages out of a stream read in pieces (src/vfio-user/message-reader.ts), and which
// message the descriptors of a read belong to: the one holding the read's last byte. Linux ends
// a read after the first bytes of a send that carried descriptors but may start it with earlier
// sends, as QEMU's vfio-user-pci showed: a DMA unmap and a map with its memfd, sent back to back,
// came as one read whose descriptor is the map's.
import { closeSync, openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { VFIO_USER_DMA_MAP, VFIO_USER_DMA_UNMAP, VfioErrorCode } from '../../../structs/index.js';
import { UnixSocket } from '../../../src/sys/index.js';
import { encodeMessage } from '../../../src/vfio-user/message.js';
import { MessageReader } from '../../../src/vfio-user/message-reader.js';
import { encodeDmaMap, encodeDmaUnmap } from '../../../src/vfio-user/payloads.js';
import { openFdCount } from '../../support/fd-count.js';

const unmap = encodeMessage({
  id: 1,
  command: VFIO_USER_DMA_UNMAP,
  payload: encodeDmaUnmap({ flags: 0, addr: 0x1000n, size: 0x1000n }),
});
const map = encodeMessage({
  id: 2,
  command: VFIO_USER_DMA_MAP,
  payload: encodeDmaMap({ flags: 3, offset: 0n, addr: 0x1000n, size: 0x1000n }),
});

const opened: number[] = [];
/** A real descriptor (the reader closes what it gives no message): /dev/null. */
const fd = () => {
  const n = openSync('/dev/null', 'r');
  opened.push(n);
  return n;
};
afterEach(() => {
  for (const n of opened.splice(0)) {
    try {
      closeSync(n);
    } catch {
      // the reader closed it
    }
  }
});

const reader = () => new MessageReader('test peer', 4096, 16);
const summary = (ms: { id: number; fds: number[] }[]) => ms.map((m) => [m.id, m.fds.length]);

describe('the descriptors of a read', () => {
  it('belong to the message that holds its last byte: a map read together with the unmap before it', () => {
    const r = reader();
    const memfd = fd();
    const got = r.feed(Buffer.concat([unmap, map]), [memfd]);
    expect(summary(got)).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(got[1].fds).toEqual([memfd]);
  });

  it('come so from Linux: two sends, the second with a descriptor, are one read', () => {
    const [a, b] = UnixSocket.pair();
    try {
      a.sendAll(unmap);
      a.sendAll(map, [fd()]);
      const got = b.receive(64 * 1024, 16);
      expect([got.data.length, got.fds.length]).toEqual([unmap.length + map.length, 1]);
      opened.push(...got.fds);
      expect(summary(reader().feed(got.data, got.fds))).toEqual([
        [1, 0],
        [2, 1],
      ]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('stay with a message that arrives in pieces, the descriptors with its first piece', () => {
    const r = reader();
    const memfd = fd();
    expect(summary(r.feed(Buffer.concat([unmap, map.subarray(0, 20)]), [memfd]))).toEqual([[1, 0]]);
    const got = r.feed(map.subarray(20), []);
    expect(summary(got)).toEqual([[2, 1]]);
    expect(got[0].fds).toEqual([memfd]);
    expect(summary(r.feed(unmap, []))).toEqual([[1, 0]]);
  });

  it('go to the message being gathered when the read is all inside it', () => {
    const r = reader();
    const memfd = fd();
    expect(r.feed(map.subarray(0, 10), [])).toEqual([]);
    expect(r.feed(map.subarray(10, 30), [memfd])).toEqual([]);
    expect(summary(r.feed(map.subarray(30), []))).toEqual([[2, 1]]);
  });

  it('are closed when there are more than agreed for one message', () => {
    const before = openFdCount();
    const r = reader();
    const fds = Array.from({ length: 17 }, fd);
    expect(() => r.feed(map, fds)).toThrow(expect.objectContaining({ code: VfioErrorCode.PROTOCOL }));
    expect(openFdCount()).toBe(before); // the 17 are closed
  });
});
