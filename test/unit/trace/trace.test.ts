// Tracing a region backed by a file: each access reported and decoded through the bound map, the
// three outputs, tracing switched off leaving the class's methods, and a run checked against a
// recording stopping at the first difference with both values decoded.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  type RegionInfo,
} from '../../../structs/index.js';
import { Region } from '../../../src/vfio/region/region.js';
import { KernelChannel } from '../../../src/vfio/device/kernel-channel.js';
import {
  ReplayMismatchError,
  checkTrace,
  defineRegisterMap,
  parseTrace,
  trace,
  type TraceEvent,
} from '../../../src/index.js';

const info: RegionInfo = {
  index: 0,
  flags: VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
  size: 0x1000n,
  offset: 0n,
  msixMappable: false,
  caps: [],
};

const map = defineRegisterMap({
  name: 'toy',
  registers: {
    CTRL: { offset: 0x0, width: 32, fields: { EN: { bits: [0, 0] }, SIZE: { bits: [15, 8] } } },
    STATUS: { offset: 0x4, width: 32, access: 'ro', fields: { RDY: { bits: [0, 0] } } },
    BASE: { offset: 0x8, width: 64, accessWidth: 32 },
  },
});

let dir: string;
let fd: number;
/** The kernel's channel over the file: pread/pwrite and mmap at the region's offset. */
let channel: KernelChannel;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfio-ts-trace-'));
  const file = join(dir, 'bar');
  writeFileSync(file, Buffer.alloc(0x1000));
  fd = openSync(file, 'r+');
  channel = new KernelChannel(fd, '0000:00:03.0');
});
afterAll(() => {
  closeSync(fd);
  rmSync(dir, { recursive: true });
});

/** A toy bring-up: size, base, enable, poll ready (the file stands in for the device). */
function bringUp(region: Region, size: number): void {
  const regs = map.bind(region);
  regs.CTRL.write(0);
  regs.BASE.write(0x1_2345_6000n);
  regs.CTRL.write({ EN: 1, SIZE: size });
  region.write32(4, 1); // the "device" becomes ready
  while (regs.STATUS.read().RDY !== 1);
  region.read8(0x100);
}

describe('trace', () => {
  it('reports each access with its register decoded, and leaves the class methods when stopped', () => {
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    const lines: string[] = [];
    const t = trace(region, { keep: true, write: (s) => lines.push(s) });
    expect(Object.hasOwn(region, 'read32')).toBe(true);
    bringUp(region, 15);
    t.stop();
    expect(Object.hasOwn(region, 'read32')).toBe(false);
    region.read32(0); // not traced any more
    const kinds = t.events.map((e) => `${e.kind} ${e.register ?? e.offset}`);
    expect(kinds).toEqual([
      'write CTRL',
      'write BASE (bits 31:0)',
      'write BASE (bits 63:32)',
      'write CTRL',
      'write STATUS',
      'read STATUS',
      'read 256',
    ]);
    const ctrl = t.events[3];
    expect(ctrl).toMatchObject({ device: '0000:00:03.0', region: 'BAR0', offset: 0, width: 32, value: 0xf01 });
    expect(ctrl.fields).toEqual({ EN: 1, SIZE: 15 });
    expect(ctrl.decoded).toBe('CTRL = 0x00000f01 { EN: 1, SIZE: 15 }');
    expect(lines.join('')).toMatch(/0000:00:03\.0 BAR0 0x0000 write32 +0x00000f01 CTRL \{ EN: 1, SIZE: 15 \}\n/);
    expect(t.events[1].value).toBe(0x2345_6000);
  });

  it('writes JSON lines that parse back to the same events', () => {
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    let text = '';
    const t = trace(region, { format: 'jsonl', keep: true, write: (s) => (text += s) });
    bringUp(region, 3);
    region.write64(0x10, 0xffff_0000_0000_0001n);
    t.stop();
    const back = parseTrace(text);
    expect(back.map((e) => `${e.kind} ${e.offset} ${e.register}`)).toEqual(
      t.events.map((e) => `${e.kind} ${e.offset} ${e.register}`),
    );
    expect(back[3].fields).toEqual({ EN: 1, SIZE: 3 });
    expect(back.map((e) => e.value)).toEqual(t.events.map((e) => e.value));
    expect(back.at(-1)!.value).toBe(0xffff_0000_0000_0001n);
    expect(() => parseTrace('{"t":1}\n')).toThrow(/trace line 1: each event needs t, kind and device/);
  });

  it('writes a Chrome trace that is JSON, with a named track per device and instant events', () => {
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    const file = join(dir, 'trace.json');
    const t = trace(region, { format: 'chrome', file });
    bringUp(region, 1);
    t.stop();
    const chrome = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: Array<Record<string, unknown>> };
    const phases = chrome.traceEvents.map((e) => e.ph);
    expect(phases.slice(0, 2)).toEqual(['M', 'M']);
    expect(chrome.traceEvents[1]).toMatchObject({ name: 'thread_name', args: { name: '0000:00:03.0' } });
    expect(chrome.traceEvents.filter((e) => e.ph === 'i')).toHaveLength(7);
    expect(chrome.traceEvents.find((e) => e.name === 'STATUS read')).toMatchObject({ cat: 'mmio', s: 't' });
  });

  it('traces a region added twice once, and two traces of one region each see every access', () => {
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    const a = trace(region, { keep: true, output: false }).add(region);
    const b = trace(region, { keep: true, output: false });
    region.read32(0);
    a.stop();
    region.read32(4);
    expect([a.count, b.count]).toEqual([1, 2]);
    expect(Object.hasOwn(region, 'read32')).toBe(true); // b still traces it
    b.stop();
    expect(Object.hasOwn(region, 'read32')).toBe(false);
    region.close();
    expect(() => trace(region)).toThrow(/BAR0 of 0000:00:03.0 is closed: trace a device or region that is open/);
  });

  it('refuses a format it does not know and a file it cannot create, leaving nothing traced', () => {
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    expect(() => trace(region, { format: 'xml' as never })).toThrow(
      /trace format must be one of text, jsonl, chrome, got xml/,
    );
    expect(() => trace(region, { file: join(dir, 'no', 'such', 'dir') })).toThrow(/cannot create it \(ENOENT\)/);
    expect(Object.hasOwn(region, 'read32')).toBe(false);
  });
});

