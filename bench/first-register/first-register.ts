/**
 * Time to first register with the library from its TypeScript sources (`node --import tsx`):
 * open edu, print its identification register (0x010000ed). The way into VFIO is the library's
 * default, which bench/first-register.ts sets through VFIO_TS_IOMMU.
 *
 *   node --import tsx bench/first-register/first-register.ts BDF
 */
import { openDevice } from '../../src/index.js';

const dev = openDevice(process.argv[2]);
console.log(`0x${dev.bar(0).read32(0x00).toString(16).padStart(8, '0')}`);
dev.close();
