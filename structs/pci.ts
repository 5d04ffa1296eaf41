/** PCI configuration-space constants, named as in `<linux/pci_regs.h>`. */
import { PCI_CAPABILITY_REGISTERS } from './pci-capabilities.js';

export const PCI_CFG_SPACE_SIZE = 256;
export const PCI_CFG_SPACE_EXP_SIZE = 4096;

// Type 0 header
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BIST = 0x0f;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BASE_ADDRESS_1 = 0x14;
export const PCI_BASE_ADDRESS_2 = 0x18;
export const PCI_BASE_ADDRESS_3 = 0x1c;
export const PCI_BASE_ADDRESS_4 = 0x20;
export const PCI_BASE_ADDRESS_5 = 0x24;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

// Command register bits
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_SPECIAL = 0x8;
export const PCI_COMMAND_INVALIDATE = 0x10;
export const PCI_COMMAND_VGA_PALETTE = 0x20;
export const PCI_COMMAND_PARITY = 0x40;
export const PCI_COMMAND_WAIT = 0x80;
export const PCI_COMMAND_SERR = 0x100;
export const PCI_COMMAND_FAST_BACK = 0x200;
export const PCI_COMMAND_INTX_DISABLE = 0x400;

// Status register bits
export const PCI_STATUS_INTERRUPT = 0x08;
export const PCI_STATUS_CAP_LIST = 0x10;

// Header type
export const PCI_HEADER_TYPE_MASK = 0x7f;
export const PCI_HEADER_TYPE_NORMAL = 0;
export const PCI_HEADER_TYPE_BRIDGE = 1;
export const PCI_HEADER_TYPE_CARDBUS = 2;

// BAR decoding
export const PCI_BASE_ADDRESS_SPACE = 0x01;
export const PCI_BASE_ADDRESS_SPACE_IO = 0x01;
export const PCI_BASE_ADDRESS_SPACE_MEMORY = 0x00;
export const PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x06;
export const PCI_BASE_ADDRESS_MEM_TYPE_32 = 0x00;
export const PCI_BASE_ADDRESS_MEM_TYPE_1M = 0x02;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
export const PCI_BASE_ADDRESS_MEM_MASK = 0xfffffff0; // ~0x0f as an unsigned 32-bit value
export const PCI_BASE_ADDRESS_IO_MASK = 0xfffffffc; // ~0x03 as an unsigned 32-bit value
export const PCI_ROM_ADDRESS_ENABLE = 0x01;

// Standard capability list
export const PCI_CAP_LIST_ID = 0;
export const PCI_CAP_LIST_NEXT = 1;
export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_AGP = 0x02;
export const PCI_CAP_ID_VPD = 0x03;
export const PCI_CAP_ID_SLOTID = 0x04;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_CHSWP = 0x06;
export const PCI_CAP_ID_PCIX = 0x07;
export const PCI_CAP_ID_HT = 0x08;
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_DBG = 0x0a;
export const PCI_CAP_ID_CCRC = 0x0b;
export const PCI_CAP_ID_SHPC = 0x0c;
export const PCI_CAP_ID_SSVID = 0x0d;
export const PCI_CAP_ID_AGP3 = 0x0e;
export const PCI_CAP_ID_SECDEV = 0x0f;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;
export const PCI_CAP_ID_SATA = 0x12;
export const PCI_CAP_ID_AF = 0x13;
export const PCI_CAP_ID_EA = 0x14;

// MSI capability
export const PCI_MSI_FLAGS = 0x02;
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
export const PCI_MSI_FLAGS_QMASK = 0x000e;
export const PCI_MSI_FLAGS_QSIZE = 0x0070;
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_ADDRESS_LO = 0x04;
export const PCI_MSI_ADDRESS_HI = 0x08;
export const PCI_MSI_DATA_32 = 0x08;
export const PCI_MSI_MASK_32 = 0x0c;
export const PCI_MSI_PENDING_32 = 0x10;
export const PCI_MSI_DATA_64 = 0x0c;
export const PCI_MSI_MASK_64 = 0x10;
export const PCI_MSI_PENDING_64 = 0x14;

