// A vfio-user client connection (src/vfio-user/client/connection.ts) to the edu model served by
// another process (test/support/serve-model.ts): the version talk, commands answered, a failed
// command a SysError named after it, a server that dies mid-session a coded error, not a hang.
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  VFIO_USER_DEVICE_GET_INFO,
  VFIO_USER_DEVICE_GET_REGION_INFO,
  VFIO_USER_REGION_READ,
  VFIO_USER_REGION_WRITE,
  VfioErrorCode,
  vfio_region_info,
} from '../../../structs/index.js';
import { ClientConnection } from '../../../src/vfio-user/index.js';
import {
  encodeDeviceInfo,
  encodeInfoRequest,
  encodeRegionAccess,
  parseDeviceInfo,
  parseRegionAccess,
} from '../../../src/vfio-user/payloads.js';
import { openFdCount } from '../../support/fd-count.js';
import { thrownBy } from '../../support/thrown.js';
import { serveInChild, servedForTests } from '../../support/serve-model.js';

const served = servedForTests('edu');

const read32 = (c: ClientConnection, offset: number) =>
  Buffer.from(
    parseRegionAccess(
      c.request(VFIO_USER_REGION_READ, encodeRegionAccess({ region: 0, offset: BigInt(offset), count: 4 })).payload,
      's',
      true,
      64,
    ).data!,
  ).readUInt32LE(0);

describe('a vfio-user client connection', () => {
  it('connects to a socket only its owner may use, talks versions, and gets answers', () => {
    expect(statSync(served.server.socket).mode & 0o777).toBe(0o600);
    const before = openFdCount();
    const c = ClientConnection.connect(served.server.socket);
    try {
      expect(c.server.maxDataXferSize).toBeGreaterThanOrEqual(4096);
      expect(parseDeviceInfo(c.request(VFIO_USER_DEVICE_GET_INFO, encodeDeviceInfo(undefined)).payload, 's')).toEqual({
        flags: 3,
        numRegions: 9,
        numIrqs: 5,
      });
      expect(read32(c, 0)).toBe(0x010000ed); // edu's id register
      const data = Buffer.alloc(4);
      data.writeUInt32LE(0x12345678);
      c.request(VFIO_USER_REGION_WRITE, encodeRegionAccess({ region: 0, offset: 4n, count: 4, data }));
      expect(read32(c, 4)).toBe(~0x12345678 >>> 0); // liveness: the complement
      expect(() => c.request(VFIO_USER_DEVICE_GET_REGION_INFO, encodeInfoRequest(vfio_region_info, 99))).toThrow(
        expect.objectContaining({ name: 'SysError', syscall: 'VFIO_USER_DEVICE_GET_REGION_INFO', errnoName: 'EINVAL' }),
      );
      expect(read32(c, 0)).toBe(0x010000ed); // a refused command leaves the connection usable
    } finally {
      c.close();
    }
    expect(openFdCount()).toBe(before);
  });

  it('serves the next client after one goes, with the state the last one left', () => {
    const a = ClientConnection.connect(served.server.socket);
    const data = Buffer.alloc(4);
    data.writeUInt32LE(7);
    a.request(VFIO_USER_REGION_WRITE, encodeRegionAccess({ region: 0, offset: 4n, count: 4, data }));
    a.close();
    const b = ClientConnection.connect(served.server.socket);
    try {
      expect(read32(b, 4)).toBe(~7 >>> 0);
    } finally {
      b.close();
    }
  });

  it('a client killed with eventfds and DMA set leaves the server serving the next one', async () => {
    const script = join(served.dir, 'client.mts');
    writeFileSync(
      script,
      `import { openDevice } from ${JSON.stringify(resolve(import.meta.dirname, '../../../src/index.ts'))};
       const dev = openDevice(${JSON.stringify(`vfio-user:${served.server.socket}`)});
       dev.interrupts.enable('msi');
       const buf = dev.dma.alloc(4096);
       console.log('ready', buf.iova);
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ready) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && ready()),
    );
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await exited;
    const c = ClientConnection.connect(served.server.socket); // accepted once the dead one's end is seen
    try {
      expect(read32(c, 0)).toBe(0x010000ed);
    } finally {
      c.close();
    }
    expect(served.server.stderr()).toBe(''); // no warning: a client going is not an error
  });

  it('a server killed mid-session gives ERR_VFIO_DISCONNECTED at the next call, and nothing leaks', async () => {
    const before = openFdCount(); // the child's pipes close when it dies
    const other = await serveInChild('edu', join(served.dir, 'dies.sock'));
    const c = ClientConnection.connect(other.socket);
    try {
      expect(read32(c, 0)).toBe(0x010000ed);
      await other.stop('SIGKILL');
      const error = thrownBy(() => read32(c, 0));
      expect(error).toMatchObject({ code: VfioErrorCode.DISCONNECTED });
      expect((error as Error).message).toMatch(/dies\.sock closed the connection during VFIO_USER_REGION_READ/);
      expect(c.closed).toBe(true);
    } finally {
      c.close();
    }
    expect(openFdCount()).toBe(before);
  });
});
