// SR-IOV against the real kernel, on QEMU's NVMe controller with two VFs (the rig's `sriov`
// device, on the SR-IOV rows): the PF's VF token set through VFIO_DEVICE_FEATURE, VFs created
// through sysfs and opened with the token (refused without it or with another, coded), a VF's
// NVMe controller given queues and an interrupt by the PF (Virtualization Management) and then
// driven: an Identify DMAed into our memory, its completion counted as an MSI-X interrupt.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SysError, PciSysfs, VfioErrorCode, openDevice, parsePciAddress, type Device } from '../../src/index.js';
import { VFIO_DEVICE_FEATURE_MIGRATION, VFIO_DEVICE_FEATURE_PCI_VF_TOKEN } from '../../structs/index.js';
import { runCliCaptured } from '../support/run-cli.js';
import { thrownBy } from '../support/thrown.js';
import { backend } from './backend.js';
import { testDevice } from './manifest.js';
import { NvmeAdmin } from './nvme-admin.js';

const pf = testDevice('nvme-pf');
const PARAMETER = '/sys/module/vfio_pci/parameters/enable_sriov';
const TOKEN = randomUUID();
const OPC_IDENTIFY = 0x06;
const OPC_VIRT_MGMT = 0x1c;
const CNS_CONTROLLER = 0x01;
const CNS_SECONDARY_LIST = 0x15;
// Virtualization Management actions (CDW10 bits 3:0) and resource types (bits 10:8).
const ACT_PRIMARY_FLEXIBLE = 0x1;
const ACT_SECONDARY_ASSIGN = 0x8;
const ACT_SECONDARY_ONLINE = 0x9;
const RT_VQ = 0;
const RT_VI = 1;

const thrown = (call: () => unknown) => thrownBy(call) as SysError;
const u16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const virtMgmt = (act: number, rt: number, cntlid: number, nr: number) => ({
  opcode: OPC_VIRT_MGMT,
  cdw10: act | (rt << 8) | (cntlid << 16),
  cdw11: nr,
});

/** Identify (CNS `cns`) through `admin` into a fresh 4 KiB of `dev`'s DMA memory; returns a copy. */
function identify(dev: Device, admin: NvmeAdmin, cns: number): Uint8Array {
  using buf = dev.dma.alloc(4096);
  buf.bytes.fill(0xa5);
  admin.run({ opcode: OPC_IDENTIFY, prp1: buf.iova, cdw10: cns }, `Identify CNS ${cns} on ${dev.address}`);
  return buf.bytes.slice();
}

const vfsOf = (addr: string) => readFileSync(`/sys/bus/pci/devices/${addr}/sriov_numvfs`, 'utf8').trim();

