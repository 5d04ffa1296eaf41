/**
 * Intel 82574 (e1000e) registers in BAR0, as the 82574 GbE Controller Family datasheet names
 * them: device control and status, PHY access (MDIC), the interrupt cause, cause-set and mask
 * registers, MSI-X allocation, receive and transmit control, the descriptor-ring registers of
 * both queues (arrays, 0x100 apart), receive addresses, and statistics counters, which clear
 * when read (so only `read()` reads them; `dump()` lists them as skipped).
 */
import { defineRegisterMap } from '../map.js';

/** Interrupt causes: one bit each in ICR, ICS, IMS and IMC. */
const CAUSES = {
  TXDW: { bits: 0, description: 'transmit descriptor written back' },
  TXQE: { bits: 1, description: 'transmit queue empty' },
  LSC: { bits: 2, description: 'link status change' },
  RXDMT0: { bits: 4, description: 'receive descriptor minimum threshold' },
  RXO: { bits: 6, description: 'receiver overrun' },
  RXT0: { bits: 7, description: 'receiver timer' },
  MDAC: { bits: 9, description: 'MDI/O access complete' },
  TXD_LOW: { bits: 15 },
  SRPD: { bits: 16, description: 'small receive packet detected' },
  ACK: { bits: 17, description: 'receive ACK frame' },
  MNG: { bits: 18 },
  RXQ0: { bits: 20, description: 'receive queue 0 (MSI-X)' },
  RXQ1: { bits: 21 },
  TXQ0: { bits: 22, description: 'transmit queue 0 (MSI-X)' },
  TXQ1: { bits: 23 },
  OTHER: { bits: 24, description: 'other causes (MSI-X)' },
} as const;

/** A statistics counter: 32 bits, cleared by reading it. */
const counter = (offset: number, description: string) =>
  ({ offset, access: 'ro', readEffect: 'clear', description }) as const;

/** A descriptor-ring register of queues 0 and 1. */
const ring = (offset: number, description: string) => ({ offset, count: 2, stride: 0x100, description }) as const;

