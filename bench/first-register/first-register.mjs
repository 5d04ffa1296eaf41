// Time to first register with the installed package (its compiled dist/), as a user's script
// runs it: bench/first-register.ts copies this file into a project whose node_modules holds
// vfio-ts as `npm install` put it. Prints edu's identification register (0x010000ed).
//
//   node first-register.mjs BDF
import { openDevice } from 'vfio-ts';

const dev = openDevice(process.argv[2]);
console.log(`0x${dev.bar(0).read32(0x00).toString(16).padStart(8, '0')}`);
dev.close();
