/**
 * A minimal user-space NIC driver in the spirit of ixy: bring up an Intel 82574 (e1000e), put one
 * transmit ring, one receive ring and their packet buffers in DMA memory, switch the PHY to
 * loopback, send one Ethernet frame and receive it back. The receive descriptor's DD bit is
 * polled; the receive interrupt is also taken, through MSI-X vector 0.
 *
 * Run (as root, the NIC bound to vfio-pci; nothing leaves the port, the PHY loops it back):
 *   node --import tsx examples/e1000e-loopback.ts [ADDRESS]
 * Without ADDRESS it uses the test VM's manifest, or the first 82574 (8086:10d3) on vfio-pci.
 * In the test VM: scripts/vm/run --devices e1000e -- node --import tsx examples/e1000e-loopback.ts
 *
 * Registers are reached by name through the library's e1000e register map (src/regmap/maps/
 * e1000e.ts), whose names and bits are those of the Intel 82574 GbE Controller Family datasheet;
 * the legacy receive and transmit descriptor formats are from the same datasheet. QEMU's model of it
 * (hw/net/e1000e_core.c) sends a frame back to its own receive path instead of out of the port
 * when PHY control register 0 has its loopback bit set (MII_CR_LOOPBACK) or RCTL.LBM = 01b
 * (MAC loopback); this driver uses the PHY loopback, as Linux's e1000e self test does for copper PHYs.
 */
import { e1000eMap, openDevice } from '../src/index.js';
import { findDevice, isMain, runMain, waitFor, type DeviceWanted } from './common.js';

/** The NIC's registers in BAR0, by name. */
type Nic = ReturnType<typeof e1000eMap.bind>;

const PHY_ADDRESS = 1; //         the 82574's internal PHY answers at MDIO address 1
const PHY_CTRL = 0; //            PHY control register 0 (IEEE 802.3 clause 22 BMCR)
const PHY_CTRL_SPEED_1000 = 1 << 6; // speed select MSB
const PHY_CTRL_FULL_DUPLEX = 1 << 8;
const PHY_CTRL_LOOPBACK = 1 << 14;
// Descriptors: 16 bytes each, 8 per ring, so RDLEN/TDLEN = 128 (they must be multiples of 128).
const DESC_SIZE = 16;
const RING_ENTRIES = 8;
const RING_BYTES = DESC_SIZE * RING_ENTRIES;
const BUFFER_SIZE = 2048;
// Legacy TX descriptor: buffer address (64), length (16), CSO (8), CMD (8), STA (8), CSS, special.
const TXD_CMD_EOP = 1 << 0; //    end of packet
const TXD_CMD_IFCS = 1 << 1; //   insert the FCS
const TXD_CMD_RS = 1 << 3; //     report status: write DD back when done
const TXD_STA_DD = 1 << 0;
// Legacy RX descriptor: buffer address (64), length (16), checksum (16), status (8), errors (8), special (16).
const RXD_STA_DD = 1 << 0; //     descriptor done
const RXD_STA_EOP = 1 << 1; //    last descriptor of the frame

/** IEEE 802 local experimental EtherType: no protocol stack will take it for its own. */
const ETHERTYPE = 0x88b5;
const FRAME_BYTES = 64;
const MESSAGE = 'vfio-ts e1000e loopback: hello from user space';

export const E1000E: DeviceWanted = {
  name: 'e1000e',
  description: 'Intel 82574 NIC (8086:10d3)',
  matches: (d) => d.vendor === 0x8086 && d.device === 0x10d3,
};

