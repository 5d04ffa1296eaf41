// The host side of the matrix's vfio-user row (scripts/vm/model-servers.mjs), without a boot: the
// model is served on a socket scripts/vm/run is told of, answers a client, and what goes wrong on
// the server's side (a client breaking the protocol) is what stop() reports, failing the row. The
// row itself: it alone runs the vfio-user file, with the server, on the kernel with both ways in.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VFIO_USER_REGION_READ } from '../../structs/index.js';
import { UnixSocket } from '../../src/sys/index.js';
import { ClientConnection } from '../../src/vfio-user/index.js';
import { encodeRegionAccess, parseRegionAccess } from '../../src/vfio-user/payloads.js';
import { matrixRows } from '../../scripts/vm/matrix-rows.mjs';
import { startModelServers } from '../../scripts/vm/model-servers.mjs';

const FILES = ['test/vm/vfio-user.test.ts', 'test/vm/pci-idio-16.test.ts'];

describe('model servers for a matrix row', () => {
  it('serve the model on a socket for --vfio-user, report nothing when all went well, and clean up', async () => {
    const served = await startModelServers(['edu']);
    const [option, socket] = served.args;
    expect(option).toBe('--vfio-user');
    expect(statSync(socket).isSocket()).toBe(true);
    const c = ClientConnection.connect(socket);
    try {
      const reply = c.request(VFIO_USER_REGION_READ, encodeRegionAccess({ region: 0, offset: 0n, count: 4 }));
      expect(Buffer.from(parseRegionAccess(reply.payload, 's', true, 64).data!).readUInt32LE(0)).toBe(0x010000ed);
    } finally {
      c.close();
    }
    expect(await served.stop()).toBe('');
    expect(existsSync(dirname(socket))).toBe(false);
  });

  it('report what the server saw go wrong: a client that broke the protocol', async () => {
    const served = await startModelServers(['edu']);
    const s = UnixSocket.connect(served.args[1], { timeoutMs: 5000 });
    try {
      s.sendAll(Buffer.alloc(16, 0xff)); // a header no peer would send
      s.receive(16); // the server hangs up
    } finally {
      s.close();
    }
    const report = await served.stop();
    expect(report).toContain('the edu model server reported:');
    expect(report).toContain('broke the vfio-user protocol');
  });
});

describe('the vfio-user row', () => {
  const rows = matrixRows();
  it('alone runs the vfio-user files, serving edu and the PCI-IDIO-16, on the kernel with type1, iommufd and its driver', () => {
    const row = rows.find((r) => r.name === 'vfio-user');
    expect(row).toMatchObject({ arch: 'x86_64', kernel: 'vfio', serve: ['edu', 'pci-idio-16'], files: FILES });
    expect(row?.rig).toEqual(expect.arrayContaining(['--kernel', 'vfio', '--devices', 'none']));
    // The second served device (vfio-user1: the PCI-IDIO-16) stays with its kernel driver.
    expect(row?.rig.join(' ')).toContain('--keep-driver vfio-user1');
    for (const r of rows.filter((x) => x !== row)) {
      expect(r.serve).toBeUndefined();
      for (const file of FILES) {
        if (r.files) expect(r.files).not.toContain(file);
        else expect(r.exclude).toContain(file);
      }
    }
  });
});
