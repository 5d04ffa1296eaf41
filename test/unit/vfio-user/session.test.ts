// A served device's session (src/vfio-user/server/), messages in and replies out without a
// socket: the version talk comes first, region accesses reach the model's handlers with the
// widths a CPU would use, config space is the emulated one, interrupts reach the client's
// eventfd, DMA windows from a descriptor are read and written, and errors are replies.
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_USER_DEVICE_GET_INFO,
  VFIO_USER_DEVICE_RESET,
  VFIO_USER_DEVICE_SET_IRQS,
  VFIO_USER_DMA_MAP,
  VFIO_USER_DMA_UNMAP,
  VFIO_USER_REGION_READ,
  VFIO_USER_REGION_WRITE,
  VFIO_USER_VERSION,
  VfioErrorCode,
} from '../../../structs/index.js';
import { EventFd, UnixSocket } from '../../../src/sys/index.js';
import type { Message } from '../../../src/vfio-user/message.js';
import {
  encodeDeviceInfo,
  encodeDmaMap,
  encodeDmaUnmap,
  encodeIrqSet,
  encodeRegionAccess,
  parseDeviceInfo,
  parseRegionAccess,
} from '../../../src/vfio-user/payloads.js';
import { DEFAULT_CAPABILITIES, encodeVersion, parseVersion } from '../../../src/vfio-user/version.js';
import type { DeviceModel } from '../../../src/vfio-user/server/model.js';
import { ServedModel } from '../../../src/vfio-user/server/served-device.js';
import { ServerSession } from '../../../src/vfio-user/server/session.js';
import { openFdCount } from '../../support/fd-count.js';

