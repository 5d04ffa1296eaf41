/**
 * QEMU's `edu` teaching device (1234:11e8, QEMU docs/specs/edu.rst) as a vfio-user model: the
 * same registers, factorial unit, interrupts and DMA engine, so `examples/edu.ts` drives it
 * unchanged. The registers are a register map held by a `RegisterFile`, which applies the map's
 * rules (read-only, write-only); the model's code runs on the registers that do something. A
 * factorial or a DMA transfer is done by the time the driver polls for it.
 */
import { RegisterFile, defineRegisterMap, type DeviceModel, type RegisterEvent } from '../../src/index.js';

/** edu's BAR0 registers. */
export const EDU_MAP = defineRegisterMap({
  name: 'edu',
  registers: {
    ID: { offset: 0x00, access: 'ro', reset: 0x010000ed, description: 'major, minor, 0xed' },
    LIVENESS: { offset: 0x04, description: 'reads back the complement of what was written' },
    FACTORIAL: { offset: 0x08, description: 'write n, read n!' },
    STATUS: {
      offset: 0x20,
      fields: { COMPUTING: { bits: 0, access: 'ro' }, IRQ_AFTER_FACTORIAL: { bits: 7 } },
    },
    IRQ_STATUS: { offset: 0x24, access: 'ro' },
    IRQ_RAISE: { offset: 0x60, access: 'wo' },
    IRQ_ACK: { offset: 0x64, access: 'wo' },
    DMA_SRC: { offset: 0x80, width: 64 },
    DMA_DST: { offset: 0x88, width: 64 },
    DMA_COUNT: { offset: 0x90, width: 64 },
    DMA_CMD: {
      offset: 0x98,
      width: 64,
      fields: { START: { bits: 0 }, TO_RAM: { bits: 1 }, IRQ: { bits: 2 } },
    },
  },
});

const FACTORIAL_IRQ = 0x1;
const DMA_DONE_IRQ = 0x100;
/** The device's 4 KiB buffer: at 0x40000 in BAR0 and in the DMA engine's address space. */
const BUFFER = 0x40000;
const BUFFER_SIZE = 4096;

/** A fresh edu model; each has its own state. */
export function eduModel(): DeviceModel {
  let liveness = 0n;
  const buffer = new Uint8Array(BUFFER_SIZE);
  const view = new DataView(buffer.buffer);

  type Event = RegisterEvent<(typeof EDU_MAP)['spec']>;

  const raise = (bits: number, { regs, ctx }: Event) => {
    regs.set('IRQ_STATUS', regs.get('IRQ_STATUS') | BigInt(bits));
    ctx.interrupt(0);
  };

  /** A transfer between the client's memory and the buffer, as edu's engine does it. */
  const transfer = (cmd: bigint, event: Event) => {
    const { regs, ctx } = event;
    const count = Number(regs.get('DMA_COUNT'));
    const toRam = (cmd & 2n) !== 0n;
    const at = Number((toRam ? regs.get('DMA_SRC') : regs.get('DMA_DST')) - BigInt(BUFFER));
    if (at < 0 || at + count > BUFFER_SIZE)
      throw new RangeError(`edu model: a DMA of ${count} bytes outside its buffer`);
    if (toRam) ctx.dma.write(regs.get('DMA_DST'), buffer.subarray(at, at + count));
    else buffer.set(ctx.dma.read(regs.get('DMA_SRC'), count), at);
    regs.set('DMA_CMD', cmd & ~1n);
    if (cmd & 4n) raise(DMA_DONE_IRQ, event);
  };

  const regs = new RegisterFile(EDU_MAP, {
    onRead: { LIVENESS: (e) => e.regs.set('LIVENESS', ~liveness) },
    onWrite: {
      LIVENESS: (v) => (liveness = v),
      FACTORIAL: (n, e) => {
        let f = 1;
        for (let i = 2; i <= Number(n); i++) f = Math.imul(f, i) >>> 0;
        e.regs.set('FACTORIAL', f);
        if (e.regs.get('STATUS') & 0x80n) raise(FACTORIAL_IRQ, e);
      },
      IRQ_RAISE: (v, e) => raise(Number(v), e),
      IRQ_ACK: (v, e) => e.regs.set('IRQ_STATUS', e.regs.get('IRQ_STATUS') & ~v),
      DMA_CMD: (cmd, e) => {
        if (cmd & 1n) transfer(cmd, e);
      },
    },
  });

  const inBuffer = (offset: number, width: number) => offset >= BUFFER && offset + width <= BUFFER + BUFFER_SIZE;

  return {
    name: 'edu model',
    identity: { vendorId: 0x1234, deviceId: 0x11e8, classCode: 0x00ff00, revision: 0x10 },
    bars: [
      {
        size: 1 << 20,
        read(offset, width, ctx) {
          if (!inBuffer(offset, width)) return regs.read(offset, width, ctx);
          const at = offset - BUFFER;
          if (width === 8) return view.getBigUint64(at, true);
          return width === 4 ? view.getUint32(at, true) : width === 2 ? view.getUint16(at, true) : view.getUint8(at);
        },
        write(offset, width, value, ctx) {
          if (!inBuffer(offset, width)) return regs.write(offset, width, value, ctx);
          const at = offset - BUFFER;
          if (width === 8) view.setBigUint64(at, BigInt(value), true);
          else if (width === 4) view.setUint32(at, Number(value), true);
          else if (width === 2) view.setUint16(at, Number(value), true);
          else view.setUint8(at, Number(value));
        },
      },
    ],
    interrupts: { intx: true, msi: 1 },
    reset() {
      regs.reset();
      liveness = 0n;
      buffer.fill(0);
    },
  };
}
