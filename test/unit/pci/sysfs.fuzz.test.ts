// Fuzz: the sysfs files PciSysfs reads (src/pci/sysfs.ts), in a fake tree under a tmp dir with
// fuzzed contents: the vendor, device and class files (valid, mutated, random, missing), the
// driver and iommu_group links (any target name, or none), the group's name file, the vfio-dev
// directory and the device and group directories' entries. Each call returns what the files say
// in range (ids that fit their width, a group that is a number) or throws a coded error, within
// the time bound. VFIO_TS_FUZZ_RUNS=100000 runs 100,000 trees (replay: see test/support/fuzz.ts).
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PciSysfs, parsePciAddress } from '../../../src/pci/index.js';
import { fuzzParams, outcome } from '../../support/fuzz.js';

const RUNS = 250;
const ADDR = parsePciAddress('0000:00:03.0');
// A tree a test: on tmpfs where there is one (a disk-backed /tmp makes each tree several ms).
const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'vfio-fuzz-sysfs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A file's content: what sysfs writes, edited, or anything; undefined: the file is missing. */
const content = (valid: string) =>
  fc.oneof(
    { arbitrary: fc.constant(valid), weight: 2 },
    {
      arbitrary: fc
        .tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ maxLength: 3 }))
        .map(([at, cut, add]) => valid.slice(0, at % valid.length) + add + valid.slice((at % valid.length) + cut)),
      weight: 3,
    },
    { arbitrary: fc.string({ maxLength: 24 }), weight: 1 },
    { arbitrary: fc.constantFrom('', '\n', '0x', '0xffffffffffffffff\n', '-0x1\n', '0x1234 5678\n'), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );

/** A directory entry's name: any string a file system takes (no '/', no NUL, not '.' or '..'). */
const fileName = fc
  .string({ minLength: 1, maxLength: 40 })
  .filter((n) => !/[/\0]/.test(n) && n !== '.' && n !== '..' && Buffer.byteLength(n) <= 255);

const names = (valid: string[]) =>
  fc.oneof(
    fc.constant(valid),
    fc.array(fc.oneof(fc.constantFrom(...valid), fileName), { maxLength: 5 }),
    fc.constant(undefined),
  );

const tree = fc.record({
  vendor: content('0x1234\n'),
  device: content('0x11e8\n'),
  klass: content('0x00ff00\n'),
  driver: fc.option(fc.oneof(fc.constant('vfio-pci'), fileName)),
  group: fc.option(
    fc.oneof(fc.constantFrom('5', '0', '4294967296', '99999999999999999999', '1e3', '0x5', '-1'), fileName),
  ),
  groupName: content('vfio-noiommu\n'),
  cdevs: names(['vfio0', 'noiommu-vfio12']),
  devices: names(['0000:00:03.0', '0000:00:04.0']),
  members: names(['0000:00:03.0', '0000:00:1f.7']),
});

type Tree = typeof tree extends fc.Arbitrary<infer T> ? T : never;

/** Writes `t` as a sysfs tree at `root` (the last tree removed first). */
function writeTree(t: Tree): void {
  rmSync(join(root, 'bus'), { recursive: true, force: true });
  rmSync(join(root, 'kernel'), { recursive: true, force: true });
  const bus = join(root, 'bus/pci/devices');
  const dev = join(bus, ADDR);
  mkdirSync(dev, { recursive: true });
  for (const name of t.devices ?? []) mkdirSync(join(bus, name), { recursive: true });
  for (const [file, text] of [
    ['vendor', t.vendor],
    ['device', t.device],
    ['class', t.klass],
  ] as const)
    if (text !== undefined) writeFileSync(join(dev, file), text);
  if (t.driver !== null) symlinkSync(join('../../drivers', t.driver), join(dev, 'driver'));
  if (t.cdevs) {
    mkdirSync(join(dev, 'vfio-dev'), { recursive: true });
    for (const n of t.cdevs) mkdirSync(join(dev, 'vfio-dev', n), { recursive: true });
  }
  const group = join(root, 'kernel/iommu_groups/5');
  mkdirSync(group, { recursive: true });
  if (t.group !== null) symlinkSync(join('../../../kernel/iommu_groups', t.group), join(dev, 'iommu_group'));
  if (t.groupName !== undefined) writeFileSync(join(group, 'name'), t.groupName);
  if (t.members) {
    mkdirSync(join(group, 'devices'));
    for (const n of new Set(t.members)) symlinkSync(join('../../../../bus/pci/devices', n), join(group, 'devices', n));
  }
}

