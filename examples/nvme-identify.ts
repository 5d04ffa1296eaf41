/**
 * The smallest useful NVMe driver: bring the controller up with an admin queue pair, send one
 * Identify Controller command, and print the model, serial and firmware. Completions are
 * polled (no interrupts needed).
 *
 * Run (as root, the controller bound to vfio-pci; its data is not touched):
 *   node --import tsx examples/nvme-identify.ts [ADDRESS]
 * Without ADDRESS it uses the test VM's manifest, or the first NVMe controller on vfio-pci.
 * In the test VM: scripts/vm/run --devices nvme -- node --import tsx examples/nvme-identify.ts
 *
 * Registers are reached by name through the library's NVMe register map (src/regmap/maps/
 * nvme.ts, after the NVMe base specification, section 3.1, "Controller Registers"); the command
 * and completion layouts are from section 4.
 */
import { nvmeDoorbells, nvmeMap, openDevice } from '../src/index.js';
import { findDevice, isMain, runMain, waitFor, type DeviceWanted } from './common.js';

/** EN=1, 4 KiB pages (MPS=0), NVM command set, IOSQES=6 (64-byte SQEs), IOCQES=4 (16-byte CQEs). */
const CC_ENABLE = { EN: 1, CSS: 'nvm', MPS: 0, AMS: 'roundRobin', SHN: 'none', IOSQES: 6, IOCQES: 4 } as const;

const SQE_SIZE = 64;
const CQE_SIZE = 16;
const QUEUE_ENTRIES = 16;
const OPC_IDENTIFY = 0x06;
const CNS_CONTROLLER = 1;

export const NVME: DeviceWanted = {
  name: 'nvme',
  description: 'NVMe controller (class 010802)',
  matches: (d) => d.class === 0x010802,
};

export interface NvmeIdentity {
  address: string;
  version: string;
  vendor: number;
  model: string;
  serial: string;
  firmware: string;
}

/** An ASCII field of the identify data, trailing spaces removed. */
function ascii(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.subarray(start, end))
    .toString('latin1')
    .replace(/[\s\0]+$/, '');
}

/**
 * Brings up the controller at `address` with admin queues of `queueEntries` entries (capped by
 * CAP.MQES), identifies it and logs what it learns.
 */
