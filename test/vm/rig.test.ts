// Runs in the test VM (scripts/vm/run): checks that the rig gave us what its manifest says,
// the way a user would look at it, with plain node:fs (no library code).
import { existsSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifest as readManifest } from './manifest.js';

const manifestPath = process.env.VFIO_TS_MANIFEST;
const manifest = readManifest();
const sysdev = (bdf: string) => `/sys/bus/pci/devices/${bdf}`;
const driverOf = (bdf: string) =>
  existsSync(`${sysdev(bdf)}/driver`) ? basename(readlinkSync(`${sysdev(bdf)}/driver`)) : '';
const byName = (name: string) => manifest.devices.find((d) => d.name === name);

describe('test VM rig', () => {
  it('runs the guest kernel named in the manifest', () => {
    expect(manifestPath).toBeTruthy();
    expect(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()).toBe(manifest.kernel);
  });

  it('has the VFIO container node', () => {
    expect(existsSync('/dev/vfio/vfio')).toBe(true);
  });

  it('binds every test device to vfio-pci, in the IOMMU group of the manifest', () => {
    const vfio = manifest.devices.filter((d) => d.driver === 'vfio-pci');
    expect(vfio.length).toBeGreaterThan(0);
    for (const d of vfio) {
      expect(driverOf(d.bdf), d.name).toBe('vfio-pci');
      expect(readFileSync(`${sysdev(d.bdf)}/vendor`, 'utf8').trim()).toBe(`0x${d.vendor}`);
      expect(readFileSync(`${sysdev(d.bdf)}/device`, 'utf8').trim()).toBe(`0x${d.device}`);
      expect(Number(basename(readlinkSync(`${sysdev(d.bdf)}/iommu_group`))), d.name).toBe(d.group);
      expect(existsSync(`/dev/vfio/${d.group}`), `/dev/vfio/${d.group}`).toBe(true);
    }
  });

  it('gives the edu behind the bridge a group that it shares with a host-bound device', () => {
    const edu = byName('edu-nonviable');
    const rng = byName('rng-host');
    if (!edu || !rng) return; // not selected with --devices
    expect(rng.group).toBe(edu.group);
    expect(driverOf(rng.bdf)).toBe('virtio-pci');
    expect(driverOf(edu.bdf)).toBe('vfio-pci');
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

  it('reserves 2 MiB hugepages', () => {
    const n = Number(readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', 'utf8'));
    expect(n).toBeGreaterThan(0);
    expect(n).toBe(manifest.hugepages2M);
  });
});