const isAddress = (a: string) => parsePciAddress(a) === a;

const VALID: Tree = {
  vendor: '0x1234\n',
  device: '0x11e8\n',
  klass: '0x00ff00\n',
  driver: 'vfio-pci',
  group: '5',
  groupName: 'vfio-noiommu\n',
  cdevs: ['vfio0'],
  devices: [],
  members: ['0000:00:03.0'],
};

/**
 * Found by this test: an empty id file read as NaN, a group link to ':' read as NaN, a missing
 * vendor file and a missing group devices directory escaping as Node's ENOENT.
 */
const FOUND: Array<[Tree]> = [
  [{ ...VALID, device: '' }],
  [{ ...VALID, group: ':' }],
  [{ ...VALID, vendor: undefined }],
  [{ ...VALID, members: undefined }],
];

describe('fuzz: sysfs', () => {
  it('the valid tree reads back: the fuzzing starts from a real-looking one', () => {
    writeTree(VALID);
    const sysfs = new PciSysfs(root);
    expect(sysfs.info(ADDR)).toEqual({
      address: ADDR,
      vendor: 0x1234,
      device: 0x11e8,
      class: 0xff00,
      driver: 'vfio-pci',
      iommuGroup: 5,
    });
    expect([sysfs.isNoIommuGroup(5), sysfs.vfioCdev(ADDR), sysfs.list(), sysfs.groupMembers(5)]).toEqual([
      true,
      'vfio0',
      [ADDR],
      [ADDR],
    ]);
  });

  it('every reader gives values in range or a coded error', () => {
    const sysfs = new PciSysfs(root);
    fc.assert(
      fc.property(tree, (t) => {
        writeTree(t);
        const info = outcome(() => sysfs.info(ADDR));
        if (info) {
          for (const [v, max] of [
            [info.vendor, 0xffff],
            [info.device, 0xffff],
            [info.class, 0xffffff],
          ] as const) {
            expect(Number.isInteger(v) && v >= 0 && v <= max).toBe(true);
          }
          expect(info.driver).toBe(t.driver);
        }
        const group = outcome(() => sysfs.iommuGroup(ADDR));
        if (group !== undefined && group !== null) expect(Number.isSafeInteger(group) && group >= 0).toBe(true);
        expect([true, false, undefined]).toContain(outcome(() => sysfs.isNoIommuGroup(5)));
        const cdev = outcome(() => sysfs.vfioCdev(ADDR));
        if (cdev) expect(cdev).toMatch(/^(noiommu-)?vfio\d+$/);
        for (const list of [outcome(() => sysfs.list()), outcome(() => sysfs.groupMembers(5))]) {
          if (!list) continue;
          expect(list.every(isAddress)).toBe(true);
          expect(list).toEqual([...list].sort());
        }
      }),
      fuzzParams(RUNS, FOUND),
    );
  });

  it('a tree without the PCI bus or the group: coded errors that name what is missing', () => {
    const empty = new PciSysfs(join(root, 'nothing-here'));
    expect(() => empty.list()).toThrow(expect.objectContaining({ code: 'ERR_VFIO_NO_DEVICE' }));
    expect(() => empty.list()).toThrow(/nothing-here\/bus\/pci\/devices does not exist \(ENOENT\)/);
    expect(() => empty.groupMembers(5)).toThrow(expect.objectContaining({ code: 'ERR_VFIO_NO_IOMMU' }));
    expect(() => empty.info(ADDR)).toThrow(expect.objectContaining({ code: 'ERR_VFIO_NO_DEVICE' }));
  });
});
