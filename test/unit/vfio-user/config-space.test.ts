// A modelled device's config space (src/vfio-user/model/config-space.ts), read back through the
// library's own ConfigSpace, the parser that reads real devices: identity, BARs and their
// sizing, the capability list, what software may write, and reset.
import { describe, expect, it } from 'vitest';
import {
  PCI_BASE_ADDRESS_0,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_COMMAND,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_INTERRUPT_PIN,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSI_FLAGS,
  PCI_VENDOR_ID,
  VfioErrorCode,
} from '../../../structs/index.js';
import { ConfigSpace } from '../../../src/pci/index.js';
import { EmulatedConfigSpace } from '../../../src/vfio-user/model/config-space.js';
import type { ConfigShape } from '../../../src/vfio-user/model/config-shape.js';
import { thrownBy } from '../../support/thrown.js';

const EDU_LIKE: ConfigShape = {
  identity: { vendorId: 0x1234, deviceId: 0x11e8, classCode: 0x00ff00, revision: 0x10 },
  bars: [{ size: 0x100000 }],
  intx: true,
  capabilities: { pm: true, msi: { vectors: 1 } },
};

describe('a modelled config space', () => {
  it('reads back as the device it describes, through the parser real devices go through', () => {
    const emulated = new EmulatedConfigSpace(EDU_LIKE, 'edu model');
    const cfg = new ConfigSpace(emulated);
    expect(emulated.size).toBe(256);
    expect([cfg.vendorId(), cfg.deviceId()]).toEqual([0x1234, 0x11e8]);
    expect(cfg.read32(0x08)).toBe(0x00ff0010); // class 00ff00, revision 10
    expect(cfg.read8(PCI_INTERRUPT_PIN)).toBe(1);
    expect(cfg.capabilities()).toEqual([
      { id: PCI_CAP_ID_PM, offset: 0x40 },
      { id: PCI_CAP_ID_MSI, offset: 0x48 },
    ]);
    expect(cfg.bars()[0]).toEqual({ index: 0, io: false, is64: false, prefetchable: false, address: 0n });
  });

  it('sizes a BAR as hardware does: all ones written, the size mask read back; flags stay', () => {
    const shape: ConfigShape = {
      ...EDU_LIKE,
      bars: [{ size: 0x4000, is64: true, prefetchable: true }, undefined, { size: 32, io: true }],
    };
    const cfg = new ConfigSpace(new EmulatedConfigSpace(shape, 'model'));
    cfg.write32(PCI_BASE_ADDRESS_0, 0xffffffff);
    expect(cfg.read32(PCI_BASE_ADDRESS_0)).toBe((0xffffc000 | 0xc) >>> 0); // 16 KiB, 64-bit, prefetchable
    cfg.write32(PCI_BASE_ADDRESS_0 + 4, 0xffffffff);
    expect(cfg.read32(PCI_BASE_ADDRESS_0 + 4)).toBe(0xffffffff);
    cfg.write32(PCI_BASE_ADDRESS_0 + 8, 0xffffffff);
    expect(cfg.read32(PCI_BASE_ADDRESS_0 + 8)).toBe((0xffffffe0 | 0x1) >>> 0); // 32 bytes of I/O
    cfg.write32(PCI_BASE_ADDRESS_0, 0xfe000000);
    expect(cfg.bars().map((b) => [b.index, b.io, b.is64, b.address])).toEqual([
      [0, false, true, 0xffffffff_fe000000n],
      [2, true, false, 0xffffffe0n],
      [3, false, false, 0n],
      [4, false, false, 0n],
      [5, false, false, 0n],
    ]);
  });

  it('lets software write only what it may: command bits, MSI and MSI-X enables; a reset undoes it', () => {
    const shape: ConfigShape = {
      ...EDU_LIKE,
      capabilities: {
        msix: { vectors: 4, tableBar: 0, tableOffset: 0x1000, pbaBar: 0, pbaOffset: 0x2000 },
        pcie: { flr: true },
      },
    };
    const emulated = new EmulatedConfigSpace(shape, 'model');
    const cfg = new ConfigSpace(emulated);
    expect(emulated.size).toBe(4096);
    const msix = cfg.findCapability(PCI_CAP_ID_MSIX)!;
    expect(cfg.findCapability(PCI_CAP_ID_EXP)).toBeGreaterThan(msix);
    expect(cfg.read16(msix + PCI_MSIX_FLAGS)).toBe(3); // table size 4
    expect(cfg.read32(msix + 4)).toBe(0x1000); // table at 0x1000 of BAR0
    cfg.write16(PCI_VENDOR_ID, 0x8086);
    cfg.setCommandBits(PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY, true);
    cfg.write16(msix + PCI_MSIX_FLAGS, 0xffff);
    expect(cfg.vendorId()).toBe(0x1234);
    expect(cfg.read16(PCI_COMMAND)).toBe(PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
    expect(cfg.read16(msix + PCI_MSIX_FLAGS)).toBe(0xc003); // enable and function mask; the size stays
    emulated.reset();
    expect(cfg.read16(PCI_COMMAND)).toBe(0);
    expect(cfg.read16(msix + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE).toBe(0);
  });

  it('MSI says its vector count in "multiple message capable"', () => {
    const cfg = new ConfigSpace(new EmulatedConfigSpace({ ...EDU_LIKE, capabilities: { msi: { vectors: 8 } } }, 'm'));
    expect((cfg.read16(cfg.findCapability(PCI_CAP_ID_MSI)! + PCI_MSI_FLAGS) >> 1) & 7).toBe(3);
  });

  it('refuses a shape no device could have, naming the model and the fix', () => {
    const refused = (shape: Partial<ConfigShape>, message: RegExp) => {
      const error = thrownBy(() => new EmulatedConfigSpace({ ...EDU_LIKE, ...shape }, 'my model'));
      expect(error).toMatchObject({ code: VfioErrorCode.INVALID_ARGUMENT });
      expect((error as Error).message).toMatch(message);
    };
    refused({ bars: [{ size: 3000 }] }, /my model: BAR0 size 3000 is not a power of two/);
    refused({ bars: [{ size: 0x1000, is64: true }, { size: 16 }] }, /leave BAR1 undefined/);
    refused({ identity: { ...EDU_LIKE.identity, vendorId: 0xffff } }, /means "no device"/);
    refused({ capabilities: { msi: { vectors: 3 } } }, /MSI vectors 3/);
    refused(
      { capabilities: { msix: { vectors: 64, tableBar: 0, tableOffset: 0xffe00, pbaBar: 1, pbaOffset: 0 } } },
      /MSI-X table \(1024 bytes at 0xffe00\) must be 8-byte aligned inside BAR0/,
    );
  });
});