export interface LoopbackResult {
  address: string;
  mac: string;
  sent: Uint8Array;
  received: Uint8Array;
  /** The MSI-X vector that signalled the receive, if one did. */
  interruptVector?: number;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function macString(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** One PHY register access through MDIC: start it, wait for R (ready), fail on E (error). */
function mdio(regs: Nic, op: 'read' | 'write', reg: number, data = 0): number {
  regs.MDIC.write({ OP: op, PHYADD: PHY_ADDRESS, REGADD: reg, DATA: data & 0xffff });
  let v = regs.MDIC.decode(0);
  waitFor(() => (v = regs.MDIC.read()).R === 1, 1000, 'MDIC.READY (PHY register access)');
  if (v.E) throw new Error(`PHY register ${reg} ${op} failed (MDIC 0x${v.raw.toString(16)})`);
  return v.DATA;
}

/** Brings up the NIC at `address`, loops one frame through it and logs what went out and came back. */
export function main(address?: string, log: (line: string) => void = console.log): LoopbackResult {
  const addr = findDevice(E1000E, address);
  using dev = openDevice(addr); // bus mastering on: the NIC reads and writes our rings and buffers
  const regs = e1000eMap.bind(dev.bar(0));

  // 1. Reset: mask every interrupt, set CTRL.RST, wait for the bit to clear, mask again. Every
  //    register used below is then programmed explicitly (QEMU 7.2's CTRL.RST only reloads the
  //    MAC address, and other programs may have left the rest in any state).
  regs.IMC.write(0xffff_ffff);
  regs.CTRL.modify({ RST: 1 });
  waitFor(() => regs.CTRL.read().RST === 0, 1000, 'CTRL.RST to clear after the reset');
  regs.IMC.write(0xffff_ffff);

  // 2. Our MAC address: receive address 0, loaded from the EEPROM at reset. The frame goes to it,
  //    so the unicast filter accepts it when it comes back.
  const ral = regs.RAL[0].read().raw;
  const rah = regs.RAH[0].read();
  const mac = new Uint8Array([
    ral & 0xff,
    (ral >>> 8) & 0xff,
    (ral >>> 16) & 0xff,
    ral >>> 24,
    rah.RAH & 0xff,
    rah.RAH >>> 8,
  ]);
  if (!rah.AV) regs.RAH[0].modify({ AV: 1 }, { from: rah }); // match this address; one write, no second read

  // 3. DMA memory: one page for both descriptor rings (TX at 0, RX at 2048; 16-byte aligned is
  //    required, 128 suggested), and a pool of 2 KiB packet buffers, one mapping for all of them.
  using rings = dev.dma.alloc(4096);
  rings.bytes.fill(0);
  const txRingIova = rings.iova;
  const rxRingIova = rings.iova + 2048n;
  // Int32 views: the device writes the status fields, so they are read with Atomics.load (a
  // plain load in a polling loop may be hoisted by the JIT). Descriptor i is words 4i..4i+3.
  const txd = new Int32Array(rings.bytes.buffer, rings.bytes.byteOffset, RING_BYTES / 4);
  const rxd = new Int32Array(rings.bytes.buffer, rings.bytes.byteOffset + 2048, RING_BYTES / 4);
  using pool = dev.dma.pool(2 * RING_ENTRIES, BUFFER_SIZE);

  // 4. Link: force 1000 Mb/s full duplex with the link up (what a loopback test sets, as the PHY
  //    does not negotiate with itself), then PHY control register 0: loopback, 1000 Mb/s, full
  //    duplex, auto-negotiation off. The old value is put back at the end.
  regs.CTRL.modify({ SLU: 1, FD: 1, SPEED: '1000Mb/s', FRCSPD: 1, FRCDPX: 1 });
  const phyCtrlBefore = mdio(regs, 'read', PHY_CTRL);
  const phyCtrl = PHY_CTRL_LOOPBACK | PHY_CTRL_SPEED_1000 | PHY_CTRL_FULL_DUPLEX;
  mdio(regs, 'write', PHY_CTRL, phyCtrl);
  try {
    const phyCtrlNow = mdio(regs, 'read', PHY_CTRL);
    if ((phyCtrlNow & PHY_CTRL_LOOPBACK) === 0)
      throw new Error(`the PHY did not take loopback mode (control register 0 reads 0x${phyCtrlNow.toString(16)})`);
    waitFor(() => regs.STATUS.read().LU === 1, 2000, 'STATUS.LU (link up)');
    const status = regs.STATUS.read();
    log(`e1000e at ${addr}: MAC ${macString(mac)}, link up, ${status.FD ? 'full' : 'half'} duplex`);
    log(
      `PHY loopback: control register 0 0x${phyCtrlBefore.toString(16).padStart(4, '0')} -> 0x${phyCtrlNow.toString(16).padStart(4, '0')} (bit 14 loopback, through MDIC)`,
    );

    // 5. Receive ring: every descriptor gets a buffer; status 0. RDT = RING_ENTRIES - 1 hands
    //    the NIC 7 of them (head == tail means "none free"). Legacy descriptors: RFCTL.EXTEN = 0.
    const rxBuffers = Array.from({ length: RING_ENTRIES }, () => pool.alloc()!);
    // Filled before the NIC sees it.
    const rxView = new DataView(rings.bytes.buffer, rings.bytes.byteOffset + 2048, RING_BYTES);
    rxBuffers.forEach((b, i) => rxView.setBigUint64(i * DESC_SIZE, b.iova, true));
    regs.RCTL.write(0); // receiver off while the ring is set up
    regs.RFCTL.write(0);
    regs.RDBA[0].write(rxRingIova); // RDBAL, then RDBAH
    regs.RDLEN[0].write(RING_BYTES);
    regs.RDH[0].write(0);
    regs.RDT[0].write(RING_ENTRIES - 1);
    // Broadcast accepted, CRC stripped (the length written back is the frame's), 2048-byte
    // buffers (BSIZE 00, BSEX 0), LBM none: the PHY loops, not the MAC.
    regs.RCTL.write({ EN: 1, BAM: 1, SECRC: 1, LBM: 'none' });

    // 6. Transmit ring: empty (TDH = TDT = 0), queue 0 enabled in TARC0, transmitter on.
    regs.TCTL.write(0);
    regs.TDBA[0].write(txRingIova); // TDBAL, then TDBAH
    regs.TDLEN[0].write(RING_BYTES);
    regs.TDH[0].write(0);
    regs.TDT[0].write(0);
    regs.TARC[0].modify({ ENABLE: 1 });
    // Short packets padded; the recommended collision threshold, and distance for full duplex.
    regs.TCTL.write({ EN: 1, PSP: 1, CT: 0x0f, COLD: 0x3f });
    log(
      `rings: TX at IOVA 0x${txRingIova.toString(16)}, RX at 0x${rxRingIova.toString(16)}, ${RING_ENTRIES} legacy descriptors each; buffers: a pool of ${pool.count} x ${BUFFER_SIZE} B at 0x${pool.buffer.iova.toString(16)}`,
    );

    // 7. The receive interrupt: MSI-X vector 0 through VFIO, the RXQ0 cause routed to it in IVAR
    //    and unmasked in IMS. (The driver polls as well; the interrupt confirms the NIC signalled.)
    const irqs = dev.interrupts;
    irqs.enable('msix', { start: 0, count: 1 });
    regs.IVAR.write({ RXQ0_VECTOR: 0, RXQ0_VALID: 1 }); // TX and "other" causes unrouted
    regs.IMS.write({ RXQ0: 1 });

    // 8. The frame: to our own address, from it, the experimental EtherType, a readable message,
    //    then a counting pattern up to 64 bytes. Descriptor 0 points at it; TDT = 1 sends it.
    const tx = pool.alloc()!;
    const frame = tx.bytes.subarray(0, FRAME_BYTES);
    frame.set(mac, 0);
    frame.set(mac, 6);
    frame[12] = ETHERTYPE >> 8;
    frame[13] = ETHERTYPE & 0xff;
    const message = Buffer.from(MESSAGE, 'latin1');
    frame.set(message, 14);
    for (let i = 14 + message.length; i < FRAME_BYTES; i++) frame[i] = i & 0xff;
    const txView = new DataView(rings.bytes.buffer, rings.bytes.byteOffset, DESC_SIZE);
    txView.setBigUint64(0, tx.iova, true); //                                   buffer address
    txView.setUint32(8, FRAME_BYTES | ((TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS) << 24), true); // length, CSO 0, CMD
    txView.setUint32(12, 0, true); //                                           STA, CSS, special
    log(
      `sent ${FRAME_BYTES} bytes: ${macString(mac)} -> ${macString(mac)}, type 0x${ETHERTYPE.toString(16)}, "${MESSAGE}"`,
    );
    log(`sent:     ${hex(frame)}`);
    regs.TDT[0].write(1);

    // 9. Transmit done: DD in the TX descriptor's status byte (byte 12: the low byte of word 3).
    waitFor(() => (Atomics.load(txd, 3) & TXD_STA_DD) !== 0, 2000, 'DD in TX descriptor 0 (frame sent)');
    // Received: DD in RX descriptor 0's status (byte 12), length in bytes 8-9, errors in byte 13.
    waitFor(() => (Atomics.load(rxd, 3) & RXD_STA_DD) !== 0, 2000, 'DD in RX descriptor 0 (frame received)');
    const word3 = Atomics.load(rxd, 3);
    const length = Atomics.load(rxd, 2) & 0xffff;
    const rxStatus = word3 & 0xff;
    const rxErrors = (word3 >>> 8) & 0xff;
    if ((rxStatus & RXD_STA_EOP) === 0)
      throw new Error(`RX descriptor 0 has no EOP (status 0x${rxStatus.toString(16)}): the frame spans descriptors`);
    if (rxErrors !== 0) throw new Error(`RX descriptor 0 reports errors 0x${rxErrors.toString(16)}`);
    const fired = irqs.wait(1000);
    const interruptVector = fired[0]?.vector;
    log(
      `RX descriptor 0: DD, EOP, length ${length}, no errors; ${interruptVector === undefined ? 'no interrupt within 1 s' : `interrupt on MSI-X vector ${interruptVector} (RXQ0)`}`,
    );
    // Hand the descriptor back (RDT moves on), as a driver does after consuming it.
    regs.RDT[0].write(0);

    const received = Uint8Array.from(rxBuffers[0].bytes.subarray(0, length));
    const same = length === FRAME_BYTES && received.every((b, i) => b === frame[i]);
    log(`received: ${hex(received)}`);
    log(`received ${length} bytes back: ${same ? 'identical' : 'DIFFERENT'}`);
    if (!same) throw new Error(`the frame that came back differs from the one sent (${length} bytes)`);
    return { address: addr, mac: macString(mac), sent: Uint8Array.from(frame), received, interruptVector };
  } finally {
    // 10. Stop: receiver and transmitter off, interrupts masked, PHY out of loopback, before the
    //     rings and buffers are unmapped (their `using` declarations close them when main returns).
    regs.RCTL.write(0);
    regs.TCTL.write(0);
    regs.IMC.write(0xffff_ffff);
    mdio(regs, 'write', PHY_CTRL, phyCtrlBefore & ~PHY_CTRL_LOOPBACK);
    if (dev.interrupts.type !== undefined) dev.interrupts.disable();
  }
}

if (isMain(import.meta.url)) await runMain(() => main(process.argv[2]));
