/**
 * A model with more MSI-X vectors than one vfio-user message may carry descriptors for (24; a
 * server takes 16), for the tests of how a client hands over that many eventfds. A write of N
 * to BAR0 offset 0 raises vector N.
 */
import type { DeviceModel } from '../../src/index.js';

export const VECTORS = 24;

export function vectorsModel(): DeviceModel {
  return {
    name: 'vectors model',
    identity: { vendorId: 0x1234, deviceId: 0x0024, classCode: 0x00ff00 },
    bars: [
      { size: 0x1000, write: (offset, _width, value, ctx) => void (offset === 0 && ctx.interrupt(Number(value))) },
      { size: 0x1000 }, // the MSI-X table and PBA: the client's to fill
    ],
    interrupts: { msix: { vectors: VECTORS, tableBar: 1, tableOffset: 0, pbaBar: 1, pbaOffset: 0x800 } },
  };
}
