/**
 * Device models the vfio-user tests serve besides edu: `mailbox`, whose BAR2 is memory shared
 * with the client (64 KiB, mapped by the client) and whose BAR0 has one register, COPY: writing
 * n copies n bytes from the start of BAR2 to offset 0x1000 of it, each plus one, and raises
 * MSI 0. So a test sees the client's stores reach the model and the model's reach the client.
 */
import { RegisterFile, defineRegisterMap, type DeviceModel } from '../../src/index.js';

const MAILBOX_MAP = defineRegisterMap({
  name: 'mailbox',
  registers: { COPY: { offset: 0x0, access: 'wo' }, COPIED: { offset: 0x4, access: 'ro' } },
});

export function mailboxModel(): DeviceModel {
  const regs = new RegisterFile(MAILBOX_MAP, {
    onWrite: {
      COPY: (n, { regs, ctx }) => {
        const memory = ctx.barMemory(2);
        const count = Number(n);
        memory.set(
          memory.subarray(0, count).map((b) => b + 1),
          0x1000,
        );
        regs.set('COPIED', regs.get('COPIED') + n);
        ctx.interrupt(0);
      },
    },
  });
  return {
    name: 'mailbox model',
    identity: { vendorId: 0x1234, deviceId: 0xbeef, classCode: 0xff0000 },
    bars: [{ size: 0x1000, registers: regs }, undefined, { size: 0x10000, shared: true }],
    interrupts: { msi: 1 },
    reset: () => regs.reset(),
  };
}
