/**
 * An NVMe controller's admin queue pair driven through the library, for the SR-IOV test: the
 * bring-up of examples/nvme-identify.ts (disable, admin queues, enable) with commands submitted
 * one at a time and their completions polled by phase bit. Layouts from the NVMe base
 * specification (section 4: submission and completion entries).
 */
import { nvmeDoorbells, nvmeMap, type Device, type DmaBuffer } from '../../src/index.js';
import { waitFor } from '../../examples/common.js';

const ENTRIES = 8;
const CC_ENABLE = { EN: 1, CSS: 'nvm', MPS: 0, AMS: 'roundRobin', SHN: 'none', IOSQES: 6, IOCQES: 4 } as const;

/** One admin command: opcode, namespace, data buffer and command dwords 10 and 11. */
export interface AdminCommand {
  opcode: number;
  nsid?: number;
  prp1?: bigint;
  cdw10?: number;
  cdw11?: number;
}

/** A completion: its status field (0: success) and dword 0 (the command's result). */
export interface AdminCompletion {
  status: number;
  result: number;
}

/** The controller, enabled with an admin queue pair of 8 entries; `close()` disables it. */
export class NvmeAdmin {
  readonly #regs;
  readonly #queues: DmaBuffer;
  readonly #timeoutMs: number;
  #tail = 0;
  #head = 0;
  #phase = 1;
  #cid = 0;

  constructor(dev: Device) {
    const bar0 = dev.bar(0);
    const cap = nvmeMap.bind(bar0).CAP.read();
    this.#regs = nvmeMap.bind(bar0, nvmeDoorbells(cap.DSTRD));
    this.#timeoutMs = Math.max(1, cap.TO) * 500;
    this.#disable();
    this.#queues = dev.dma.alloc(8192); // SQ in the first page, CQ in the second
    try {
      this.#queues.bytes.fill(0);
      this.#regs.AQA.write({ ASQS: ENTRIES - 1, ACQS: ENTRIES - 1 });
      this.#regs.ASQ.write(this.#queues.iova);
      this.#regs.ACQ.write(this.#queues.iova + 4096n);
      this.#regs.CC.write(CC_ENABLE);
      waitFor(
        () => {
          const csts = this.#regs.CSTS.read();
          if (csts.CFS) throw new Error(`${dev.address}: controller fatal status while enabling (CSTS.CFS)`);
          return csts.RDY === 1;
        },
        this.#timeoutMs,
        `${dev.address} CSTS.RDY = 1`,
      );
    } catch (e) {
      this.#queues.close();
      throw e;
    }
  }

  /** Submits `cmd` and polls for its completion. */
  submit(cmd: AdminCommand): AdminCompletion {
    const cid = ++this.#cid & 0xffff;
    const sq = new DataView(this.#queues.bytes.buffer, this.#queues.bytes.byteOffset + this.#tail * 64, 64);
    for (let i = 0; i < 64; i += 4) sq.setUint32(i, 0, true);
    sq.setUint32(0, cmd.opcode | (cid << 16), true);
    sq.setUint32(4, cmd.nsid ?? 0, true);
    sq.setBigUint64(24, cmd.prp1 ?? 0n, true);
    sq.setUint32(40, cmd.cdw10 ?? 0, true);
    sq.setUint32(44, cmd.cdw11 ?? 0, true);
    this.#tail = (this.#tail + 1) % ENTRIES;
    this.#regs.SQTDBL[0].write({ SQT: this.#tail });
    const cq = new Int32Array(this.#queues.bytes.buffer, this.#queues.bytes.byteOffset + 4096 + this.#head * 16, 4);
    waitFor(() => ((Atomics.load(cq, 3) >>> 16) & 1) === this.#phase, 5_000, `completion of admin command ${cid}`);
    const dw3 = Atomics.load(cq, 3) >>> 0;
    const done = { status: dw3 >>> 17, result: Atomics.load(cq, 0) >>> 0 };
    if ((dw3 & 0xffff) !== cid) throw new Error(`completion for command ${dw3 & 0xffff}, expected ${cid}`);
    this.#head = (this.#head + 1) % ENTRIES;
    if (this.#head === 0) this.#phase ^= 1;
    this.#regs.CQHDBL[0].write({ CQH: this.#head });
    return done;
  }

  /** Like `submit`, and throws unless the command succeeded. */
  run(cmd: AdminCommand, what: string): AdminCompletion {
    const done = this.submit(cmd);
    if (done.status !== 0)
      throw new Error(
        `${what} failed: status code type ${(done.status >>> 8) & 7}, code 0x${(done.status & 0xff).toString(16)}`,
      );
    return done;
  }

  #disable(): void {
    this.#regs.CC.write(0);
    waitFor(() => this.#regs.CSTS.read().RDY === 0, this.#timeoutMs, 'CSTS.RDY = 0');
  }

  /** Disables the controller (it stops using the queues), then frees them. */
  close(): void {
    try {
      this.#disable();
    } finally {
      this.#queues.close();
    }
  }
}