/** The e1000e register map: `e1000eMap.bind(dev.bar(0))`. */
export const e1000eMap = defineRegisterMap({
  name: 'e1000e',
  description: 'Intel 82574 GbE controller registers (BAR0)',
  registers: {
    CTRL: {
      offset: 0x0000,
      description: 'device control',
      fields: {
        FD: { bits: 0, description: 'full duplex' },
        GIO_MASTER_DISABLE: { bits: 2 },
        ASDE: { bits: 5, description: 'auto-speed detection enable' },
        SLU: { bits: 6, description: 'set link up' },
        SPEED: { bits: [9, 8], values: { '10Mb/s': 0, '100Mb/s': 1, '1000Mb/s': 2 } },
        FRCSPD: { bits: 11, description: 'force speed' },
        FRCDPX: { bits: 12, description: 'force duplex' },
        RST: { bits: 26, write: 'selfClearing', description: 'device reset' },
        RFCE: { bits: 27 },
        TFCE: { bits: 28 },
        VME: { bits: 30 },
        PHY_RST: { bits: 31 },
      },
    },
    STATUS: {
      offset: 0x0008,
      access: 'ro',
      description: 'device status',
      fields: {
        FD: { bits: 0 },
        LU: { bits: 1, description: 'link up' },
        SPEED: { bits: [7, 6], values: { '10Mb/s': 0, '100Mb/s': 1, '1000Mb/s': 2 } },
        PHYRA: { bits: 10, description: 'PHY reset asserted' },
        GIO_MASTER_ENABLE: { bits: 19 },
      },
    },
    CTRL_EXT: { offset: 0x0018, description: 'extended device control' },
    MDIC: {
      offset: 0x0020,
      description: 'MDI control: PHY register access',
      fields: {
        DATA: { bits: [15, 0] },
        REGADD: { bits: [20, 16] },
        PHYADD: { bits: [25, 21] },
        OP: { bits: [27, 26], values: { write: 1, read: 2 } },
        R: { bits: 28, description: 'ready: the access is done' },
        I: { bits: 29, description: 'interrupt when done' },
        E: { bits: 30, description: 'error' },
      },
    },
    ICR: {
      offset: 0x00c0,
      readEffect: 'clear',
      write: 'oneToClear',
      description: 'interrupt cause read: reading clears it (without MSI-X), a 1 written clears a cause',
      fields: { ...CAUSES, INT_ASSERTED: { bits: 31, access: 'ro' } },
    },
    ITR: { offset: 0x00c4, description: 'interrupt throttling', fields: { INTERVAL: { bits: [15, 0] } } },
    ICS: {
      offset: 0x00c8,
      access: 'wo',
      write: 'oneToSet',
      description: 'interrupt cause set',
      fields: CAUSES,
    },
    IMS: {
      offset: 0x00d0,
      write: 'oneToSet',
      description: 'interrupt mask set: a 1 enables the cause; reads give the mask',
      fields: CAUSES,
    },
    IMC: {
      offset: 0x00d8,
      access: 'wo',
      write: 'oneToClear',
      description: 'interrupt mask clear: a 1 disables the cause',
      fields: CAUSES,
    },
    IAM: { offset: 0x00e0, description: 'interrupt acknowledge auto-mask' },
    IVAR: {
      offset: 0x00e4,
      description: 'MSI-X allocation: which vector each cause raises',
      fields: {
        RXQ0_VECTOR: { bits: [2, 0] },
        RXQ0_VALID: { bits: 3 },
        RXQ1_VECTOR: { bits: [6, 4] },
        RXQ1_VALID: { bits: 7 },
        TXQ0_VECTOR: { bits: [10, 8] },
        TXQ0_VALID: { bits: 11 },
        TXQ1_VECTOR: { bits: [14, 12] },
        TXQ1_VALID: { bits: 15 },
        OTHER_VECTOR: { bits: [18, 16] },
        OTHER_VALID: { bits: 19 },
        INT_ON_ALL_WB: { bits: 31 },
      },
    },
    RCTL: {
      offset: 0x0100,
      description: 'receive control',
      fields: {
        EN: { bits: 1 },
        SBP: { bits: 2 },
        UPE: { bits: 3, description: 'unicast promiscuous' },
        MPE: { bits: 4, description: 'multicast promiscuous' },
        LPE: { bits: 5, description: 'long packets' },
        LBM: { bits: [7, 6], values: { none: 0, mac: 1 }, description: 'loopback mode' },
        RDMTS: { bits: [9, 8] },
        DTYP: { bits: [11, 10] },
        MO: { bits: [13, 12] },
        BAM: { bits: 15, description: 'accept broadcast' },
        BSIZE: { bits: [17, 16], description: 'buffer size: 00 is 2048 bytes (BSEX 0)' },
        VFE: { bits: 18 },
        DPF: { bits: 22 },
        PMCF: { bits: 23 },
        BSEX: { bits: 25 },
        SECRC: { bits: 26, description: 'strip the Ethernet CRC' },
      },
    },
    TCTL: {
      offset: 0x0400,
      description: 'transmit control',
      fields: {
        EN: { bits: 1 },
        PSP: { bits: 3, description: 'pad short packets' },
        CT: { bits: [11, 4], description: 'collision threshold' },
        COLD: { bits: [21, 12], description: 'collision distance' },
        SWXOFF: { bits: 22 },
        RTLC: { bits: 24 },
        MULR: { bits: 28 },
      },
    },
    RDBA: {
      ...ring(0x2800, 'receive descriptor base address (RDBAL, RDBAH), 128-byte aligned'),
      width: 64,
      accessWidth: 32,
    },
    RDLEN: ring(0x2808, 'receive descriptor ring length in bytes, a multiple of 128'),
    RDH: ring(0x2810, 'receive descriptor head'),
    RDT: ring(0x2818, 'receive descriptor tail'),
    TDBA: {
      ...ring(0x3800, 'transmit descriptor base address (TDBAL, TDBAH), 128-byte aligned'),
      width: 64,
      accessWidth: 32,
    },
    TDLEN: ring(0x3808, 'transmit descriptor ring length in bytes, a multiple of 128'),
    TDH: ring(0x3810, 'transmit descriptor head'),
    TDT: ring(0x3818, 'transmit descriptor tail'),
    TARC: {
      ...ring(0x3840, 'transmit arbitration count'),
      fields: { COUNT: { bits: [6, 0] }, ENABLE: { bits: 10, description: 'the queue may transmit' } },
    },
    RFCTL: {
      offset: 0x5008,
      description: 'receive filter control',
      fields: { EXTEN: { bits: 15, description: 'extended receive descriptors' } },
    },
    RAL: { offset: 0x5400, count: 16, stride: 8, description: 'receive address low: MAC bytes 0-3' },
    RAH: {
      offset: 0x5404,
      count: 16,
      stride: 8,
      description: 'receive address high: MAC bytes 4-5, address valid',
      fields: { RAH: { bits: [15, 0] }, ASEL: { bits: [17, 16] }, AV: { bits: 31, description: 'address valid' } },
    },
    CRCERRS: counter(0x4000, 'CRC error count'),
    MPC: counter(0x4010, 'missed packets count'),
    GPRC: counter(0x4074, 'good packets received count'),
    BPRC: counter(0x4078, 'broadcast packets received count'),
    MPRC: counter(0x407c, 'multicast packets received count'),
    GPTC: counter(0x4080, 'good packets transmitted count'),
    GORC: { ...counter(0x4088, 'good octets received count (GORCL, GORCH)'), width: 64, accessWidth: 32 },
    GOTC: { ...counter(0x4090, 'good octets transmitted count (GOTCL, GOTCH)'), width: 64, accessWidth: 32 },
    TPR: counter(0x40d0, 'total packets received'),
    TPT: counter(0x40d4, 'total packets transmitted'),
  },
});
