// A BAR the model shares as memory (`shared: true`): the client maps it from the descriptor the
// server sends with the region's info, so its accesses are loads and stores with no message;
// the model sees the client's stores and the client sees the model's, through one memfd.
import { describe, expect, it } from 'vitest';
import { VFIO_REGION_INFO_FLAG_MMAP } from '../../../structs/index.js';
import { openDevice } from '../../../src/index.js';
import { openFdCount } from '../../support/fd-count.js';
import { servedForTests } from '../../support/serve-model.js';

const served = servedForTests('mailbox');

describe('a shared BAR', () => {
  it("is mapped by the client; stores reach the model and the model's reach the client", async () => {
    const before = openFdCount();
    {
      using dev = openDevice(`vfio-user:${served.server.socket}`);
      expect(dev.regionInfo(2).flags & VFIO_REGION_INFO_FLAG_MMAP).toBe(VFIO_REGION_INFO_FLAG_MMAP);
      const shared = dev.bar(2);
      expect(shared.isMapped(0, 0x10000)).toBe(true); // all of it: loads and stores, no messages
      shared.writeBytes(0, Uint8Array.from([10, 20, 30, 40, 50]));
      dev.interrupts.enable('msi');
      dev.bar(0).write32(0x0, 5); // COPY 5: the model adds one to each
      expect(await dev.interrupts.waitAsync(5000)).toEqual([{ vector: 0, count: 1 }]);
      expect([...shared.readBytes(0x1000, 5)]).toEqual([11, 21, 31, 41, 51]);
      expect(shared.read32(0x1000)).toBe(0x291f150b); // a plain load of the model's bytes
      expect(dev.bar(0).read32(0x4)).toBeGreaterThanOrEqual(5);
    }
    expect(openFdCount()).toBe(before);
  });
});
