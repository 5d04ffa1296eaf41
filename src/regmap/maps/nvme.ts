/**
 * NVMe controller registers in BAR0 (NVM Express Base Specification, section 3.1, "Controller
 * Registers"): capabilities, version, interrupt mask set/clear, configuration, status, subsystem
 * reset, the admin queue registers and the doorbells. 64-bit registers are reached as two
 * 32-bit accesses, lowest address first, which every controller accepts.
 */
import { defineRegisterMap } from '../map.js';

/** The NVMe register map: `nvmeMap.bind(dev.bar(0), nvmeDoorbells(cap.DSTRD))`. */
export const nvmeMap = defineRegisterMap({
  name: 'nvme',
  description: 'NVMe controller registers (BAR0)',
  registers: {
    CAP: {
      offset: 0x00,
      width: 64,
      accessWidth: 32,
      access: 'ro',
      description: 'controller capabilities',
      fields: {
        MQES: { bits: [15, 0], description: 'maximum queue entries supported, 0-based' },
        CQR: { bits: 16, description: 'contiguous queues required' },
        AMS: { bits: [18, 17], description: 'arbitration mechanisms supported' },
        TO: { bits: [31, 24], description: 'worst-case time to ready, in 500 ms units' },
        DSTRD: { bits: [35, 32], description: 'doorbell stride: 4 << DSTRD bytes' },
        NSSRS: { bits: 36, description: 'NVM subsystem reset supported' },
        CSS: { bits: [44, 37], description: 'command sets supported' },
        BPS: { bits: 45, description: 'boot partition support' },
        MPSMIN: { bits: [51, 48], description: 'memory page size minimum: 4 KiB << MPSMIN' },
        MPSMAX: { bits: [55, 52], description: 'memory page size maximum' },
        PMRS: { bits: 56 },
        CMBS: { bits: 57 },
      },
    },
    VS: {
      offset: 0x08,
      access: 'ro',
      description: 'version',
      fields: { TER: { bits: [7, 0] }, MNR: { bits: [15, 8] }, MJR: { bits: [31, 16] } },
    },
    INTMS: {
      offset: 0x0c,
      description: 'interrupt mask set: a 1 masks the vector; reads give the mask',
      fields: { IVMS: { bits: [31, 0], write: 'oneToSet' } },
    },
    INTMC: {
      offset: 0x10,
      description: 'interrupt mask clear: a 1 unmasks the vector; reads give the mask',
      fields: { IVMC: { bits: [31, 0], write: 'oneToClear' } },
    },
    CC: {
      offset: 0x14,
      description: 'controller configuration',
      fields: {
        EN: { bits: 0 },
        CSS: { bits: [6, 4], values: { nvm: 0, all: 6, adminOnly: 7 } },
        MPS: { bits: [10, 7], description: 'memory page size: 4 KiB << MPS' },
        AMS: { bits: [13, 11], values: { roundRobin: 0, weightedRoundRobin: 1, vendor: 7 } },
        SHN: { bits: [15, 14], values: { none: 0, normal: 1, abrupt: 2 } },
        IOSQES: { bits: [19, 16], description: 'I/O submission queue entry size: 2^n bytes' },
        IOCQES: { bits: [23, 20], description: 'I/O completion queue entry size: 2^n bytes' },
      },
    },
    CSTS: {
      offset: 0x1c,
      description: 'controller status',
      fields: {
        RDY: { bits: 0, access: 'ro' },
        CFS: { bits: 1, access: 'ro', description: 'controller fatal status' },
        SHST: { bits: [3, 2], access: 'ro', values: { normal: 0, occurring: 1, complete: 2 } },
        NSSRO: { bits: 4, write: 'oneToClear', description: 'NVM subsystem reset occurred' },
        PP: { bits: 5, access: 'ro', description: 'processing paused' },
      },
    },
    NSSR: {
      offset: 0x20,
      access: 'wo',
      description: 'NVM subsystem reset: write 0x4e564d65 ("NVMe")',
      fields: { NSSRC: { bits: [31, 0] } },
    },
    AQA: {
      offset: 0x24,
      description: 'admin queue attributes: sizes, 0-based',
      fields: { ASQS: { bits: [11, 0] }, ACQS: { bits: [27, 16] } },
    },
    ASQ: {
      offset: 0x28,
      width: 64,
      accessWidth: 32,
      description: 'admin submission queue base address (page aligned)',
      fields: { ASQB: { bits: [63, 12] } },
    },
    ACQ: {
      offset: 0x30,
      width: 64,
      accessWidth: 32,
      description: 'admin completion queue base address (page aligned)',
      fields: { ACQB: { bits: [63, 12] } },
    },
    SQTDBL: {
      offset: 0x1000,
      count: 65,
      stride: 8,
      access: 'wo',
      description: 'submission queue y tail doorbell, at 0x1000 + 2y * (4 << CAP.DSTRD)',
      fields: { SQT: { bits: [15, 0] } },
    },
    CQHDBL: {
      offset: 0x1004,
      count: 65,
      stride: 8,
      access: 'wo',
      description: 'completion queue y head doorbell, at 0x1000 + (2y + 1) * (4 << CAP.DSTRD)',
      fields: { CQH: { bits: [15, 0] } },
    },
  },
});

/** `bind()` options placing the doorbells for a controller's `CAP.DSTRD` (the map assumes 0). */
export function nvmeDoorbells(dstrd: number): {
  arrays: { SQTDBL: { stride: number }; CQHDBL: { offset: number; stride: number } };
} {
  const step = 4 << dstrd;
  return { arrays: { SQTDBL: { stride: 2 * step }, CQHDBL: { offset: 0x1000 + step, stride: 2 * step } } };
}
