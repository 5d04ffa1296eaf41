// Runs in the test VM (scripts/vm/run): checks that the rig gave us what its manifest says,
// the way a user would look at it, with plain node:fs (no library code). Holds for either
// guest kernel (--kernel debian|vfio), for the no-IOMMU boot (--no-iommu) and under any --node.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifest as readManifest } from './manifest.js';

const manifestPath = process.env.VFIO_TS_MANIFEST;
const manifest = readManifest();
const sysdev = (bdf: string) => `/sys/bus/pci/devices/${bdf}`;
const driverOf = (bdf: string) =>
  existsSync(`${sysdev(bdf)}/driver`) ? basename(readlinkSync(`${sysdev(bdf)}/driver`)) : '';
const byName = (name: string) => manifest.devices.find((d) => d.name === name);
const isChar = (path: string) => existsSync(path) && statSync(path).isCharacterDevice();
const vfioDevices = manifest.devices.filter((d) => d.driver === 'vfio-pci');
const noIommu = manifest.iommu === 'none';

describe('test VM rig', () => {
  it('runs the guest kernel named in the manifest', () => {
    expect(manifestPath).toBeTruthy();
    const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    expect(release).toBe(manifest.kernel);
    // Debian's kernel ends in -amd64 or -arm64, ours (scripts/vm/build-kernel) in -vfiots.
    expect(release).toMatch(manifest.flavour === 'debian' ? /-(amd64|arm64)$/ : /-vfiots$/);
    expect(manifest.arch).toBe({ x64: 'x86_64', arm64: 'aarch64' }[process.arch as string] ?? process.arch);
  });

  it('has the IOMMU the manifest names', () => {
    const units = existsSync('/sys/class/iommu') ? readdirSync('/sys/class/iommu') : [];
    if (manifest.iommu === 'intel-vtd') expect(units.some((u) => u.startsWith('dmar'))).toBe(true);
    else if (manifest.iommu === 'arm-smmuv3') expect(units.some((u) => u.startsWith('smmu3.'))).toBe(true);
    else expect(units).toEqual([]);
  });

  it('offers the VFIO backends the manifest lists, and no other', () => {
    const { backends } = manifest;
    expect(backends.length).toBeGreaterThan(0);
    // type1: the container node, with an IOMMU behind it.
    expect(backends.includes('type1')).toBe(isChar('/dev/vfio/vfio') && !noIommu);
    // iommufd: /dev/iommu (only in kernels with IOMMUFD) and a cdev for every vfio device.
    if (noIommu) expect(backends).not.toContain('iommufd');
    else expect(backends.includes('iommufd')).toBe(isChar('/dev/iommu'));
    if (backends.includes('iommufd')) for (const d of vfioDevices) expect(d.cdev, d.name).toBeTruthy();
    // noiommu: vfio's module parameter.
    const param = '/sys/module/vfio/parameters/enable_unsafe_noiommu_mode';
    const on = existsSync(param) && readFileSync(param, 'utf8').trim() === 'Y';
    expect(backends.includes('noiommu')).toBe(on);
    expect(on).toBe(noIommu);
    if (manifest.flavour === 'debian') expect(backends).toEqual(['type1']);
  });

  it('binds every test device to vfio-pci, in the group and with the nodes of the manifest', () => {
    expect(vfioDevices.length).toBeGreaterThan(0);
    for (const d of vfioDevices) {
      expect(driverOf(d.bdf), d.name).toBe('vfio-pci');
      expect(readFileSync(`${sysdev(d.bdf)}/vendor`, 'utf8').trim()).toBe(`0x${d.vendor}`);
      expect(readFileSync(`${sysdev(d.bdf)}/device`, 'utf8').trim()).toBe(`0x${d.device}`);
      expect(Number(basename(readlinkSync(`${sysdev(d.bdf)}/iommu_group`))), d.name).toBe(d.group);
      expect(d.groupPath, d.name).toBe(noIommu ? `/dev/vfio/noiommu-${d.group}` : `/dev/vfio/${d.group}`);
      expect(isChar(d.groupPath!), d.groupPath!).toBe(true);
      if (d.cdev !== null) {
        expect(isChar(d.cdev), d.cdev).toBe(true);
        expect(basename(d.cdev)).toMatch(noIommu ? /^noiommu-vfio\d+$/ : /^vfio\d+$/);
        expect(readdirSync(`${sysdev(d.bdf)}/vfio-dev`)).toContain(basename(d.cdev));
      }
    }
  });

  it('has the VFIO container node', () => {
    // In no-IOMMU mode the container still exists (VFIO_NOIOMMU_IOMMU), so both hold.
    expect(isChar('/dev/vfio/vfio')).toBe(true);
  });

  it('gives the edu behind the bridge a group that it shares with a host-bound device', () => {
    const edu = byName('edu-nonviable');
    const rng = byName('rng-host');
    if (!edu || !rng) return; // not selected with --devices
    expect(driverOf(rng.bdf)).toBe('virtio-pci');
    expect(driverOf(edu.bdf)).toBe('vfio-pci');
    if (noIommu) {
      // No IOMMU, no shared groups: vfio-pci gives the edu a fake group of its own, and the
      // rng (on its host driver) has none.
      expect(rng.group).toBeNull();
      expect(rng.groupPath).toBeNull();
      expect(readdirSync(`/sys/kernel/iommu_groups/${edu.group}/devices`)).toEqual([edu.bdf]);
      expect(edu.viable).toBe(true);
      return;
    }
    expect(rng.group).toBe(edu.group);
    const members = readdirSync(`/sys/kernel/iommu_groups/${edu.group}/devices`);
    expect(members).toContain(edu.bdf);
    expect(members).toContain(rng.bdf);
    expect(edu.viable).toBe(false);
    expect(rng.viable).toBe(false);
  });

  it('marks the groups of the other vfio devices viable', () => {
    for (const d of manifest.devices.filter((x) => x.name !== 'edu-nonviable' && x.name !== 'rng-host')) {
      expect(d.viable, d.name).toBe(true);
    }
  });

  it('runs the Node the rig was asked for (--node), which is also the `node` the tests start', () => {
    // scripts/vm/run --node puts that build's bin/ first in PATH and names it in VFIO_TS_NODE.
    const asked = process.env.VFIO_TS_NODE;
    if (asked) expect(process.versions.node).toBe(asked);
    const [path, version] = JSON.parse(
      execFileSync('node', ['-p', 'JSON.stringify([process.execPath, process.versions.node])'], { encoding: 'utf8' }),
    ) as [string, string];
    expect(realpathSync(path)).toBe(realpathSync(process.execPath));
    expect(version).toBe(process.versions.node);
  });

  it('reserves 2 MiB hugepages', () => {
    const n = Number(readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', 'utf8'));
    expect(n).toBeGreaterThan(0);
    expect(n).toBe(manifest.hugepages2M);
  });
});