export function main(
  address?: string,
  log: (line: string) => void = console.log,
  queueEntries = QUEUE_ENTRIES,
): NvmeIdentity {
  const addr = findDevice(NVME, address);
  using dev = openDevice(addr); // bus mastering on: the controller reads and writes our queues
  const bar0 = dev.bar(0); //      the MSI-X table pages in BAR0 stay unmapped; we do not touch them

  // CAP is read as two 32-bit halves, low first (the map's accessWidth: every controller takes that).
  const cap = nvmeMap.bind(bar0).CAP.read();
  const regs = nvmeMap.bind(bar0, nvmeDoorbells(cap.DSTRD)); // the doorbells where CAP.DSTRD puts them
  const maxEntries = cap.MQES + 1;
  const timeoutMs = Math.max(1, cap.TO) * 500;
  const stride = 4 << cap.DSTRD;
  const vs = regs.VS.read();
  const version = `${vs.MJR}.${vs.MNR}`;
  log(
    `nvme at ${addr}: NVMe ${version}, queues up to ${maxEntries} entries, ready timeout ${timeoutMs} ms, doorbell stride ${stride}`,
  );

  // 1. Disable: the admin queue registers may only change while CC.EN = 0 and CSTS.RDY = 0.
  regs.CC.write(0);
  waitFor(() => regs.CSTS.read().RDY === 0, timeoutMs, 'CSTS.RDY = 0 after disabling the controller');

  // 2. Admin queues: one DMA allocation, the submission queue in its first 4 KiB page and the
  //    completion queue in its second (each queue base must be page aligned).
  using queues = dev.dma.alloc(8192);
  queues.bytes.fill(0); // the CQ's phase bits start at 0: a new completion has phase 1
  const sqIova = queues.iova;
  const cqIova = queues.iova + 4096n;
  const entries = Math.min(queueEntries, maxEntries);
  regs.AQA.write({ ASQS: entries - 1, ACQS: entries - 1 }); // sizes are 0-based
  regs.ASQ.write(sqIova); // 64-bit registers as two 32-bit writes, low half first
  regs.ACQ.write(cqIova);

  // 3. Enable and wait for ready. Mask pin/MSI interrupts: this driver polls.
  regs.CC.write(CC_ENABLE);
  waitFor(
    () => {
      const csts = regs.CSTS.read();
      if (csts.CFS)
        throw new Error(`${addr}: controller fatal status (CSTS 0x${csts.raw.toString(16)}) while enabling`);
      return csts.RDY === 1;
    },
    timeoutMs,
    'CSTS.RDY = 1 after enabling the controller',
  );
  regs.INTMS.write({ IVMS: 0xffff_ffff });
  log(
    `controller enabled: admin SQ at IOVA 0x${sqIova.toString(16)}, CQ at 0x${cqIova.toString(16)}, ${entries} entries each`,
  );

  try {
    // 4. Identify Controller: a 64-byte command in SQ slot 0 pointing at a 4 KiB buffer.
    using ident = dev.dma.alloc(4096);
    const cid = 1;
    const sqe = new DataView(queues.bytes.buffer, queues.bytes.byteOffset, SQE_SIZE); // plain RAM: DataView is fine
    sqe.setUint32(0, OPC_IDENTIFY | (cid << 16), true); // CDW0: opcode, command id
    sqe.setUint32(4, 0, true); //                          NSID
    sqe.setBigUint64(24, ident.iova, true); //             PRP1: the data buffer
    sqe.setUint32(40, CNS_CONTROLLER, true); //            CDW10: CNS = 1, identify controller
    regs.SQTDBL[0].write({ SQT: 1 }); //                   SQ0 tail = 1: the controller fetches slot 0

    // 5. Poll the first completion entry until its phase bit flips to 1. Atomics.load makes
    //    every iteration read memory the device writes (a plain load may be hoisted by the JIT).
    const cq = new Int32Array(queues.bytes.buffer, queues.bytes.byteOffset + 4096, (entries * CQE_SIZE) / 4);
    waitFor(() => ((Atomics.load(cq, 3) >>> 16) & 1) === 1, 5_000, 'the Identify completion');
    const dw3 = Atomics.load(cq, 3) >>> 0;
    const status = dw3 >>> 17; // SC (7:0), SCT (10:8), CRD, M, DNR
    if ((dw3 & 0xffff) !== cid) throw new Error(`completion for command id ${dw3 & 0xffff}, expected ${cid}`);
    if (status !== 0)
      throw new Error(
        `Identify failed: status code type ${(status >>> 8) & 7}, status code 0x${(status & 0xff).toString(16)}`,
      );
    regs.CQHDBL[0].write({ CQH: 1 }); // CQ0 head = 1: we consumed the entry

    const id = ident.bytes;
    const result: NvmeIdentity = {
      address: addr,
      version,
      vendor: id[0] | (id[1] << 8),
      serial: ascii(id, 4, 24),
      model: ascii(id, 24, 64),
      firmware: ascii(id, 64, 72),
    };
    log(
      `identify controller: model "${result.model}", serial "${result.serial}", firmware "${result.firmware}", PCI vendor 0x${result.vendor.toString(16).padStart(4, '0')}`,
    );
    return result;
  } finally {
    // 6. Disable again so the controller stops using our queues before their memory is unmapped.
    regs.CC.write(0);
    waitFor(() => regs.CSTS.read().RDY === 0, timeoutMs, 'CSTS.RDY = 0 at shutdown');
  }
}

if (isMain(import.meta.url)) await runMain(() => main(process.argv[2]));
