// Mediated devices over a fake sysfs tree laid out as the kernel lays it out (mtty's parent and
// types, one mdev): listing, finding, the addresses, and every refusal with its code. The real
// kernel's side is test/vm/mdev.test.ts.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MdevSysfs,
  createMdev,
  isMdevAddress,
  parseMdevAddress,
  removeMdev,
  openDevice,
  VfioErrorCode,
} from '../../../../src/index.js';
import { locateVfioDevice, parseVfioAddress } from '../../../../src/vfio/index.js';
import { PciSysfs } from '../../../../src/pci/index.js';
import { thrownBy } from '../../../support/thrown.js';

const UUID = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';
const OTHER = '0b8f1a2e-6e3c-4f7b-9a43-1c2d3e4f5a6b';

/** A sysfs tree with the mtty parent, its two types, and `uuid` made of mtty-1 when given. */
function fakeTree(options: { available?: number; uuid?: string; driver?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'vfio-ts-mdev-'));
  const parent = join(root, 'devices/virtual/mtty/mtty');
  const types = join(parent, 'mdev_supported_types');
  for (const [id, name, ports] of [
    ['mtty-1', 'Single port serial', 1],
    ['mtty-2', 'Dual port serial', 2],
  ] as const) {
    const t = join(types, id);
    mkdirSync(join(t, 'devices'), { recursive: true });
    writeFileSync(join(t, 'name'), `${name}\n`);
    writeFileSync(join(t, 'device_api'), 'vfio-pci\n');
    writeFileSync(join(t, 'available_instances'), `${Math.floor((options.available ?? 24) / ports)}\n`);
    writeFileSync(join(t, 'create'), '');
  }
  mkdirSync(join(root, 'class/mdev_bus'), { recursive: true });
  symlinkSync(parent, join(root, 'class/mdev_bus/mtty'));
  mkdirSync(join(root, 'bus/mdev/devices'), { recursive: true });
  if (options.uuid) {
    const dev = join(parent, options.uuid);
    mkdirSync(join(dev, 'vfio-dev/vfio4'), { recursive: true });
    writeFileSync(join(dev, 'remove'), '');
    symlinkSync(join(types, 'mtty-1'), join(dev, 'mdev_type'));
    symlinkSync(dev, join(types, 'mtty-1/devices', options.uuid));
    if (options.driver !== false) {
      mkdirSync(join(root, 'bus/mdev/drivers/mtty'), { recursive: true });
      symlinkSync(join(root, 'bus/mdev/drivers/mtty'), join(dev, 'driver'));
      mkdirSync(join(root, 'kernel/iommu_groups/9/devices'), { recursive: true });
      symlinkSync(join(root, 'kernel/iommu_groups/9'), join(dev, 'iommu_group'));
    }
    symlinkSync(dev, join(root, 'bus/mdev/devices', options.uuid));
  }
  return root;
}