const dir = mkdtempSync(join(tmpdir(), 'vfio-user-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const accesses: string[] = [];
let scratch = 0;
const model: DeviceModel = {
  name: 'test model',
  identity: { vendorId: 0x1234, deviceId: 0x5678, classCode: 0x00ff00 },
  bars: [
    {
      size: 0x1000,
      read: (offset, width) => {
        accesses.push(`r${width}@${offset}`);
        return offset === 0 ? 0xcafe0001 : offset === 4 ? scratch : width === 8 ? 0n : 0;
      },
      write: (offset, width, value, ctx) => {
        accesses.push(`w${width}@${offset}=${String(value)}`);
        if (offset === 4) scratch = Number(value);
        if (offset === 8) ctx.interrupt(0);
        if (offset === 12)
          ctx.dma.write(
            0x10000n,
            ctx.dma.read(0x10000n, 4).map((b) => b + 1),
          );
        if (offset === 16) throw new Error('the model broke');
      },
    },
  ],
  interrupts: { intx: true, msi: 1 },
};

let id = 0;
const command = (cmd: number, payload: Uint8Array = new Uint8Array(0), fds: number[] = []): Message => ({
  id: ++id,
  command: cmd,
  size: 16 + payload.length,
  reply: false,
  noReply: false,
  error: false,
  errno: 0,
  payload: Buffer.from(payload),
  fds,
});

function session() {
  const errors: string[] = [];
  const device = new ServedModel(model, 16, (e, what) => errors.push(`${what}: ${(e as Error).message}`));
  return { device, errors, s: new ServerSession(device, 'client 1') };
}

/** A copy of descriptor `fd`, as a client's arrives: through a socket with SCM_RIGHTS. */
function copyOf(fd: number): number {
  const [a, b] = UnixSocket.pair();
  try {
    a.send(new Uint8Array(1), [fd]);
    return b.receive(1, 1).fds[0];
  } finally {
    a.close();
    b.close();
  }
}

function payloadOf(reply: object): Buffer {
  expect(reply).not.toHaveProperty('errno');
  return Buffer.from((reply as { payload?: Uint8Array }).payload ?? new Uint8Array(0));
}

describe('a vfio-user server session', () => {
  it('talks versions first, then answers device info; a command before the version ends the session', () => {
    const { s } = session();
    expect(() => s.handle(command(VFIO_USER_DEVICE_GET_INFO, encodeDeviceInfo(undefined)))).toThrow(
      expect.objectContaining({ code: VfioErrorCode.PROTOCOL }),
    );
    const caps = { ...DEFAULT_CAPABILITIES, maxDataXferSize: 4096 };
    const v = parseVersion(
      payloadOf(s.handle(command(VFIO_USER_VERSION, encodeVersion({ major: 0, minor: 0, capabilities: caps })))),
      'server',
    );
    expect([v.major, v.minor, v.capabilities.maxDataXferSize]).toEqual([0, 0, 4096]);
    const info = parseDeviceInfo(
      payloadOf(s.handle(command(VFIO_USER_DEVICE_GET_INFO, encodeDeviceInfo(undefined)))),
      's',
    );
    expect(info).toEqual({ flags: 3, numRegions: 9, numIrqs: 5 }); // RESET | PCI
  });

  it("offers what QEMU's vfio-user-pci accepts: at most 16 descriptors, 4 KiB pages, 65535 maps, 64 MiB", () => {
    // QEMU (10.1 to 11.1) sends its own limits (16 descriptors) in a 0.0 version and refuses a
    // reply over them, or of a newer minor: the device never attaches ("malformed max_msg_fds").
    const { s } = session();
    const qemu = { ...DEFAULT_CAPABILITIES, maxMsgFds: 16, maxDataXferSize: 1 << 20 };
    const v = parseVersion(
      payloadOf(s.handle(command(VFIO_USER_VERSION, encodeVersion({ major: 0, minor: 0, capabilities: qemu })))),
      'server',
    );
    expect([v.major, v.minor]).toEqual([0, 0]);
    expect(v.capabilities.maxMsgFds).toBeLessThanOrEqual(16);
    expect(v.capabilities.maxDataXferSize).toBeLessThanOrEqual(64 * 1024 * 1024);
    expect(v.capabilities.pgsizes & 0xfffn).toBe(0n);
    expect(v.capabilities.maxDmaMaps).toBeLessThanOrEqual(65535);
  });

  it('splits region accesses into aligned widths for the model, and reads config space', () => {
    const { s } = session();
    s.handle(command(VFIO_USER_VERSION, encodeVersion({ major: 0, minor: 1, capabilities: DEFAULT_CAPABILITIES })));
    accesses.length = 0;
    const read = (region: number, offset: bigint, count: number) =>
      parseRegionAccess(
        payloadOf(s.handle(command(VFIO_USER_REGION_READ, encodeRegionAccess({ region, offset, count })))),
        's',
        true,
        1 << 20,
      ).data!;
    expect(Buffer.from(read(0, 0n, 4)).readUInt32LE(0)).toBe(0xcafe0001);
    const write = (offset: bigint, data: Uint8Array) =>
      s.handle(command(VFIO_USER_REGION_WRITE, encodeRegionAccess({ region: 0, offset, count: data.length, data })));
    write(4n, Buffer.from([0x78, 0x56, 0x34, 0x12]));
    expect(Buffer.from(read(0, 4n, 4)).readUInt32LE(0)).toBe(0x12345678);
    read(0, 2n, 12); // 2 + 4 + 4 + 2 bytes: 2@2, 4@4, 4@8, 2@12
    expect(accesses).toEqual(['r4@0', 'w4@4=305419896', 'r4@4', 'r2@2', 'r4@4', 'r4@8', 'r2@12']);
    expect(Buffer.from(read(7, 0n, 4)).readUInt32LE(0)).toBe(0x56781234); // config: vendor, device
    expect(
      s.handle(command(VFIO_USER_REGION_READ, encodeRegionAccess({ region: 0, offset: 0xffen, count: 4 }))),
    ).toMatchObject({ errno: 22 });
    expect(
      s.handle(command(VFIO_USER_REGION_READ, encodeRegionAccess({ region: 6, offset: 0n, count: 4 }))),
    ).toMatchObject({ errno: 22 });
  });

  it('raises MSI through the eventfd the client set; a reset takes it away; a throwing model is EIO', () => {
    const { s, errors } = session();
    s.handle(command(VFIO_USER_VERSION, encodeVersion({ major: 0, minor: 1, capabilities: DEFAULT_CAPABILITIES })));
    const fd = new EventFd();
    try {
      const fdsBefore = openFdCount();
      const dup = copyOf(fd.fd); // the session owns what it receives: give it a copy
      const set = encodeIrqSet({
        flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_MSI_IRQ_INDEX,
        start: 0,
        count: 1,
      });
      expect(s.handle(command(VFIO_USER_DEVICE_SET_IRQS, set, [dup]))).toEqual({});
      s.handle(
        command(
          VFIO_USER_REGION_WRITE,
          encodeRegionAccess({ region: 0, offset: 8n, count: 4, data: new Uint8Array(4) }),
        ),
      );
      expect(fd.read()).toBe(1n);
      const fire = encodeIrqSet({
        flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_MSI_IRQ_INDEX,
        start: 0,
        count: 1,
      });
      s.handle(command(VFIO_USER_DEVICE_SET_IRQS, fire));
      expect(fd.read()).toBe(1n); // the client fired it itself
      expect(s.handle(command(VFIO_USER_DEVICE_RESET))).toEqual({});
      expect(openFdCount()).toBe(fdsBefore); // the copy was closed by the reset
      expect(
        s.handle(
          command(
            VFIO_USER_REGION_WRITE,
            encodeRegionAccess({ region: 0, offset: 16n, count: 4, data: new Uint8Array(4) }),
          ),
        ),
      ).toMatchObject({ errno: 5 });
      expect(errors).toEqual(['test model: VFIO_USER_REGION_WRITE: the model broke']);
    } finally {
      fd.close();
    }
  });

  it('refuses an interrupt descriptor that is not an eventfd, closing it; the vector keeps its eventfd', () => {
    const { s } = session();
    s.handle(command(VFIO_USER_VERSION, encodeVersion({ major: 0, minor: 1, capabilities: DEFAULT_CAPABILITIES })));
    const fd = new EventFd();
    try {
      const set = encodeIrqSet({
        flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_MSI_IRQ_INDEX,
        start: 0,
        count: 1,
      });
      expect(s.handle(command(VFIO_USER_DEVICE_SET_IRQS, set, [copyOf(fd.fd)]))).toEqual({});
      const before = openFdCount();
      // A socket, as a client could send: an interrupt written into a full one would block the server.
      const [a, b] = UnixSocket.pair();
      b.close();
      const other = copyOf(a.fd);
      a.close();
      const refused = s.handle(command(VFIO_USER_DEVICE_SET_IRQS, set, [other]));
      expect(refused).toMatchObject({ errno: 22 });
      expect((refused as { why: string }).why).toMatch(
        new RegExp(`^the descriptor for vector 0, fd ${other} \\(socket:\\[\\d+\\]\\), is not an eventfd$`),
      );
      expect(openFdCount()).toBe(before); // the pair closed here, the copy by the session
      s.handle(
        command(
          VFIO_USER_REGION_WRITE,
          encodeRegionAccess({ region: 0, offset: 8n, count: 4, data: new Uint8Array(4) }),
        ),
      );
      expect(fd.read()).toBe(1n); // raised through the eventfd set before
    } finally {
      fd.close();
      s.handle(command(VFIO_USER_DEVICE_RESET));
    }
  });

  it('maps a DMA window from its descriptor: the model reads and writes the client memory', () => {
    const { s, device } = session();
    s.handle(command(VFIO_USER_VERSION, encodeVersion({ major: 0, minor: 1, capabilities: DEFAULT_CAPABILITIES })));
    const file = join(dir, 'memory');
    const mem = openSync(file, 'w+');
    try {
      ftruncateSync(mem, 0x2000);
      writeSync(mem, Buffer.from([1, 2, 3, 4]), 0, 4, 0x1000);
      const fdsBefore = openFdCount();
      const given = openSync(file, 'r+');
      const map = encodeDmaMap({ flags: 3, offset: 0x1000n, addr: 0x10000n, size: 0x1000n });
      expect(s.handle(command(VFIO_USER_DMA_MAP, map, [given]))).toEqual({});
      expect(openFdCount()).toBe(fdsBefore); // mapped, the descriptor closed
      expect(s.handle(command(VFIO_USER_DMA_MAP, map))).toMatchObject({ errno: 17 }); // EEXIST
      s.handle(
        command(
          VFIO_USER_REGION_WRITE,
          encodeRegionAccess({ region: 0, offset: 12n, count: 4, data: new Uint8Array(4) }),
        ),
      );
      expect([...readFileSync(file).subarray(0x1000, 0x1004)]).toEqual([2, 3, 4, 5]);
      const unmap = encodeDmaUnmap({ flags: 0, addr: 0x10000n, size: 0x1000n });
      expect(payloadOf(s.handle(command(VFIO_USER_DMA_UNMAP, unmap)))).toEqual(unmap);
      expect(s.handle(command(VFIO_USER_DMA_UNMAP, unmap))).toMatchObject({ errno: 2 }); // ENOENT
      expect(() => device.dma.read(0x10000n, 4)).toThrow(expect.objectContaining({ code: VfioErrorCode.OUT_OF_RANGE }));
    } finally {
      closeSync(mem);
      device.clientGone();
    }
  });

  it('refuses descriptors a command does not take, closing them', () => {
    const { s } = session();
    s.handle(command(VFIO_USER_VERSION, encodeVersion({ major: 0, minor: 1, capabilities: DEFAULT_CAPABILITIES })));
    const before = openFdCount();
    const fd = openSync('/dev/null', 'r');
    expect(() => s.handle(command(VFIO_USER_DEVICE_GET_INFO, encodeDeviceInfo(undefined), [fd]))).toThrow(
      /with 1 descriptors/,
    );
    expect(openFdCount()).toBe(before);
  });
});
