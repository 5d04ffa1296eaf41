/**
 * QEMU's `edu` teaching device (1234:11e8, QEMU docs/specs/edu.rst) as a vfio-user model:
 * the same registers, factorial unit, interrupts and DMA engine, so `examples/edu.ts` drives it
 * unchanged. The model answers each access at once: a factorial or a DMA transfer is done by
 * the time the driver polls for it.
 */
import type { DeviceModel, ModelContext } from '../../src/index.js';

const ID = 0x00;
const LIVENESS = 0x04;
const FACTORIAL = 0x08;
const STATUS = 0x20;
const IRQ_STATUS = 0x24;
const IRQ_RAISE = 0x60;
const IRQ_ACK = 0x64;
const DMA_SRC = 0x80;
const DMA_DST = 0x88;
const DMA_COUNT = 0x90;
const DMA_CMD = 0x98;
const STATUS_IRQ_AFTER_FACTORIAL = 0x80;
const DMA_START = 1n;
const DMA_TO_RAM = 2n;
const DMA_IRQ = 4n;
const FACTORIAL_IRQ = 0x1;
const DMA_DONE_IRQ = 0x100;
/** The device's 4 KiB buffer: at 0x40000 in BAR0 and in the DMA engine's address space. */
const BUFFER = 0x40000;
const BUFFER_SIZE = 4096;

/** A fresh edu model; each has its own state. */
export function eduModel(): DeviceModel {
  let liveness = 0;
  let factorial = 0;
  let status = 0;
  let irqStatus = 0;
  const dmaRegs = { src: 0n, dst: 0n, count: 0n, cmd: 0n };
  const buffer = new Uint8Array(BUFFER_SIZE);

  const raise = (bits: number, ctx: ModelContext) => {
    irqStatus |= bits;
    ctx.interrupt(0);
  };

  /** A transfer between the client's memory and the buffer, as edu's engine does it. */
  const transfer = (ctx: ModelContext) => {
    const count = Number(dmaRegs.count);
    const toRam = (dmaRegs.cmd & DMA_TO_RAM) !== 0n;
    const inBuffer = (toRam ? dmaRegs.src : dmaRegs.dst) - BigInt(BUFFER);
    if (inBuffer < 0n || inBuffer + BigInt(count) > BigInt(BUFFER_SIZE))
      throw new RangeError(`edu model: a DMA of ${count} bytes outside its buffer`);
    const at = Number(inBuffer);
    if (toRam) ctx.dma.write(dmaRegs.dst, buffer.subarray(at, at + count));
    else buffer.set(ctx.dma.read(dmaRegs.src, count), at);
    dmaRegs.cmd &= ~DMA_START;
    if (dmaRegs.cmd & DMA_IRQ) raise(DMA_DONE_IRQ, ctx);
  };

  const reg64 = (offset: number): keyof typeof dmaRegs | undefined =>
    (({ [DMA_SRC]: 'src', [DMA_DST]: 'dst', [DMA_COUNT]: 'count', [DMA_CMD]: 'cmd' }) as const)[offset];

  return {
    name: 'edu model',
    identity: { vendorId: 0x1234, deviceId: 0x11e8, classCode: 0x00ff00, revision: 0x10 },
    bars: [
      {
        size: 1 << 20,
        read(offset, width) {
          if (offset >= BUFFER && offset + width <= BUFFER + BUFFER_SIZE) {
            const view = new DataView(buffer.buffer, offset - BUFFER, width);
            return width === 8 ? view.getBigUint64(0, true) : width === 4 ? view.getUint32(0, true) : view.getUint8(0);
          }
          const dma = reg64(offset);
          if (dma) return width === 8 ? dmaRegs[dma] : Number(dmaRegs[dma] & 0xffffffffn);
          switch (offset) {
            case ID:
              return 0x010000ed;
            case LIVENESS:
              return ~liveness >>> 0;
            case FACTORIAL:
              return factorial;
            case STATUS:
              return status;
            case IRQ_STATUS:
              return irqStatus;
            default:
              return width === 8 ? 0xffffffffffffffffn : 0xffffffff;
          }
        },
        write(offset, width, value, ctx) {
          const v = Number(BigInt.asUintN(32, BigInt(value)));
          if (offset >= BUFFER && offset + width <= BUFFER + BUFFER_SIZE) {
            const view = new DataView(buffer.buffer, offset - BUFFER, width);
            if (width === 8) view.setBigUint64(0, BigInt(value), true);
            else if (width === 4) view.setUint32(0, v, true);
            else view.setUint8(0, v);
            return;
          }
          const dma = reg64(offset);
          if (dma) {
            dmaRegs[dma] = width === 8 ? BigInt(value) : BigInt(v);
            if (dma === 'cmd' && dmaRegs.cmd & DMA_START) transfer(ctx);
            return;
          }
          switch (offset) {
            case LIVENESS:
              liveness = v;
              break;
            case FACTORIAL: {
              let f = 1;
              for (let i = 2; i <= v; i++) f = Math.imul(f, i) >>> 0;
              factorial = f;
              if (status & STATUS_IRQ_AFTER_FACTORIAL) raise(FACTORIAL_IRQ, ctx);
              break;
            }
            case STATUS:
              status = v & STATUS_IRQ_AFTER_FACTORIAL;
              break;
            case IRQ_RAISE:
              raise(v, ctx);
              break;
            case IRQ_ACK:
              irqStatus &= ~v;
              break;
          }
        },
      },
    ],
    interrupts: { intx: true, msi: 1 },
    reset() {
      liveness = factorial = status = irqStatus = 0;
      Object.assign(dmaRegs, { src: 0n, dst: 0n, count: 0n, cmd: 0n });
      buffer.fill(0);
    },
  };
}