const roots: string[] = [];
const tree = (options?: Parameters<typeof fakeTree>[0]): string => {
  const root = fakeTree(options);
  roots.push(root);
  return root;
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('mdev addresses', () => {
  it('are a UUID, bare or after mdev:, in lower case', () => {
    expect(parseMdevAddress(UUID.toUpperCase())).toBe(UUID);
    expect(parseMdevAddress(`mdev:${UUID}`)).toBe(UUID);
    expect(parseVfioAddress(`mdev:${UUID}`)).toBe(UUID);
    expect(parseVfioAddress('00:03.0')).toBe('0000:00:03.0');
    expect(isMdevAddress(UUID)).toBe(true);
    expect(isMdevAddress('mdev:x')).toBe(true);
    expect(isMdevAddress('00:03.0')).toBe(false);
    expect(isMdevAddress(3)).toBe(false);
  });

  it('refuse what is not a UUID, saying the form, before any file is touched', () => {
    const e = thrownBy(() => openDevice('mdev:83b8f4f2-509f'));
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toMatchObject({ code: VfioErrorCode.INVALID_ADDRESS });
    expect((e as Error).message).toMatch(/^'mdev:83b8f4f2-509f' is not an mdev address: expected its UUID/);
    expect(thrownBy(() => parseMdevAddress(7 as unknown as string))).toMatchObject({
      code: VfioErrorCode.INVALID_ADDRESS,
      name: 'VfioTypeError',
    });
  });
});

describe('MdevSysfs over a fake sysfs tree', () => {
  it('lists the parents and their types as the kernel shows them', () => {
    const sysfs = new MdevSysfs(tree({ uuid: UUID }));
    expect(sysfs.supported()).toBe(true);
    expect(sysfs.parents().map((p) => p.name)).toEqual(['mtty']);
    expect(sysfs.types()).toEqual([
      {
        id: 'mtty-1',
        parent: 'mtty',
        name: 'Single port serial',
        description: null,
        deviceApi: 'vfio-pci',
        availableInstances: 24,
        devices: [UUID],
      },
      {
        id: 'mtty-2',
        parent: 'mtty',
        name: 'Dual port serial',
        description: null,
        deviceApi: 'vfio-pci',
        availableInstances: 12,
        devices: [],
      },
    ]);
    expect(sysfs.type('mtty-2').name).toBe('Dual port serial');
  });

  it('finds an mdev: type, parent, driver, IOMMU group and cdev', () => {
    const root = tree({ uuid: UUID });
    const sysfs = new MdevSysfs(root);
    const info = { uuid: UUID, type: 'mtty-1', parent: 'mtty', driver: 'mtty', iommuGroup: 9, cdev: 'vfio4' };
    expect(sysfs.devices()).toEqual([info]);
    expect(locateVfioDevice(new PciSysfs(root), `mdev:${UUID}`)).toEqual({
      address: UUID,
      group: 9,
      noIommu: false,
      cdev: 'vfio4',
      driver: 'mtty',
    });
  });

  it('refuses an unknown type, parent or UUID, naming what exists', () => {
    const root = tree({ uuid: UUID });
    const sysfs = new MdevSysfs(root);
    expect(thrownBy(() => createMdev('mtty-3', { sysfsRoot: root }))).toMatchObject({
      code: VfioErrorCode.INVALID_ARGUMENT,
      message: 'no mdev type mtty-3: the types are mtty-1 (mtty: Single port serial), mtty-2 (mtty: Dual port serial)',
    });
    expect(thrownBy(() => sysfs.types('i915'))).toMatchObject({
      code: VfioErrorCode.INVALID_ARGUMENT,
      message: `no mdev parent i915 in ${root}/class/mdev_bus: the parents are mtty`,
    });
    const missing = thrownBy(() => openDevice(OTHER, { sysfsRoot: root }));
    expect(missing).toMatchObject({ code: VfioErrorCode.NO_DEVICE });
    expect((missing as Error).message).toMatch(
      new RegExp(
        `^mdev ${OTHER} not found \\(${root}/bus/mdev/devices/${OTHER} does not exist\\): .*createMdev\\(TYPE\\)`,
      ),
    );
    expect(thrownBy(() => removeMdev(OTHER, { sysfsRoot: root }))).toMatchObject({ code: VfioErrorCode.NO_DEVICE });
  });

  it('refuses a UUID in use and a type with no instances left, before writing', () => {
    const root = tree({ uuid: UUID, available: 0 });
    expect(thrownBy(() => createMdev('mtty-2', { sysfsRoot: root, uuid: UUID }))).toMatchObject({
      code: VfioErrorCode.INVALID_ARGUMENT,
      message: `mdev ${UUID} exists already (${root}/bus/mdev/devices/${UUID}): give another UUID, or remove it first (removeMdev)`,
    });
    expect(thrownBy(() => createMdev('mtty-1', { sysfsRoot: root }))).toMatchObject({
      code: VfioErrorCode.NO_INSTANCES,
      message: `mdev type mtty-1 of mtty has no instances left (available_instances is 0); its mdevs: ${UUID}: remove one (removeMdev) or use another type`,
    });
  });

  it('refuses an mdev no driver took', () => {
    const root = tree({ uuid: UUID, driver: false });
    const e = thrownBy(() => openDevice(UUID, { sysfsRoot: root }));
    expect(e).toMatchObject({ code: VfioErrorCode.NOT_VFIO_BOUND });
    expect((e as Error).message).toMatch(new RegExp(`^mdev ${UUID} \\(type mtty-1 of mtty\\) is bound to no driver`));
  });

  it('says which kernel option is missing when there is no mdev support', () => {
    const root = mkdtempSync(join(tmpdir(), 'vfio-ts-nomdev-'));
    roots.push(root);
    const sysfs = new MdevSysfs(root);
    expect(sysfs.supported()).toBe(false);
    for (const call of [
      () => sysfs.parents(),
      () => createMdev('mtty-1', { sysfsRoot: root }),
      () => openDevice(UUID, { sysfsRoot: root }),
      () => removeMdev(UUID, { sysfsRoot: root }),
    ]) {
      const e = thrownBy(call);
      expect(e).toMatchObject({ code: VfioErrorCode.UNSUPPORTED });
      expect((e as Error).message).toMatch(
        new RegExp(
          `^this kernel has no mediated devices: ${root}/class/mdev_bus does not exist; the kernel needs CONFIG_VFIO_MDEV and a vendor driver`,
        ),
      );
    }
  });
});