describe('checkTrace', () => {
  function record(size: number): TraceEvent[] {
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    region.write32(4, 0);
    using t = trace(region, { keep: true, output: false });
    bringUp(region, size);
    return t.events;
  }

  it('passes a run that does what was recorded', () => {
    const recorded = record(15);
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    region.write32(4, 0);
    const check = checkTrace(recorded).add(region);
    bringUp(region, 15);
    check.end();
    expect(check.matched).toBe(7);
  });

  it('stops a write that differs before it reaches the device, both values decoded', () => {
    const recorded = record(15);
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    region.write32(0, 0x55);
    const check = checkTrace(recorded).add(region);
    let err: unknown;
    try {
      bringUp(region, 7);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReplayMismatchError);
    expect((err as Error).message).toBe(
      'a different value written at event 4 (BAR0 0x0 CTRL write32) of 0000:00:03.0: recorded CTRL = 0x00000f01 { EN: 1, SIZE: 15 }, got CTRL = 0x00000701 { EN: 1, SIZE: 7 }. The run differs from the recording here; if the register may differ (a counter, a timestamp), mark it volatile.',
    );
    expect(region.read32(0)).toBe(0); // the first CTRL write went through, the differing one did not
    expect(() => check.end()).toThrow(err);
    expect(Object.hasOwn(region, 'write32')).toBe(false);
  });

  it('compares a read by its final value, or by a volatile rule', () => {
    const recorded = record(15);
    recorded.find((e) => e.kind === 'read' && e.register === 'STATUS')!.value = 0x81;
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    region.write32(4, 0);
    checkTrace(recorded).add(region);
    expect(() => bringUp(region, 15)).toThrow(
      /a different value read at event 6 \(BAR0 0x4 STATUS read32\) of 0000:00:03.0: recorded STATUS = 0x00000081 \{ RDY: 1 \}, got STATUS = 0x00000001 \{ RDY: 1 \}/,
    );
    region.write32(4, 0);
    const lenient = checkTrace(recorded, { volatile: { STATUS: { fields: ['RDY'] } } }).add(region);
    bringUp(region, 15);
    lenient.end();
  });

  it('says when the run stops before the recording does', () => {
    const recorded = record(15);
    using region = new Region(channel, info, 'BAR0 of 0000:00:03.0');
    const check = checkTrace(recorded).add(region);
    map.bind(region).CTRL.write(0);
    expect(() => check.end()).toThrow(
      /the run stopped early at event 2 \(BAR0 0x8 BASE \(bits 31:0\) write32\).*but the run ended/,
    );
  });
});