describe(`SR-IOV and VF tokens (${backend})`, () => {
  // The PF, and its admin queue kept enabled while the VFs work: a reset of the PF's controller
  // (CC.EN to 0) takes every secondary controller offline again in QEMU's model.
  let pfDev: Device | undefined;
  let pfAdmin: NvmeAdmin | undefined;
  afterAll(() => {
    pfAdmin?.close();
    pfDev?.close();
    writeFileSync(`/sys/bus/pci/devices/${pf.bdf}/sriov_numvfs`, '0');
  });

  it('vfio-pci creates no VFs while enable_sriov is off: a coded refusal naming the parameter', () => {
    writeFileSync(PARAMETER, 'N');
    using dev = openDevice(pf.bdf);
    const e = thrown(() => dev.sriov.enableVfs(2));
    expect(e.code).toBe(VfioErrorCode.UNSUPPORTED);
    expect(e.message).toContain('vfio_pci.enable_sriov=1');
    expect(dev.sriov.state).toEqual({ totalVfs: 2, numVfs: 0, vfs: [] });
    writeFileSync(PARAMETER, 'Y');
  });

  it('device features: the PF offers SET of PCI_VF_TOKEN only, and no MIGRATION (ENOTTY, coded)', () => {
    using dev = openDevice(pf.bdf);
    expect(dev.features.probe(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN)).toEqual({ get: false, set: true });
    const e = thrown(() => dev.features.probe(VFIO_DEVICE_FEATURE_MIGRATION));
    expect(e).toBeInstanceOf(SysError);
    expect(e.code).toBe(VfioErrorCode.UNSUPPORTED);
    expect(e.errnoName).toBe('ENOTTY');
    expect(e.message).toContain('VFIO_DEVICE_FEATURE_MIGRATION');
    const get = thrown(() => dev.features.get(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, new Uint8Array(16)));
    expect([get.code, get.errnoName]).toEqual([VfioErrorCode.INVALID_ARGUMENT, 'EINVAL']);
  });

  let vfs: string[] = [];
  const scid = new Map<string, number>();

  it('two VFs: the PF frees its flexible resources, sets the token, enables the VFs and brings them online', () => {
    const dev = (pfDev = openDevice(pf.bdf));
    // Give back the PF's flexible queues and interrupts; a function-level reset applies it.
    const admin = new NvmeAdmin(dev);
    try {
      const pfId = u16(identify(dev, admin, CNS_CONTROLLER), 78);
      admin.run(virtMgmt(ACT_PRIMARY_FLEXIBLE, RT_VQ, pfId, 0), 'PF flexible queues to 0');
      admin.run(virtMgmt(ACT_PRIMARY_FLEXIBLE, RT_VI, pfId, 0), 'PF flexible interrupts to 0');
    } finally {
      admin.close();
    }
    dev.reset();

    dev.sriov.setVfToken(TOKEN);
    vfs = dev.sriov.enableVfs(2);
    expect(vfs).toHaveLength(2);
    expect(dev.sriov.state).toEqual({ totalVfs: 2, numVfs: 2, vfs });
    // vfio-pci binds the VFs of its PF to itself at once, each in an IOMMU group of its own.
    const sysfs = new PciSysfs();
    for (const vf of vfs) expect(sysfs.driver(parsePciAddress(vf))).toBe('vfio-pci');
    const groups = vfs.map((vf) => sysfs.iommuGroup(parsePciAddress(vf)));
    expect(new Set([pf.group, ...groups]).size).toBe(3);

    // The secondary controller list: each VF's controller id, by VF number.
    pfAdmin = new NvmeAdmin(dev);
    const list = identify(dev, pfAdmin, CNS_SECONDARY_LIST);
    expect(list[0]).toBe(2);
    for (let i = 0; i < list[0]; i++) {
      const entry = 32 + i * 32;
      const id = u16(list, entry);
      scid.set(vfs[u16(list, entry + 8) - 1], id);
      pfAdmin.run(virtMgmt(ACT_SECONDARY_ASSIGN, RT_VQ, id, 2), `2 queues to controller ${id}`);
      pfAdmin.run(virtMgmt(ACT_SECONDARY_ASSIGN, RT_VI, id, 1), `1 interrupt to controller ${id}`);
      pfAdmin.run(virtMgmt(ACT_SECONDARY_ONLINE, 0, id, 0), `controller ${id} online`);
    }
    expect([...scid.keys()].sort()).toEqual([...vfs].sort());
  });

  it('a VF opens with the token and is refused without it or with another (coded)', () => {
    for (const vf of vfs) {
      const missing = thrown(() => openDevice(vf));
      expect(missing).toBeInstanceOf(SysError);
      expect([missing.code, missing.errnoName]).toEqual([VfioErrorCode.PERMISSION, 'EACCES']);
      expect(missing.message).toContain(`is a VF of ${pf.bdf}`);
      expect(missing.message).toContain('no VF token was given');
      const other = randomUUID();
      const wrong = thrown(() => openDevice(vf, { vfToken: other }));
      expect([wrong.code, wrong.errnoName]).toEqual([VfioErrorCode.PERMISSION, 'EACCES']);
      expect(wrong.message).toContain(`the VF token ${other} is not that one`);
      expect(thrown(() => openDevice(vf, { vfToken: 'not-a-uuid' })).code).toBe(VfioErrorCode.INVALID_ARGUMENT);
      using dev = openDevice(vf, { vfToken: TOKEN.toUpperCase() });
      expect(dev.iommu.kind).toBe(backend);
      expect(dev.iommuGroup).not.toBe(pf.group);
      expect(dev.sriov.physfn).toBe(pf.bdf);
      expect(dev.config.read16(0)).toBe(0x1b36);
    }
  });

  it('vfio info shows a VF its PF (opened with --vf-token)', async () => {
    const info = await runCliCaptured('info', vfs[1], '--vf-token', TOKEN);
    expect(info.err).toBe('');
    expect(info.out).toContain(`SR-IOV: virtual function of ${pf.bdf}`);
    const refused = await runCliCaptured('info', vfs[1]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('no VF token was given');
  });

  it("a VF's controller DMAs an Identify into our memory and raises its MSI-X vector once", () => {
    for (const vf of vfs) {
      using dev = openDevice(vf, { vfToken: TOKEN });
      dev.interrupts.enable('msix', { count: 1 });
      const admin = new NvmeAdmin(dev);
      try {
        const id = identify(dev, admin, CNS_CONTROLLER);
        expect(u16(id, 0)).toBe(0x1b36); // PCI vendor
        expect(u16(id, 78)).toBe(scid.get(vf)); // the VF's own controller id, as the PF listed it
        expect(dev.interrupts.wait(3000)).toEqual([{ vector: 0, count: 1 }]);
      } finally {
        admin.close();
      }
    }
  });

  it('closing the PF leaves its VFs in sysfs, on vfio-pci; vfio info lists them', async () => {
    pfAdmin?.close();
    pfAdmin = undefined;
    pfDev?.close();
    pfDev = undefined;
    // vfio-pci resets the PF as it closes, and keeps its VFs: only disabling removes them.
    // (QEMU's NVMe model drops and re-creates its VFs on that reset; a VF opened afterwards
    // waits out the kernel's 60 s for it to answer its own reset, so none is opened here.)
    expect(vfsOf(pf.bdf)).toBe('2');
    const sysfs = new PciSysfs();
    for (const vf of vfs) expect(sysfs.driver(parsePciAddress(vf))).toBe('vfio-pci');
    const info = await runCliCaptured('info', pf.bdf, '--json');
    expect((JSON.parse(info.out) as { sriov: unknown }).sriov).toEqual({ role: 'pf', totalVfs: 2, numVfs: 2, vfs });
    pfDev = openDevice(pf.bdf); // no VF is open: the PF needs no token
    expect(pfDev.sriov.state?.vfs).toEqual(vfs);
  });

  it('disabling the VFs removes them from sysfs', () => {
    const dev = pfDev!;
    dev.sriov.disableVfs();
    expect(dev.sriov.state).toEqual({ totalVfs: 2, numVfs: 0, vfs: [] });
    for (const vf of vfs) expect(existsSync(`/sys/bus/pci/devices/${vf}`)).toBe(false);
    expect(vfsOf(pf.bdf)).toBe('0');
  });
});