// MSI-X capability and table
export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_TABLE_BIR = 0x00000007;
export const PCI_MSIX_TABLE_OFFSET = 0xfffffff8;
export const PCI_MSIX_PBA = 8;
export const PCI_MSIX_PBA_BIR = 0x00000007;
export const PCI_MSIX_PBA_OFFSET = 0xfffffff8;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0x0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 0x4;
export const PCI_MSIX_ENTRY_DATA = 0x8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 0xc;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

// Extended capabilities (PCIe, config offsets 0x100 and up)
export const PCI_EXT_CAP_ID_ERR = 0x01;
export const PCI_EXT_CAP_ID_VC = 0x02;
export const PCI_EXT_CAP_ID_DSN = 0x03;
export const PCI_EXT_CAP_ID_PWR = 0x04;
export const PCI_EXT_CAP_ID_VNDR = 0x0b;
export const PCI_EXT_CAP_ID_ACS = 0x0d;
export const PCI_EXT_CAP_ID_ARI = 0x0e;
export const PCI_EXT_CAP_ID_ATS = 0x0f;
export const PCI_EXT_CAP_ID_SRIOV = 0x10;
export const PCI_EXT_CAP_ID_PRI = 0x13;
export const PCI_EXT_CAP_ID_REBAR = 0x15;
export const PCI_EXT_CAP_ID_LTR = 0x18;
export const PCI_EXT_CAP_ID_SECPCI = 0x19;
export const PCI_EXT_CAP_ID_PASID = 0x1b;
export const PCI_EXT_CAP_ID_DPC = 0x1d;
export const PCI_EXT_CAP_ID_L1SS = 0x1e;
export const PCI_EXT_CAP_ID_PTM = 0x1f;
export const PCI_EXT_CAP_ID_DVSEC = 0x23;

/** `PCI_EXT_CAP_ID(header)`: the id of an extended capability header dword. */
export const PCI_EXT_CAP_ID = (header: number): number => header & 0x0000ffff;
/** `PCI_EXT_CAP_VER(header)`. */
export const PCI_EXT_CAP_VER = (header: number): number => (header >>> 16) & 0xf;
/** `PCI_EXT_CAP_NEXT(header)`: offset of the next extended capability, 0 at the end. */
export const PCI_EXT_CAP_NEXT = (header: number): number => (header >>> 20) & 0xffc;

