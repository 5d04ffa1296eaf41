// receiveDevice (src/vfio/handoff/) on the host, over a socket pair and a fake sysfs: a message
// or a descriptor that is not what it should be is refused with ERR_VFIO_HANDOFF, and every
// descriptor that came with it is closed. (The VM test hands real devices over.)
import { mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeHandoff, type HandoffMessage } from '../../../../structs/index.js';
import { sysClose, UnixListener, UnixSocket } from '../../../../src/sys/index.js';
import { receiveDevice, sendDevice, type Device } from '../../../../src/vfio/index.js';

const root = mkdtempSync(join(tmpdir(), 'vfio-ts-handoff-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sys = join(root, 'sys');
const d = join(sys, 'bus/pci/devices/0000:00:03.0');
mkdirSync(d, { recursive: true });
mkdirSync(join(sys, 'bus/pci/drivers/vfio-pci'), { recursive: true });
symlinkSync(join(sys, 'bus/pci/drivers/vfio-pci'), join(d, 'driver'));
mkdirSync(join(sys, 'kernel/iommu_groups/7/devices'), { recursive: true });
symlinkSync(join(sys, 'kernel/iommu_groups/7'), join(d, 'iommu_group'));

const message: HandoffMessage = {
  backend: 'type1',
  address: '0000:00:03.0',
  iommuGroup: 7,
  iommuId: 3,
  dmaBits: 64,
  spans: [],
};
const fdCount = () => readdirSync('/proc/self/fd').length;
const nulls = (n: number) => Array.from({ length: n }, () => openSync('/dev/null', 'r'));

/** Sends `bytes` with `count` descriptors; what receiveDevice threw, and the descriptors left open. */
function receive(bytes: Uint8Array, count: number): { error: Error & { code?: string }; leaked: number } {
  const [a, b] = UnixSocket.pair();
  const fds = nulls(count);
  try {
    if (bytes.length > 0) a.sendAll(bytes, fds);
    a.close();
    const before = fdCount();
    try {
      receiveDevice(b, { timeoutMs: 1000, sysfsRoot: sys });
    } catch (e) {
      return { error: e as Error & { code?: string }, leaked: fdCount() - before };
    }
    throw new Error('accepted');
  } finally {
    fds.forEach((fd) => sysClose(fd));
    b.close();
  }
}

describe('receiveDevice refuses', () => {
  it('a message that is not a handoff, with its descriptors closed', () => {
    const bad = encodeHandoff(message);
    bad[0] ^= 0xff;
    const r = receive(bad, 3);
    expect(r.error.code).toBe('ERR_VFIO_HANDOFF');
    expect(r.error.message).toMatch(
      /^device handoff from unix socket \d+: magic .*the 3 descriptors that came with it are closed/,
    );
    expect(r.leaked).toBe(0);
  });

  it('a message cut short, or nothing at all', () => {
    const cut = receive(encodeHandoff(message).subarray(0, 10), 3);
    expect(cut.error.code).toBe('ERR_VFIO_HANDOFF');
    expect(cut.error.message).toMatch(
      /end of stream\) after 10 of the 48 bytes wanted; the 3 descriptors that came with them are closed/,
    );
    expect(cut.leaked).toBe(0);
    const none = receive(new Uint8Array(0), 0);
    expect(none.error.code).toBe('ERR_VFIO_HANDOFF');
    expect(none.leaked).toBe(0);
  });

  it('descriptors that are not the container, group and device the header names', () => {
    const r = receive(encodeHandoff(message), 3);
    expect(r.error.code).toBe('ERR_VFIO_HANDOFF');
    expect(r.error.message).toMatch(
      /the container descriptor, fd \d+ \(\/dev\/null\), is not \/dev\/vfio\/vfio; every descriptor received is closed/,
    );
    expect(r.leaked).toBe(0);
    const iommufd = receive(encodeHandoff({ ...message, backend: 'iommufd' }), 2);
    expect(iommufd.error.message).toMatch(/the iommufd descriptor, fd \d+ \(\/dev\/null\), is not \/dev\/iommu/);
    expect(iommufd.leaked).toBe(0);
  });

  it("a header whose group is not the device's here, or a device that is not there", () => {
    const group = receive(encodeHandoff({ ...message, iommuGroup: 8 }), 3);
    expect(group.error.message).toMatch(/0000:00:03\.0 is in group 7 here, and the message says type1 group 8/);
    expect(group.leaked).toBe(0);
    const missing = receive(encodeHandoff({ ...message, address: '0000:00:09.0' }), 3);
    expect(missing.error.code).toBe('ERR_VFIO_NO_DEVICE');
    expect(missing.leaked).toBe(0);
  });

  it('no sender within the time given: the listener is gone, its file too', () => {
    const path = join(root, 'wait.sock');
    const before = fdCount();
    expect(() => receiveDevice(path, { timeoutMs: 50, sysfsRoot: sys })).toThrow(/no sender connected within 50 ms/);
    expect(fdCount()).toBe(before);
    expect(() => UnixListener.listen(path).close()).not.toThrow(); // the path is free again
  });

  it('what is not a socket, path or listener', () => {
    expect(() => receiveDevice(3 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_VFIO_INVALID_ARGUMENT' }),
    );
    expect(() => sendDevice({ closed: true, name: 'device x' } as unknown as Device, 'p')).toThrow(
      expect.objectContaining({ code: 'ERR_VFIO_CLOSED' }),
    );
  });
});