/** Every numeric constant above, by macro name (checked against `<linux/pci_regs.h>`). */
export const PCI_CONSTANTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries({
    ...PCI_CAPABILITY_REGISTERS,
    PCI_CFG_SPACE_SIZE,
    PCI_CFG_SPACE_EXP_SIZE,
    PCI_VENDOR_ID,
    PCI_DEVICE_ID,
    PCI_COMMAND,
    PCI_STATUS,
    PCI_REVISION_ID,
    PCI_CLASS_PROG,
    PCI_CLASS_DEVICE,
    PCI_CACHE_LINE_SIZE,
    PCI_LATENCY_TIMER,
    PCI_HEADER_TYPE,
    PCI_BIST,
    PCI_BASE_ADDRESS_0,
    PCI_BASE_ADDRESS_1,
    PCI_BASE_ADDRESS_2,
    PCI_BASE_ADDRESS_3,
    PCI_BASE_ADDRESS_4,
    PCI_BASE_ADDRESS_5,
    PCI_SUBSYSTEM_VENDOR_ID,
    PCI_SUBSYSTEM_ID,
    PCI_ROM_ADDRESS,
    PCI_CAPABILITY_LIST,
    PCI_INTERRUPT_LINE,
    PCI_INTERRUPT_PIN,
    PCI_COMMAND_IO,
    PCI_COMMAND_MEMORY,
    PCI_COMMAND_MASTER,
    PCI_COMMAND_SPECIAL,
    PCI_COMMAND_INVALIDATE,
    PCI_COMMAND_VGA_PALETTE,
    PCI_COMMAND_PARITY,
    PCI_COMMAND_WAIT,
    PCI_COMMAND_SERR,
    PCI_COMMAND_FAST_BACK,
    PCI_COMMAND_INTX_DISABLE,
    PCI_STATUS_INTERRUPT,
    PCI_STATUS_CAP_LIST,
    PCI_HEADER_TYPE_MASK,
    PCI_HEADER_TYPE_NORMAL,
    PCI_HEADER_TYPE_BRIDGE,
    PCI_HEADER_TYPE_CARDBUS,
    PCI_BASE_ADDRESS_SPACE,
    PCI_BASE_ADDRESS_SPACE_IO,
    PCI_BASE_ADDRESS_SPACE_MEMORY,
    PCI_BASE_ADDRESS_MEM_TYPE_MASK,
    PCI_BASE_ADDRESS_MEM_TYPE_32,
    PCI_BASE_ADDRESS_MEM_TYPE_1M,
    PCI_BASE_ADDRESS_MEM_TYPE_64,
    PCI_BASE_ADDRESS_MEM_PREFETCH,
    PCI_BASE_ADDRESS_MEM_MASK,
    PCI_BASE_ADDRESS_IO_MASK,
    PCI_ROM_ADDRESS_ENABLE,
    PCI_CAP_LIST_ID,
    PCI_CAP_LIST_NEXT,
    PCI_CAP_ID_PM,
    PCI_CAP_ID_AGP,
    PCI_CAP_ID_VPD,
    PCI_CAP_ID_SLOTID,
    PCI_CAP_ID_MSI,
    PCI_CAP_ID_CHSWP,
    PCI_CAP_ID_PCIX,
    PCI_CAP_ID_HT,
    PCI_CAP_ID_VNDR,
    PCI_CAP_ID_DBG,
    PCI_CAP_ID_CCRC,
    PCI_CAP_ID_SHPC,
    PCI_CAP_ID_SSVID,
    PCI_CAP_ID_AGP3,
    PCI_CAP_ID_SECDEV,
    PCI_CAP_ID_EXP,
    PCI_CAP_ID_MSIX,
    PCI_CAP_ID_SATA,
    PCI_CAP_ID_AF,
    PCI_CAP_ID_EA,
    PCI_MSI_FLAGS,
    PCI_MSI_FLAGS_ENABLE,
    PCI_MSI_FLAGS_QMASK,
    PCI_MSI_FLAGS_QSIZE,
    PCI_MSI_FLAGS_64BIT,
    PCI_MSI_FLAGS_MASKBIT,
    PCI_MSI_ADDRESS_LO,
    PCI_MSI_ADDRESS_HI,
    PCI_MSI_DATA_32,
    PCI_MSI_MASK_32,
    PCI_MSI_PENDING_32,
    PCI_MSI_DATA_64,
    PCI_MSI_MASK_64,
    PCI_MSI_PENDING_64,
    PCI_MSIX_FLAGS,
    PCI_MSIX_FLAGS_QSIZE,
    PCI_MSIX_FLAGS_MASKALL,
    PCI_MSIX_FLAGS_ENABLE,
    PCI_MSIX_TABLE,
    PCI_MSIX_TABLE_BIR,
    PCI_MSIX_TABLE_OFFSET,
    PCI_MSIX_PBA,
    PCI_MSIX_PBA_BIR,
    PCI_MSIX_PBA_OFFSET,
    PCI_MSIX_ENTRY_SIZE,
    PCI_MSIX_ENTRY_LOWER_ADDR,
    PCI_MSIX_ENTRY_UPPER_ADDR,
    PCI_MSIX_ENTRY_DATA,
    PCI_MSIX_ENTRY_VECTOR_CTRL,
    PCI_MSIX_ENTRY_CTRL_MASKBIT,
    PCI_EXT_CAP_ID_ERR,
    PCI_EXT_CAP_ID_VC,
    PCI_EXT_CAP_ID_DSN,
    PCI_EXT_CAP_ID_PWR,
    PCI_EXT_CAP_ID_VNDR,
    PCI_EXT_CAP_ID_ACS,
    PCI_EXT_CAP_ID_ARI,
    PCI_EXT_CAP_ID_ATS,
    PCI_EXT_CAP_ID_SRIOV,
    PCI_EXT_CAP_ID_PRI,
    PCI_EXT_CAP_ID_REBAR,
    PCI_EXT_CAP_ID_LTR,
    PCI_EXT_CAP_ID_SECPCI,
    PCI_EXT_CAP_ID_PASID,
    PCI_EXT_CAP_ID_DPC,
    PCI_EXT_CAP_ID_L1SS,
    PCI_EXT_CAP_ID_PTM,
    PCI_EXT_CAP_ID_DVSEC,
  }),
);
